"""The manual OAuth 2.0 flow, in python-twitter-v2's vocabulary, for when you handle the redirect yourself.

Coming from pytwitter? Where you wrote::

    api = pytwitter.Api(client_id=ID, oauth_flow=True, callback_uri=URI, scopes=[...])
    url, code_verifier, state = api.get_oauth2_authorize_url()
    token = api.generate_oauth2_access_token(response=redirect_url, code_verifier=code_verifier)

write::

    flow = loopauth.SyncFlow2(ID, callback_uri=URI, scopes=[...])      # or provider="x-oauth2", the default
    url = flow.get_authorize_url()                                      # the flow keeps the verifier and state
    tokens = flow.generate_access_token(response=redirect_url)         # checks the state for you
    loopauth.CredentialStore().save(flow.credentials(profile="x"))     # then loopauth.load("x") refreshes

and every later ``loopauth.load("x")`` hands out a token with life left, refreshed once for all the
tools that read the profile. :class:`Flow2` is the same with ``await``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ..errors import UsageError
from ..http import REQUEST_TIMEOUT, Client
from ..loopback.background import run_blocking
from ..loopback.dance import approved
from ..models import AnyProvider, OAuth2Credentials, OAuth2Provider
from ..providers import resolve_provider
from ..store import CredentialStore, validate_profile_name
from .dance import OAuth2Dance


class _Manual2:
    """What both flows share: the constructor, the state, and the two steps, blocking."""

    def __init__(
        self,
        client_id: str,
        client_secret: str | None = None,
        *,
        provider: AnyProvider | str = "x-oauth2",
        callback_uri: str = "http://127.0.0.1:8470/callback",
        scopes: Sequence[str] | str | None = None,
        client_auth: str | None = None,
        authorize_params: Mapping[str, str] | None = None,
        store: CredentialStore | None = None,
    ) -> None:
        store = store or CredentialStore()
        resolved = resolve_provider(provider, store.root)
        if not isinstance(resolved, OAuth2Provider):
            raise UsageError(f"{resolved.name} is an OAuth 1.0a provider: use loopauth.Flow with its consumer key")
        self._dance = OAuth2Dance.create(
            resolved,
            client_id=client_id,
            client_secret=client_secret,
            scopes=scopes,
            client_auth=client_auth,
            authorize_params=authorize_params,
        )
        self.callback_uri = callback_uri
        self._last: OAuth2Credentials | None = None

    @property
    def provider(self) -> OAuth2Provider:
        return self._dance.provider

    @property
    def auth_user_id(self) -> str | None:
        return self._last.user_id if self._last else None

    @property
    def username(self) -> str | None:
        return self._last.screen_name if self._last else None

    def _get_authorize_url(self) -> str:
        with Client() as client:
            return self._dance.begin(client, self.callback_uri, timeout=REQUEST_TIMEOUT)

    def _generate_access_token(self, response: str) -> dict[str, object]:
        if self._dance.state is None:
            raise UsageError("call get_authorize_url() first: there is no authorization to finish")
        code = approved(self._dance.match_pasted(response, bare=False))
        with Client() as client:
            self._last = self._dance.finish(client, code, profile="default", timeout=REQUEST_TIMEOUT)
        return {
            "access_token": self._last.access_token,
            "token_type": self._last.token_type,
            "expires_at": self._last.expires_at,
            "scope": self._last.scope,
            "user_id": self._last.user_id,
            "username": self._last.screen_name,
        }

    def credentials(self, *, profile: str = "default") -> OAuth2Credentials:
        """The profile for the last :meth:`generate_access_token`, refresh token included, ready to ``save``."""
        if self._last is None:
            raise UsageError("generate_access_token() has not succeeded yet: there are no credentials")
        return self._last.replace(profile=validate_profile_name(profile))


class SyncFlow2(_Manual2):
    """The manual OAuth 2.0 flow, blocking: ``get_authorize_url()``, then ``generate_access_token(url)``.

    The returned tokens leave out the refresh token on purpose: keep it in loopauth's store
    (``CredentialStore().save(flow.credentials(profile=...))``), where refreshes are shared and safe.
    """

    def get_authorize_url(self) -> str:
        """A fresh PKCE verifier and state, kept by the flow; the provider's authorize URL."""
        return self._get_authorize_url()

    def generate_access_token(self, response: str) -> dict[str, object]:
        """Exchange the URL the browser landed on (its state is checked) for the access token."""
        return self._generate_access_token(response)


class Flow2(_Manual2):
    """:class:`SyncFlow2` for async code: the same constructor, and ``await`` on the two steps."""

    async def get_authorize_url(self) -> str:
        """A fresh PKCE verifier and state, kept by the flow; the provider's authorize URL."""
        return self._get_authorize_url()

    async def generate_access_token(self, response: str) -> dict[str, object]:
        """Exchange the URL the browser landed on (in a worker thread) for the access token."""
        return await run_blocking(lambda: self._generate_access_token(response)).wait()
