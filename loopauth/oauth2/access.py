"""OAuth 2.0's :class:`~loopauth.access.Access`: the access token as a bearer (RFC 6750 §2.1), refreshed under the
profile's lock when it is due and once after a 401, revoked by RFC 7009.

Imports only the interface and the values: the refresh (and its HTTP client) is loaded when a token is due.
"""

from __future__ import annotations

import time
from collections.abc import Mapping

from ..access import Access, Form
from ..errors import ProviderError, UsageError
from ..models import PROTOCOL_LABELS, OAuth2Credentials, OAuth2Provider

TYPE_CHECKING = False  # not typing's: `loopauth token` imports this module
if TYPE_CHECKING:
    from ..http import Request
    from ..loopback.options import LoginOptions
    from ..store import CredentialStore

ENV_FIELDS = ("access_token", "token_type", "expires_at", "scope", "client_id", "user_id", "username")


def bearer_request(
    creds: OAuth2Credentials,
    method: str,
    url: str,
    *,
    headers: Mapping[str, str] | None = None,
    body: bytes | None = None,
) -> Request:
    """A request carrying the profile's access token (RFC 6750 §2.1): the one place the header is written."""
    from ..http import Request

    return Request(method.upper(), url, {**(headers or {}), "Authorization": f"Bearer {creds.access_token}"}, body)


class OAuth2Access(Access):
    """An OAuth 2.0 login: a bearer that expires, is refreshed, and earns one retry after a 401."""

    protocol = "oauth2"
    label = PROTOCOL_LABELS["oauth2"]
    carries = "a bearer token"
    env_fields = ENV_FIELDS
    signs_form = False
    expires = True

    credentials: OAuth2Credentials

    def __init__(self, credentials: OAuth2Credentials) -> None:
        self.credentials = credentials

    @property
    def endpoints(self) -> OAuth2Provider:
        return self.credentials.endpoints

    @property
    def secrets(self) -> tuple[str | None, ...]:
        c = self.credentials
        return (c.client_secret, c.access_token, c.refresh_token)

    @property
    def bearer(self) -> str:
        return self.credentials.access_token

    @property
    def id_token(self) -> str | None:
        return self.credentials.id_token

    @property
    def provider_urls(self) -> tuple[str, ...]:
        e = self.credentials.endpoints
        return tuple(url for url in (e.authorize_url, e.token_url, e.revoke_url, e.verify_url) if url)

    def authorize(self, method: str, url: str, *, form: Form = (), headers: Mapping[str, str] | None = None) -> Request:
        """The bearer; the URL and any body go out as they are (a bearer does not depend on the request)."""
        method = method.upper()
        if not form:
            return bearer_request(self.credentials, method, url, headers=headers)
        if method in ("GET", "HEAD"):
            raise UsageError(f"{method} requests cannot carry form parameters; put them in the URL's query")
        from ..urls import FORM_CONTENT_TYPE, form_encode

        headers = {**(headers or {}), "Content-Type": FORM_CONTENT_TYPE}
        return bearer_request(self.credentials, method, url, headers=headers, body=form_encode(form).encode("utf-8"))

    def revoke_requests(self) -> list[Request]:
        """RFC 7009: the refresh token first (which ends its access tokens too at most providers), then the
        access token."""
        c = self.credentials
        if not c.endpoints.revoke_url:
            return []
        from .messages import revoke_requests

        return revoke_requests(
            c.endpoints,
            client_id=c.client_id,
            client_secret=c.client_secret,
            access_token=c.access_token,
            refresh_token=c.refresh_token,
        )

    def retry_after(self, status: int, said: str = "") -> bool:
        # The provider may end a token before its time (a revoked grant, a rotated key): one forced refresh. Some
        # resource servers (django-oauth-toolkit's protected views) answer 403 instead: when the token's expiry is
        # unknown and it can be refreshed, a 403 that is not insufficient_scope (a new token would have the same
        # scopes) counts too.
        if status == 401:
            return True
        c = self.credentials
        return status == 403 and c.expires_at is None and bool(c.refresh_token) and "insufficient_scope" not in said

    def refreshed(self, store: CredentialStore, *, force: bool = False) -> OAuth2Credentials:
        c = self.credentials
        if not (force or c.needs_login or c.due(time.time())):
            return c  # one clock read: `loopauth token` loads no refresh code for a token with life left
        from .refresh import fresh

        return fresh(store, c, force=force)

    def sent_with(self, authorization: str) -> OAuth2Credentials | None:
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token:
            return None
        return self.credentials.replace(access_token=token)

    def library_keywords(self, library: str, *, token_secret: str) -> dict[str, str]:
        return {"bearer_token": self.credentials.access_token}

    def relogin_options(self, options: LoginOptions) -> LoginOptions:
        """The profile's endpoints and client, its scopes where ``options`` give none."""
        from dataclasses import replace

        stored = self.credentials
        client_id = options.client_id or stored.client_id
        client_secret = options.client_secret
        if client_secret is None and client_id == stored.client_id:
            client_secret = stored.client_secret
        scopes = options.scopes
        if scopes is None and not stored.endpoints.scopes and stored.scope:
            # A profile from before loopauth kept the scopes asked for (its endpoints' scopes) has the granted ones.
            scopes = stored.scope
        return replace(
            options, provider=stored.endpoints, client_id=client_id, client_secret=client_secret, scopes=scopes
        )

    @property
    def expires_at(self) -> int | None:
        return self.credentials.expires_at

    @property
    def due_at(self) -> float | None:
        return self.credentials.due_at

    @property
    def can_refresh(self) -> bool:
        return bool(self.credentials.refresh_token)

    @property
    def refresh_refused(self) -> bool:
        return self.credentials.needs_login

    def renewed(self) -> OAuth2Credentials:
        from .refresh import DeadGrant, Unspent, renew

        try:
            return renew(self.credentials)
        except Unspent as exc:
            raise exc.error from None
        except DeadGrant as exc:
            raise ProviderError(
                f"the access token has expired, and the provider refused the refresh token ({exc.code})"
            ) from None

    @property
    def refresh_in_doubt(self) -> bool:
        return self.credentials.refreshing

    def due(self, now: float) -> bool:
        return self.credentials.due(now)
