"""The manual OAuth 1.0a flow, with python-twitter-v2's vocabulary: for when you handle the redirect yourself.

:class:`Flow` (await its methods) and :class:`SyncFlow` (the same, blocking, for a REPL or a
script) resolve their provider and consumer exactly as ``loopauth.login()`` does, and drive the
same :class:`~loopauth.oauth1.dance.OAuth1Dance`, so a profile saved from a flow signs later
calls the way the flow did (its signature method, its RSA key file).
"""

from __future__ import annotations

from collections.abc import Mapping

from ..errors import UsageError
from ..http import REQUEST_TIMEOUT, Client
from ..loopback.background import run_blocking
from ..loopback.dance import approved
from ..models import AnyProvider, Credentials, Provider, RequestToken
from ..providers import resolve_provider, twitter_authorize_params
from ..store import CredentialStore, validate_profile_name
from .dance import OAuth1Dance


class _Manual:
    """What both flows share: the constructor, the state, and the two provider calls, blocking."""

    def __init__(
        self,
        consumer_key: str,
        consumer_secret: str | None,
        *,
        provider: AnyProvider | str = "twitter",
        callback_uri: str = "https://localhost/",
        authorize_params: Mapping[str, str] | None = None,
        request_token_params: Mapping[str, str] | None = None,
        force_login: bool = False,
        screen_name: str | None = None,
        signature_method: str | None = None,
        rsa_key_file: str | None = None,
        request_token: RequestToken | None = None,
        store: CredentialStore | None = None,
    ) -> None:
        store = store or CredentialStore()
        twitter = twitter_authorize_params(force_login=force_login, screen_name=screen_name)
        params = {**(authorize_params or {}), **twitter}
        self._dance = OAuth1Dance.create(
            resolve_provider(provider, store.root),
            consumer_key=consumer_key,
            consumer_secret=consumer_secret,
            signature_method=signature_method,
            rsa_key_file=rsa_key_file,
            authorize_params=params,
            request_token_params=request_token_params,
        )
        self._dance.request_token = request_token
        self.callback_uri = callback_uri
        self.auth_user_id: str | None = None
        self.screen_name: str | None = None

    @property
    def provider(self) -> Provider:
        return self._dance.provider

    @property
    def request_token(self) -> RequestToken | None:
        """The pending request token between :meth:`get_authorize_url` and :meth:`generate_access_token`."""
        return self._dance.request_token

    def _get_authorize_url(self) -> str:
        with Client() as client:
            return self._dance.begin(client, self.callback_uri, timeout=REQUEST_TIMEOUT)

    def _generate_access_token(self, response: str) -> dict[str, str]:
        if self._dance.request_token is None:
            raise UsageError("call get_authorize_url() first: there is no request token to exchange")
        code = approved(self._dance.match_pasted(response, bare=True))
        with Client() as client:
            creds = self._dance.finish(client, code, profile="default", timeout=REQUEST_TIMEOUT)
        self.auth_user_id = creds.user_id
        self.screen_name = creds.screen_name
        return {
            "oauth_token": creds.oauth_token,
            "oauth_token_secret": creds.oauth_token_secret,
            "user_id": creds.user_id or "",
            "screen_name": creds.screen_name or "",
        }

    def credentials(self, tokens: Mapping[str, str], *, profile: str = "default") -> Credentials:
        """The :class:`Credentials` for tokens from :meth:`generate_access_token`, ready to ``save``."""
        return self._dance.credentials(tokens, profile=validate_profile_name(profile))


class SyncFlow(_Manual):
    """The seed's manual 3-legged flow, blocking: ``get_authorize_url()``, then ``generate_access_token(url)``.

    ``url = flow.get_authorize_url()``; let the user open it; then ``tokens =
    flow.generate_access_token(response=redirect_url)`` with the URL the browser landed on, or
    just the verifier / PIN. ``flow.credentials(tokens)`` is the profile to ``CredentialStore().save()``.
    Works anywhere, a running event loop (Jupyter) included: the provider calls simply block.

    Between two web requests, keep ``flow.request_token`` (its secret included: store it
    server-side) and give it back as ``request_token=`` to a new flow.
    """

    def get_authorize_url(self) -> str:
        """Fetch a request token and return the provider's authorize URL for it."""
        return self._get_authorize_url()

    def generate_access_token(self, response: str) -> dict[str, str]:
        """Exchange the redirect URL (or the bare verifier or PIN) for the access token.

        Returns ``oauth_token``, ``oauth_token_secret``, ``user_id`` and ``screen_name``.
        """
        return self._generate_access_token(response)


class Flow(_Manual):
    """:class:`SyncFlow` for async code: the same constructor, and ``await`` on the two provider calls."""

    async def get_authorize_url(self) -> str:
        """Fetch a request token (in a worker thread) and return the provider's authorize URL for it."""
        return await run_blocking(self._get_authorize_url).wait()

    async def generate_access_token(self, response: str) -> dict[str, str]:
        """Exchange the redirect URL (or the bare verifier or PIN) for the access token, in a worker thread.

        Returns ``oauth_token``, ``oauth_token_secret``, ``user_id`` and ``screen_name``.
        """
        return await run_blocking(lambda: self._generate_access_token(response)).wait()
