"""Calls with a stored profile: ``header``, ``request``, ``verify`` and ``logout --revoke``, for both protocols.

Each profile's :class:`~loopauth.access.Access` authorizes: OAuth 1.0a profiles sign each request (their
consumer, signature method and key file); OAuth 2.0 profiles send their access token as a bearer, refreshed
first when it is due, and once more after a 401 (the provider may have ended the token early). Blocking, over
:class:`loopauth.http.Client`: no event loop and no aiohttp, so ``loopauth header`` and ``loopauth request``
start fast.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from .errors import UsageError
from .http import REQUEST_TIMEOUT, Client, Request, Response, Trace
from .identity import account_of
from .models import AnyCredentials
from .protocols import access_for
from .store import CredentialStore
from .text import parse_json
from .urls import normalize_url, refuse_plain_http


class Identity(NamedTuple):
    """Who the provider says a profile's token belongs to (cleaned of control characters).

    A NamedTuple, not a dataclass: ``loopauth header`` imports this module, and dataclasses brings inspect."""

    screen_name: str | None
    user_id: str | None
    response: Any


def sign_for(
    creds: AnyCredentials,
    method: str,
    url: str,
    *,
    form: Sequence[tuple[str, str]] = (),
    headers: Mapping[str, str] | None = None,
) -> Request:
    """The request with the profile's authorization, for the URL exactly as it will be sent.

    OAuth 1.0a signs the query and the form (RFC 5849 §3.4.1.3); OAuth 2.0 adds its bearer token
    (RFC 6750 §2.1), which it must already have refreshed (:func:`loopauth.fresh.load_fresh`).
    """
    access = access_for(creds)
    url = normalize_url(url)
    refuse_plain_http(url, access.carries)
    return access.authorize(method, url, form=form, headers=headers)


def request(
    creds: AnyCredentials,
    method: str,
    url: str,
    *,
    form: Sequence[tuple[str, str]] = (),
    headers: Mapping[str, str] | None = None,
    body: bytes | None = None,
    timeout: float = REQUEST_TIMEOUT,
    trace: Trace | None = None,
    store: CredentialStore | None = None,
    refresh_on_401: bool = True,
) -> Response:
    """Make one authorized request and return the answer whatever its status (no answer: ProviderError).

    ``body`` is sent as it is and, like any body that is not a form, not signed (RFC 5849 §3.4.1.3).
    An OAuth 2.0 request that gets a 401 (or a 403 that may mean the same: ``Access.retry_after``) is sent once
    more after a forced refresh of the stored profile, never more; ``refresh_on_401=False`` returns the answer
    (for credentials that are not stored yet: ``loopauth add``).
    """
    if body is not None and form:
        raise UsageError("a request has form parameters or a body, not both")
    with Client(trace=trace) as client:
        response = _send(client, creds, method, url, form, headers, body, timeout)
        if refresh_on_401 and access_for(creds).retry_after(response.status, _said(response)):
            from .fresh import load_fresh

            creds = load_fresh(creds.profile, store, force=True)
            response = _send(client, creds, method, url, form, headers, body, timeout)
        return response


def _said(response: Response) -> str:
    """What an answer says about why it refused: its ``WWW-Authenticate`` and the start of its body."""
    if response.status not in (401, 403):
        return ""
    return (response.header("WWW-Authenticate") or "") + " " + response.text()[:2000]


def _send(
    client: Client,
    creds: AnyCredentials,
    method: str,
    url: str,
    form: Sequence[tuple[str, str]],
    headers: Mapping[str, str] | None,
    body: bytes | None,
    timeout: float,
) -> Response:
    signed = sign_for(creds, method, url, form=form, headers=headers)
    if body is not None:
        signed = Request(signed.method, signed.url, signed.headers, body)
    return client.send(signed, timeout=timeout)


def verify(
    creds: AnyCredentials,
    *,
    timeout: float = REQUEST_TIMEOUT,
    trace: Trace | None = None,
    store: CredentialStore | None = None,
    refresh_on_401: bool = True,
) -> Identity:
    """Call the provider's verify endpoint: who the token belongs to (``refresh_on_401``: see :func:`request`)."""
    access = access_for(creds)
    url = access.verify_url
    if not url:
        raise UsageError(
            f"provider {creds.provider!r} of profile '{creds.profile}' has no verify endpoint "
            "(set verify_url in providers.toml, or log in with a verify URL)"
        )
    response = request(creds, "GET", url, timeout=timeout, trace=trace, store=store, refresh_on_401=refresh_on_401)
    if not response.ok:
        raise access.failure("verify", response)
    try:
        data: Any = parse_json(response.text())
    except ValueError:
        return Identity(None, None, response.text())
    return Identity(*account_of(data), data)


def revoke(creds: AnyCredentials, *, timeout: float = REQUEST_TIMEOUT, trace: Trace | None = None) -> None:
    """Ask the provider to invalidate the profile's tokens (:meth:`loopauth.access.Access.revoke_requests`).

    UsageError when the provider has no revoke endpoint, ProviderError for the first call it refuses.
    """
    with Client(trace=trace) as client:
        access_for(creds).revoke(client, timeout=timeout)
