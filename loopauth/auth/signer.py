"""What every HTTP-client adapter shares: one profile's authorization for a request a library has built.

The adapters (:mod:`.requests_auth`, :mod:`.httpx_auth`, :mod:`.aiohttp_auth`) hand over the request
*as the library will send it*: its method, its URL after the library encoded it, and its body. The
profile's :class:`~loopauth.access.Access` authorizes it, as it does for ``loopauth request``, so there is no
second reading of RFC 5849 or 6750 here. Standard library and loopauth only: no HTTP client is imported.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ..errors import UsageError
from ..fresh import load_fresh
from ..models import AnyCredentials
from ..protocols import access_for
from ..store import CredentialStore
from ..urls import FORM_CONTENT_TYPE, refuse_plain_http

Form = Sequence[tuple[str, str]]


@dataclass(frozen=True)
class Authorized:
    """One request's authorization: the credentials used, the URL to send and the ``Authorization`` value.

    ``url`` is the library's own URL, except for an OAuth 1.0a signature when loopauth encodes it
    differently (httpx leaves ``[ ] | ^ { }`` raw): then it is loopauth's encoding, the same resource,
    which the adapter puts on the request, so that what is signed is what goes on the wire.
    """

    credentials: AnyCredentials
    url: str
    authorization: str


class ProfileSigner:
    """Authorizes requests with one profile, read from the store at every request.

    The profile is fixed when the signer is made (the active one when ``profile`` is None). Each
    request reads it again, so a new login, or a token another process rotated, is used at once; an
    OAuth 2.0 token that is due is refreshed first, under the profile's lock (:func:`load_fresh`).
    """

    def __init__(self, profile: str | None = None, store: CredentialStore | None = None) -> None:
        self.store = store or CredentialStore()
        self.profile = self.store.resolve(profile)
        # NotLoggedIn when the auth object is made, not at its first request; no refresh yet.
        self.store.load(self.profile)

    def current(self) -> AnyCredentials:
        """The profile as it is now, an OAuth 2.0 token refreshed first when it is due."""
        return load_fresh(self.profile, self.store)

    def authorize(
        self, method: str, url: str, *, form: Form = (), credentials: AnyCredentials | None = None
    ) -> Authorized:
        """Authorize ``method url`` (with ``form`` as its decoded form body), with ``credentials`` or the
        profile's current ones."""
        creds = credentials if credentials is not None else self.current()
        access = access_for(creds)
        refuse_plain_http(url, access.carries)
        # Only the Authorization header (and URL) is taken: the body goes out as the library made it.
        authorized = access.authorize(method, url, form=form if access.signs_form else ())
        return Authorized(creds, authorized.url, authorized.headers["Authorization"])

    def after_401(self, rejected: AnyCredentials) -> AnyCredentials | None:
        """The credentials for the one retry a 401 earns, or None when a retry cannot help (OAuth 1.0a).

        ``rejected`` are the credentials the provider refused. Under the profile's lock the file is read
        again: when another process has rotated the token meanwhile, its token is used and nothing is
        refreshed; otherwise the token is refreshed even though it is not due (the provider ended it early).
        Raises NotLoggedIn when only a new login can help, ProviderError when the provider cannot be reached.
        """
        access = access_for(rejected)
        return access.refreshed(self.store, force=True) if access.retry_after(401) else None


def form_params(content_type: str | bytes | None, body: object) -> list[tuple[str, str]]:
    """The parameters of a request body that RFC 5849 §3.4.1.3 signs: those of an
    ``application/x-www-form-urlencoded`` body, decoded as an OAuth 1.0a server decodes them; none otherwise.

    Raises UsageError for a form body that cannot be signed: streamed (not in memory), or not form-encoded.
    """
    if isinstance(content_type, bytes):  # requests lets a header value be bytes
        content_type = content_type.decode("latin-1")
    if (content_type or "").split(";")[0].strip().lower() != FORM_CONTENT_TYPE or body is None:
        return []
    if not isinstance(body, str | bytes):
        raise UsageError("cannot sign a streamed form body: give the form as a dict or a list of pairs")
    from oauthlib.common import urldecode

    try:
        text = body.decode("ascii") if isinstance(body, bytes) else body
        # oauthlib's own decoder: the one its server (and so the demo provider) reads the body with.
        return [(str(name), str(value)) for name, value in urldecode(text)]
    except (UnicodeDecodeError, ValueError):
        # Not the decoder's message: it quotes the body, which may hold a secret.
        raise UsageError(
            "cannot sign this request: its body says application/x-www-form-urlencoded but is not "
            "percent-encoded ASCII (RFC 5849 §3.4.1.3)"
        ) from None
