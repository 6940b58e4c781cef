"""OAuth 1.0a's :class:`~loopauth.access.Access`: every request signed (RFC 5849 §3) with the profile's consumer,
its signature method and, for RSA-SHA1, its key file; tokens that last until revoked.

Imports only the interface and the values: signing (and oauthlib) is loaded by the first request it signs.
"""

from __future__ import annotations

from collections.abc import Mapping

from ..access import Access, Form
from ..errors import UsageError
from ..models import PROTOCOL_LABELS, Credentials, Provider

TYPE_CHECKING = False  # not typing's: `loopauth token` imports this module
if TYPE_CHECKING:
    from ..http import Request
    from ..loopback.options import LoginOptions
    from ..store import CredentialStore
    from .consumer import Consumer

ENV_FIELDS = ("consumer_key", "consumer_secret", "oauth_token", "oauth_token_secret", "user_id", "screen_name")


def endpoints_of(creds: Credentials) -> Provider | None:
    """The endpoints stored with an OAuth 1.0a profile, or (for an older file without them) its preset's."""
    if creds.endpoints is not None:
        return creds.endpoints
    from ..providers import ALIASES, PRESETS

    preset = PRESETS.get(ALIASES.get(creds.provider.lower(), creds.provider.lower()))
    return preset if isinstance(preset, Provider) else None


class OAuth1Access(Access):
    """An OAuth 1.0a login: signs, never refreshes (a 401 means the token was revoked: log in again)."""

    protocol = "oauth1"
    label = PROTOCOL_LABELS["oauth1"]
    carries = "an OAuth 1.0a signature"
    env_fields = ENV_FIELDS
    signs_form = True
    expires = False

    credentials: Credentials

    def __init__(self, credentials: Credentials) -> None:
        self.credentials = credentials

    @property
    def endpoints(self) -> Provider | None:
        return endpoints_of(self.credentials)

    @property
    def secrets(self) -> tuple[str | None, ...]:
        c = self.credentials
        return (c.consumer_key, c.consumer_secret, c.oauth_token, c.oauth_token_secret)

    @property
    def bearer(self) -> None:
        return None  # every request carries a signature of its own

    @property
    def id_token(self) -> None:
        return None

    @property
    def provider_urls(self) -> tuple[str, ...]:
        e = self.endpoints
        if e is None:
            return ()
        urls = (e.request_token_url, e.authorize_url, e.access_token_url, e.verify_url, e.revoke_url)
        return tuple(url for url in urls if url)

    def consumer(self) -> Consumer:
        """How this profile signs: its consumer, its signature method and, for RSA-SHA1, its key (read now)."""
        from .consumer import consumer_for

        c = self.credentials
        return consumer_for(
            c.consumer_key, c.consumer_secret, signature_method=c.signature_method, rsa_key_file=c.rsa_key_file
        )

    def authorize(self, method: str, url: str, *, form: Form = (), headers: Mapping[str, str] | None = None) -> Request:
        """Signed over the URL in loopauth's encoding, its query and ``form`` (RFC 5849 §3.4.1.3)."""
        from ..urls import normalize_url
        from .signing import sign

        return sign(
            method,
            normalize_url(url),
            self.consumer(),
            token=self.credentials.oauth_token,
            token_secret=self.credentials.oauth_token_secret,
            form=list(form) or None,
            headers=dict(headers or {}),
        )

    def revoke_requests(self) -> list[Request]:
        """Twitter's signed POST /1.1/oauth/invalidate_token, or whatever ``revoke_url`` the provider has."""
        endpoints = self.endpoints
        if endpoints is None or not endpoints.revoke_url:
            return []
        return [self.authorize("POST", endpoints.revoke_url)]

    def retry_after(self, status: int, said: str = "") -> bool:
        return False

    def refreshed(self, store: CredentialStore, *, force: bool = False) -> Credentials:
        return self.credentials

    def sent_with(self, authorization: str) -> None:
        return None

    def library_keywords(self, library: str, *, token_secret: str) -> dict[str, str]:
        """The consumer and the token pair; the Twitter libraries sign with HMAC-SHA1 only."""
        c = self.credentials
        if c.signature_method != "HMAC-SHA1":
            raise UsageError(
                f"{library} signs OAuth 1.0a with HMAC-SHA1 only, and profile '{c.profile}' signs with "
                f"{c.signature_method}: use loopauth.auth.requests() or loopauth.auth.httpx() instead"
            )
        return {
            "consumer_key": c.consumer_key,
            "consumer_secret": c.consumer_secret,
            "access_token": c.oauth_token,
            token_secret: c.oauth_token_secret,
        }

    def relogin_options(self, options: LoginOptions) -> LoginOptions:
        """The profile's endpoints and consumer, its signature method and key file where ``options`` give none."""
        from dataclasses import replace

        stored = self.credentials
        key = options.consumer_key or stored.consumer_key
        secret = options.consumer_secret
        if secret is None and key == stored.consumer_key:
            secret = stored.consumer_secret
        method = options.signature_method
        if method is None and options.rsa_key_file is None:
            method = stored.signature_method
        rsa_key_file = options.rsa_key_file
        if rsa_key_file is None and method == "RSA-SHA1":
            rsa_key_file = stored.rsa_key_file
        return replace(
            options,
            provider=self.endpoints or stored.provider,
            consumer_key=key,
            consumer_secret=secret,
            signature_method=method,
            rsa_key_file=rsa_key_file,
        )
