"""What a stored login can do once it is made: the :class:`Access` interface, one per protocol.

The login has its interface (:class:`loopauth.loopback.dance.Dance`); this is the one after it. A profile's
credentials get one :class:`Access` from :func:`loopauth.protocols.access_for`, the only place that asks which
protocol a login speaks. Everything that uses a login goes through it, without asking again:
``loopauth.calls`` (``header``, ``request``, ``verify``, ``logout --revoke``), the HTTP-client adapters of
``loopauth.auth``, the Twitter library keywords of ``loopauth.kwargs``, ``loopauth token``/``exec`` (the
fields a tool may see), ``loopauth status`` (the token's life) and the credential helpers of
``loopauth.credential`` (the bearer, the ID token, the provider's hosts). A new protocol, or a new shell over the
store, adds or uses an Access instead of another branch.

The implementations live with their protocols (``loopauth.oauth1.access``, ``loopauth.oauth2.access``) and
import their heavier parts (oauthlib, the refresh) only when a method needs them: ``loopauth token`` reads
:attr:`Access.env_fields` at every start. For the same reason this is an ABC, not a ``typing.Protocol``:
``abc`` is loaded with Python itself, ``typing`` is not.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence

from .errors import ProviderError, UsageError

TYPE_CHECKING = False  # not typing's: see loopauth.models
if TYPE_CHECKING:
    from typing import ClassVar

    from .http import Client, Request, Response
    from .loopback.options import LoginOptions
    from .models import AnyCredentials, AnyProvider
    from .store import CredentialStore

Form = Sequence[tuple[str, str]]


class Access(ABC):
    """One stored login of one protocol: how it authorizes a request, is refreshed, revoked, shown and named.

    Made by :func:`loopauth.protocols.access_for`; immutable, like the credentials it wraps (a refresh gives new
    credentials, and ``access_for`` a new Access for them).
    """

    protocol: ClassVar[str]
    """The ``protocol`` field of a profile file: ``"oauth1"`` or ``"oauth2"``."""
    label: ClassVar[str]
    """How a person reads the protocol's name: ``"OAuth 1.0a"``, ``"OAuth 2.0"``."""
    env_fields: ClassVar[tuple[str, ...]]
    """The fields of :meth:`~loopauth.models.Credentials.token_dict` that ``loopauth token --env`` and ``exec``
    hand to a tool, in that order (never a refresh token)."""
    expires: ClassVar[bool]
    """Whether the protocol's tokens expire (and may be refreshed); OAuth 1.0a tokens last until revoked."""
    carries: ClassVar[str]
    """What a request it authorizes carries, as an error names it: ``"a bearer token"``."""
    signs_form: ClassVar[bool]
    """Whether a form body takes part in the authorization (an OAuth 1.0a signature), so an adapter must hand it
    over; a bearer does not depend on the request."""

    credentials: AnyCredentials

    @property
    @abstractmethod
    def endpoints(self) -> AnyProvider | None:
        """The provider's endpoints the login uses (None: an old OAuth 1.0a file of an unknown provider)."""

    @property
    def verify_url(self) -> str | None:
        endpoints = self.endpoints
        return endpoints.verify_url if endpoints is not None else None

    @property
    @abstractmethod
    def secrets(self) -> tuple[str | None, ...]:
        """Every secret of the login, for a trace to redact wherever it appears."""

    @abstractmethod
    def authorize(self, method: str, url: str, *, form: Form = (), headers: Mapping[str, str] | None = None) -> Request:
        """``method url`` with ``headers`` and ``form`` (sent as an ``application/x-www-form-urlencoded`` body),
        authorized: the request to send, URL included (OAuth 1.0a puts ``url`` in loopauth's encoding, the
        bytes its signature covers; a bearer leaves it as given). UsageError for a request it cannot authorize."""

    @abstractmethod
    def revoke_requests(self) -> list[Request]:
        """The provider calls that end this login's tokens, in order; none when the provider has no revoke
        endpoint."""

    @abstractmethod
    def retry_after(self, status: int, said: str = "") -> bool:
        """Whether an answer with ``status`` (and ``said``: its ``WWW-Authenticate`` and body, where known) earns the
        request one retry after a forced refresh."""

    @abstractmethod
    def refreshed(self, store: CredentialStore, *, force: bool = False) -> AnyCredentials:
        """The credentials to use now: these, or a refresh of them under the profile's lock when they are due (or
        ``force``: the provider ended them early). NotLoggedIn when only a new login can help."""

    def renewed(self) -> AnyCredentials:
        """These credentials after one refresh at the provider, saved nowhere (``loopauth add``, before it stores
        them): ProviderError when the provider will not renew them."""
        raise UsageError(f"{self.label} tokens cannot be refreshed")

    @abstractmethod
    def sent_with(self, authorization: str) -> AnyCredentials | None:
        """The credentials an ``Authorization`` value that the provider rejected was made with, for
        :meth:`refreshed` to replace; None when a refresh cannot help."""

    @abstractmethod
    def library_keywords(self, library: str, *, token_secret: str) -> dict[str, str]:
        """The login as keyword arguments of a Twitter client library (``token_secret`` is that library's name
        for an OAuth 1.0a token secret); UsageError when the library cannot use it."""

    @abstractmethod
    def relogin_options(self, options: LoginOptions) -> LoginOptions:
        """``options`` completed to log in again as this profile, where they say nothing else: its provider and
        endpoints, and its app (a stored secret goes with its stored key or id only)."""

    @property
    @abstractmethod
    def bearer(self) -> str | None:
        """The token a tool that cannot sign sends as it is (a git password, a kubectl or registry token); None when
        every request must be signed."""

    @property
    @abstractmethod
    def id_token(self) -> str | None:
        """The login's OpenID Connect ID token (what Kubernetes' OIDC authenticator checks), when it has one."""

    @property
    @abstractmethod
    def provider_urls(self) -> tuple[str, ...]:
        """The provider's URLs the login talks to, the ones given: their hosts are the provider's, where a tool may
        send :attr:`bearer` without being told."""

    @property
    def expires_at(self) -> int | None:
        """When the access token expires (seconds since the epoch), if it does and the provider said."""
        return None

    @property
    def due_at(self) -> float | None:
        """When the access token falls due (seconds since the epoch), so that its next use refreshes it first:
        None when it does not expire or the provider did not say."""
        return None

    @property
    def can_refresh(self) -> bool:
        """Whether a refresh token is there to renew an expired access token."""
        return False

    @property
    def refresh_refused(self) -> bool:
        """Whether the provider refused the last refresh, so the login hands out nothing until a new one."""
        return False

    @property
    def refresh_in_doubt(self) -> bool:
        """Whether the last refresh's outcome is unknown (marked in flight, never settled): its refresh token may be
        spent, so loopauth does not send it again."""
        return False

    def due(self, now: float) -> bool:
        """Whether the access token is expired or about to be, so the next use refreshes it first."""
        return False

    def needs_login(self, now: float) -> bool:
        """Whether only a new login can make this profile work."""
        return self.refresh_refused or (self.due(now) and (not self.can_refresh or self.refresh_in_doubt))

    def revoke(self, client: Client, *, timeout: float) -> None:
        """End the login's tokens at the provider: UsageError when it has no revoke endpoint, ProviderError for
        the first call it refuses."""
        calls = self.revoke_requests()
        if not calls:
            creds = self.credentials
            raise UsageError(
                f"provider {creds.provider!r} of profile '{creds.profile}' has no revoke endpoint: revoke the app's "
                "access in the provider's settings, then log out without revoking"
            )
        for call in calls:
            response = client.send(call, timeout=timeout)
            if not response.ok:
                raise self.failure("revoke", response)

    def discard(self, client: Client, *, timeout: float) -> bool:
        """Revoke tokens that could not be stored, as far as the provider lets: whether every call succeeded."""
        calls = self.revoke_requests()
        revoked = bool(calls)
        for call in calls:
            try:
                revoked = client.send(call, timeout=timeout).ok and revoked
            except ProviderError:
                revoked = False
        return revoked

    def failure(self, step: str, response: Response) -> ProviderError:
        """A provider's refusal of ``step`` with this login, in one line (a 401: log in again)."""
        from .text import provider_message
        from .trace import echo_free

        text = echo_free(response)
        said = provider_message(response.content_type, text)
        message = f"{step} failed: {self.credentials.provider} answered {response.status}: {said}"
        if response.status == 401:
            message += "; the token may be revoked or expired: log in again"
        return ProviderError(message, status=response.status, body=text)
