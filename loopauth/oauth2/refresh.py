"""Refreshing an OAuth 2.0 profile, safely across processes: one refresh per rotation, whoever asks.

Providers such as X rotate refresh tokens: each refresh returns a new one and kills the old, and a
server that sees a rotated token again may revoke the whole login (RFC 9700 §4.14.2). Every tool
that reads a profile comes here when its token is due, and:

1. takes the profile's lock (waiting for a peer that is refreshing right now);
2. reads the file again: a peer that held the lock first has stored the new pair, so use it;
3. only if the token is still due, refreshes, and writes the new pair atomically before letting go.

So eight tools starting at once after expiry cause exactly one refresh, and no refresh token is
ever sent twice. A refusal (``invalid_grant``: revoked, expired, reused) marks the profile as
needing a login (kept, so ``list`` shows it); a network failure or a 5xx leaves it untouched (though a
refresh whose answer was lost may have spent a rotating refresh token at the provider: the message says so).
Standard library only, so ``loopauth token`` never loads aiohttp for a refresh.
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
        return _refresh(held, current)


def _refresh(held: Held, creds: OAuth2Credentials) -> OAuth2Credentials:
    if not creds.refresh_token:
        raise _relogin(creds, "its access token has expired and there is no refresh token (ask for offline access)")
    try:
        renewed = renew(creds)
    except DeadGrant as exc:
        held.save(creds.replace(needs_login=True))
        raise _relogin(creds, f"the provider refused its refresh token ({exc.code})") from None
    held.save(renewed)
    return renewed


class DeadGrant(Exception):
    """The token endpoint refused the refresh token for good (``code``: its RFC 6749 §5.2 error)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def renew(creds: OAuth2Credentials) -> OAuth2Credentials:
    """``creds`` after one refresh at the provider, saved nowhere: DeadGrant when the grant is gone, ProviderError
    for any other failure. Callers hold the profile's lock (``loopauth add`` refreshes what is not stored yet)."""
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
        # The request may have reached the provider, and only its answer been lost: a rotating refresh token is
        # then spent there while this profile still holds it.
        raise ProviderError(
            f"{exc.message}; the refresh token may have reached the provider, which may have rotated it: if the "
            "next refresh is refused, log in again",
            status=exc.status,
            body=exc.body,
        ) from None
    try:
        data = messages.parse_token_response(response, step="refresh")
    except ProviderError as exc:
        # By the error code, not the status: GitHub refuses a dead refresh token with 200.
        code = messages.error_code(exc)
        if exc.status is not None and exc.status < 500 and code in _DEAD:
            raise DeadGrant(code) from None
        raise
    id_token = creds.id_token
    if creds.id_token and isinstance(data.get("id_token"), str):
        from ..oidc.claims import check_refreshed

        check_refreshed(creds.id_token, data["id_token"])  # ProviderError: the grant was spent, nothing is saved
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


# The token endpoint's refusals that mean the grant itself is gone (RFC 6749 §5.2); anything else may pass.
# GitHub says bad_refresh_token for invalid_grant.
_DEAD = frozenset({"invalid_grant", "invalid_client", "unauthorized_client", "bad_refresh_token"})


def _relogin(creds: OAuth2Credentials, why: str) -> NotLoggedIn:
    return NotLoggedIn(f"profile '{creds.profile}' must log in again: {why}", profile=creds.profile)
