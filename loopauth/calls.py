"""Calls with a stored profile: ``header``, ``request``, ``verify`` and ``logout --revoke``, for both protocols.

OAuth 1.0a profiles sign each request (their consumer, signature method and key file); OAuth 2.0
profiles send their access token as a bearer, refreshed first when it is due, and once more after a
401 (the provider may have ended the token early). Blocking, over :class:`loopauth.http.Client`: no
event loop and no aiohttp, so ``loopauth header`` and ``loopauth request`` start fast.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .errors import ProviderError, UsageError
from .http import REQUEST_TIMEOUT, Client, Request, Response, Trace
from .identity import account_of
from .models import AnyCredentials, Credentials, OAuth2Credentials, Provider
from .oauth1.signing import FORM_CONTENT_TYPE, Consumer, consumer_for, form_encode, sign
from .providers import ALIASES, PRESETS
from .store import CredentialStore
from .text import provider_message
from .urls import normalize_url


@dataclass(frozen=True)
class Identity:
    """Who the provider says a profile's token belongs to (cleaned of control characters)."""

    screen_name: str | None
    user_id: str | None
    response: Any


def endpoints_of(creds: Credentials) -> Provider | None:
    """The endpoints stored with an OAuth 1.0a profile, or (for an older file without them) its preset's."""
    if creds.endpoints is not None:
        return creds.endpoints
    preset = PRESETS.get(ALIASES.get(creds.provider.lower(), creds.provider.lower()))
    return preset if isinstance(preset, Provider) else None


def consumer_of(creds: Credentials) -> Consumer:
    """How this profile signs: its consumer, its signature method and, for RSA-SHA1, its key file."""
    return consumer_for(
        creds.consumer_key,
        creds.consumer_secret,
        signature_method=creds.signature_method,
        rsa_key_file=creds.rsa_key_file,
    )


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
    url = normalize_url(url)
    if isinstance(creds, OAuth2Credentials):
        method = method.upper()
        body = None
        extra = dict(headers or {})
        if form:
            if method in ("GET", "HEAD"):
                raise UsageError(f"{method} requests cannot carry form parameters; put them in the URL's query")
            extra["Content-Type"] = FORM_CONTENT_TYPE
            body = form_encode(form).encode("utf-8")
        return Request(method, url, {**extra, "Authorization": f"Bearer {creds.access_token}"}, body)
    return sign(
        method,
        url,
        consumer_of(creds),
        token=creds.oauth_token,
        token_secret=creds.oauth_token_secret,
        form=list(form) or None,
        headers=dict(headers or {}),
    )


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
    An OAuth 2.0 request that gets a 401 (or a 403 that may mean the same: :func:`expired_answer`) is sent once
    more after a forced refresh of the stored profile, never more; ``refresh_on_401=False`` returns the answer
    (for credentials that are not stored yet: ``loopauth add``).
    """
    if body is not None and form:
        raise UsageError("a request has form parameters or a body, not both")
    with Client(trace=trace) as client:
        response = _send(client, creds, method, url, form, headers, body, timeout)
        if isinstance(creds, OAuth2Credentials) and refresh_on_401 and expired_answer(creds, response):
            from .fresh import load_fresh

            creds = load_fresh(creds.profile, store, force=True)
            response = _send(client, creds, method, url, form, headers, body, timeout)
        return response


def expired_answer(creds: OAuth2Credentials, response: Response) -> bool:
    """Whether ``response`` may mean the access token has expired, so one forced refresh and retry is worth it.

    A 401 (RFC 6750 §3.1 invalid_token). Some resource servers (django-oauth-toolkit's protected views) answer
    403 instead: when the token's expiry is unknown and it can be refreshed, a 403 that is not
    ``insufficient_scope`` (a new token would have the same scopes) counts too.
    """
    if response.status == 401:
        return True
    if response.status != 403 or creds.expires_at is not None or not creds.refresh_token:
        return False
    said = (response.header("WWW-Authenticate") or "") + " " + response.text()[:2000]
    return "insufficient_scope" not in said


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


def _failure(step: str, creds: AnyCredentials, response: Response) -> ProviderError:
    text = response.text()
    said = provider_message(response.content_type, text)
    message = f"{step} failed: {creds.provider} answered {response.status}: {said}"
    if response.status == 401:
        message += "; the token may be revoked or expired: log in again"
    return ProviderError(message, status=response.status, body=text)


def _verify_url(creds: AnyCredentials) -> str | None:
    provider = creds.endpoints if isinstance(creds, OAuth2Credentials) else endpoints_of(creds)
    return provider.verify_url if provider is not None else None


def verify(
    creds: AnyCredentials,
    *,
    timeout: float = REQUEST_TIMEOUT,
    trace: Trace | None = None,
    store: CredentialStore | None = None,
    refresh_on_401: bool = True,
) -> Identity:
    """Call the provider's verify endpoint: who the token belongs to (``refresh_on_401``: see :func:`request`)."""
    url = _verify_url(creds)
    if not url:
        raise UsageError(
            f"provider {creds.provider!r} of profile '{creds.profile}' has no verify endpoint "
            "(set verify_url in providers.toml, or log in with a verify URL)"
        )
    response = request(creds, "GET", url, timeout=timeout, trace=trace, store=store, refresh_on_401=refresh_on_401)
    if not response.ok:
        raise _failure("verify", creds, response)
    try:
        data: Any = json.loads(response.text())
    except ValueError:
        return Identity(None, None, response.text())
    return Identity(*account_of(data), data)


def revoke(creds: AnyCredentials, *, timeout: float = REQUEST_TIMEOUT, trace: Trace | None = None) -> None:
    """Ask the provider to invalidate the profile's tokens.

    OAuth 1.0a: Twitter's signed POST /1.1/oauth/invalidate_token. OAuth 2.0: RFC 7009, the refresh
    token first (which ends its access tokens too at most providers), then the access token.
    """
    if isinstance(creds, OAuth2Credentials):
        _revoke_oauth2(creds, timeout, trace)
        return
    provider = endpoints_of(creds)
    if provider is None or not provider.revoke_url:
        raise _no_revoke(creds)
    response = request(creds, "POST", provider.revoke_url, timeout=timeout, trace=trace)
    if not response.ok:
        raise _failure("revoke", creds, response)


def _revoke_oauth2(creds: OAuth2Credentials, timeout: float, trace: Trace | None) -> None:
    from .oauth2.messages import revoke_requests

    if not creds.endpoints.revoke_url:
        raise _no_revoke(creds)
    calls = revoke_requests(
        creds.endpoints,
        client_id=creds.client_id,
        client_secret=creds.client_secret,
        access_token=creds.access_token,
        refresh_token=creds.refresh_token,
    )
    with Client(trace=trace) as client:
        for call in calls:
            response = client.send(call, timeout=timeout)
            if not response.ok:
                raise _failure("revoke", creds, response)


def _no_revoke(creds: AnyCredentials) -> UsageError:
    return UsageError(
        f"provider {creds.provider!r} of profile '{creds.profile}' has no revoke endpoint: revoke the app's "
        "access in the provider's settings, then log out without revoking"
    )
