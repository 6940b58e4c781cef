"""Refreshing an OAuth 2.0 profile, safely across processes: one refresh per rotation, whoever asks.

Providers such as X rotate refresh tokens: each refresh returns a new one and kills the old, and a
server that sees a rotated token again may revoke the whole login (RFC 9700 §4.14.2). Every tool
that reads a profile comes here when its token is due, and:

1. takes the profile's lock (waiting for a peer that is refreshing right now);
2. reads the file again: a peer that held the lock first has stored the new pair, so use it;
3. only if the token is still due, marks the profile as refreshing (saved, still under the lock), sends
   the refresh, and saves the answer (which clears the mark) before letting go.

What is guaranteed: eight tools starting at once after expiry cause exactly one refresh, and loopauth
never sends a refresh token whose fate it does not know. The mark stays only when a refresh was sent
and no usable answer came back: the process was killed, the provider did not answer in time, or it
answered 200 with something loopauth refused and no refresh token it could keep. Then the provider
may have spent the token, and every later run refuses to send it (NotLoggedIn: log in again) rather
than risk the reuse that ends the login. Everything else clears it: a call that could not even
connect sent nothing; an error answer (4xx, 5xx) is taken at its word that nothing was issued; a
200 answer saves its new refresh token even when another field is refused (without one, RFC 6749
§6 says the old stays good). A refusal that ends the grant (``invalid_grant``: revoked, expired,
reused; read from the error code, not the status, since GitHub refuses with a 200) marks the profile
as needing a login (kept, so ``list`` shows it); other failures keep the tokens. A new ID token must
name the same account at the same issuer (OIDC Core §12.2); one that does not is refused, and the
refresh token it came with is not kept. Standard library only, so ``loopauth token`` never loads aiohttp for a refresh.
"""

from __future__ import annotations

import time

from ..errors import NotLoggedIn, ProviderError
from ..http import Client
from ..models import OAuth2Credentials
from ..store import CredentialStore, Held
from . import messages

REFRESH_TIMEOUT = 15.0
"""The longest a refresh call may take; peers wait for the lock a little longer than that."""
LOCK_WAIT = REFRESH_TIMEOUT + 5.0


def fresh(store: CredentialStore, creds: OAuth2Credentials, *, force: bool = False) -> OAuth2Credentials:
    """``creds`` with an access token that has life left: as they are, or refreshed under the profile's lock.

    ``force`` refreshes even a token that is not due (the provider refused it before its time).
    Raises NotLoggedIn (exit 7) when only a new login can help, ProviderError (exit 5) otherwise.
    """
    if creds.needs_login:
        raise _relogin(creds, "its last refresh was refused")
    now = time.time()
    if not force and not creds.due(now):
        return creds
    if not force and not creds.refresh_token and creds.expires_at is not None and now < creds.expires_at:
        return creds  # due, but it cannot be refreshed: it still works until it has really expired
    with store.holding(creds.profile, timeout=LOCK_WAIT) as held:
        current = held.load()
        if not isinstance(current, OAuth2Credentials):
            raise NotLoggedIn(f"profile '{creds.profile}' is no longer an OAuth 2.0 login", profile=creds.profile)
        if current.needs_login:
            raise _relogin(current, "its last refresh was refused")
        rotated = current.access_token != creds.access_token
        if rotated or not (force or current.due(time.time())):
            return current  # a peer refreshed while we waited for the lock
        if current.refreshing:
            # Marked under this lock by a run that is gone: its refresh token may be spent (see the docstring).
            raise _relogin(current, UNCERTAIN)
        return _refresh(held, current)


UNCERTAIN = (
    "its last refresh got no answer loopauth could use (interrupted, timed out or refused), so its refresh token "
    "may be spent and is not sent again"
)


def _refresh(held: Held, creds: OAuth2Credentials) -> OAuth2Credentials:
    if not creds.refresh_token:
        raise _relogin(creds, "its access token has expired and there is no refresh token (ask for offline access)")
    held.save(creds.replace(refreshing=True))  # before sending: a run killed from here on leaves the mark
    try:
        renewed = renew(creds)
    except DeadGrant as exc:
        held.save(creds.replace(needs_login=True))
        raise _relogin(creds, f"the provider refused its refresh token ({exc.code})") from None
    except Unspent as exc:
        # The refresh token is known to be good: the old one (nothing was issued), or the answer's new one.
        held.save(creds.replace(refresh_token=exc.refresh_token or creds.refresh_token))
        raise exc.error from None
    held.save(renewed)
    return renewed


class DeadGrant(Exception):
    """The token endpoint refused the refresh token for good (``code``: its RFC 6749 §5.2 error)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class Unspent(Exception):
    """A refresh that failed in a way that leaves a known good refresh token: the one sent (it never left this
    machine, or the provider answered an error, which issues nothing) or ``refresh_token``, a new one the
    provider's otherwise refused answer carried. ``error`` is what to tell the user."""

    def __init__(self, error: ProviderError, refresh_token: str | None = None) -> None:
        super().__init__(error.message)
        self.error = error
        self.refresh_token = refresh_token


def renew(creds: OAuth2Credentials) -> OAuth2Credentials:
    """``creds`` after one refresh at the provider, saved nowhere. Callers hold the profile's lock (``loopauth add``
    refreshes what is not stored yet). DeadGrant when the grant is gone; Unspent when the refresh failed but a
    good refresh token is known; ProviderError when whether the provider spent the refresh token is unknown."""
    assert creds.refresh_token
    provider = creds.endpoints
    request = messages.form_request(
        provider.token_url,
        [("grant_type", "refresh_token"), ("refresh_token", creds.refresh_token)],
        client_id=creds.client_id,
        client_secret=creds.client_secret,
        client_auth=provider.client_auth,
    )
    issued_at = int(time.time())
    try:
        with Client() as client:
            response = client.send(request, timeout=REFRESH_TIMEOUT)
    except ProviderError as exc:
        if exc.sent:
            # The request may have reached the provider and only its answer been lost: a rotating refresh token
            # is then spent there while this profile still holds it.
            raise ProviderError(f"{exc.message}; {_uncertain(creds)}", url=exc.url) from None
        raise Unspent(exc) from None  # it never left this machine: the refresh token is as good as before
    try:
        data = messages.parse_token_response(response, step="refresh")
    except messages.RefusedAnswer as exc:
        if exc.lost_refresh_token:
            raise ProviderError(f"{exc.message}; {_uncertain(creds)}", status=exc.status) from None
        # A rotated refresh token is saved, whatever else was wrong; without one the old stays good (RFC 6749 §6).
        raise Unspent(exc, exc.kept_refresh_token) from None
    except ProviderError as exc:
        # By the error code, not the status: GitHub refuses a dead refresh token with 200.
        code = messages.error_code(exc)
        if exc.status is not None and exc.status < 500 and code in _DEAD:
            raise DeadGrant(code) from None
        raise Unspent(exc) from None  # an error answer: nothing was issued, the refresh token stands
    id_token = creds.id_token
    if creds.id_token and isinstance(data.get("id_token"), str):
        from ..oidc.claims import check_refreshed

        try:
            check_refreshed(creds.id_token, data["id_token"])
        except ProviderError as exc:
            # Another account's tokens, or another issuer's (OIDC Core §12.2): none of them is kept, and the old
            # refresh token was spent to get them.
            raise ProviderError(f"{exc.message}; {_uncertain(creds)}", status=exc.status) from None
        id_token = data["id_token"]
    expires_in = data.get("expires_in")
    return creds.replace(
        id_token=id_token,
        access_token=data["access_token"],
        # RFC 6749 §6: without a new refresh token, the old one stays good.
        refresh_token=data.get("refresh_token") or creds.refresh_token,
        token_type="bearer",
        expires_at=issued_at + int(expires_in) if expires_in is not None else None,
        issued_at=issued_at,
        scope=data.get("scope") or creds.scope,
    )


def _uncertain(creds: OAuth2Credentials) -> str:
    return f"profile '{creds.profile}' must log in again: whether the provider spent its refresh token is unknown"


# The token endpoint's refusals that mean the grant itself is gone (RFC 6749 §5.2); anything else may pass.
# GitHub says bad_refresh_token for invalid_grant.
_DEAD = frozenset({"invalid_grant", "invalid_client", "unauthorized_client", "bad_refresh_token"})


def _relogin(creds: OAuth2Credentials, why: str) -> NotLoggedIn:
    return NotLoggedIn(f"profile '{creds.profile}' must log in again: {why}", profile=creds.profile)
