"""Signed calls with a stored profile: ``header``, ``request``, ``verify`` and ``logout --revoke``.

Blocking, over :class:`loopauth.http.Client`; no event loop and no aiohttp, so ``loopauth header``
(which signs offline) and ``loopauth request`` start fast.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .errors import ProviderError, UsageError
from .http import REQUEST_TIMEOUT, Client, Request, Response, Trace
from .models import Credentials, Provider
from .oauth1.signing import Consumer, consumer_for, sign
from .providers import ALIASES, PRESETS
from .text import clean, provider_message
from .urls import normalize_url

# Where providers put the account's name and id, most specific first: Twitter (screen_name, id_str),
# Trello and Discogs (username, id), SmugMug (NickName), Tumblr (response.user.name).
_NAME_KEYS = ("screen_name", "username", "NickName", "name")
_ID_KEYS = ("id_str", "user_id", "id")
_SEARCH_DEPTH = 4


@dataclass(frozen=True)
class Identity:
    """Who the provider says a profile's token belongs to (cleaned of control characters)."""

    screen_name: str | None
    user_id: str | None
    response: Any


def endpoints_of(creds: Credentials) -> Provider | None:
    """The endpoints stored with the profile, or (for an older file without them) its preset's."""
    if creds.endpoints is not None:
        return creds.endpoints
    return PRESETS.get(ALIASES.get(creds.provider.lower(), creds.provider.lower()))


def consumer_of(creds: Credentials) -> Consumer:
    """How this profile signs: its consumer, its signature method and, for RSA-SHA1, its key file."""
    return consumer_for(
        creds.consumer_key,
        creds.consumer_secret,
        signature_method=creds.signature_method,
        rsa_key_file=creds.rsa_key_file,
    )


def sign_for(
    creds: Credentials,
    method: str,
    url: str,
    *,
    form: Sequence[tuple[str, str]] = (),
    headers: Mapping[str, str] | None = None,
) -> Request:
    """Sign one request with the profile's consumer and token, for the URL exactly as it will be sent."""
    return sign(
        method,
        normalize_url(url),
        consumer_of(creds),
        token=creds.oauth_token,
        token_secret=creds.oauth_token_secret,
        form=list(form) or None,
        headers=dict(headers or {}),
    )


def request(
    creds: Credentials,
    method: str,
    url: str,
    *,
    form: Sequence[tuple[str, str]] = (),
    headers: Mapping[str, str] | None = None,
    body: bytes | None = None,
    timeout: float = REQUEST_TIMEOUT,
    trace: Trace | None = None,
) -> Response:
    """Make one signed request and return the answer whatever its status (no answer: ProviderError).

    ``body`` is sent as it is and, like any body that is not a form, not signed (RFC 5849 §3.4.1.3).
    """
    signed = sign_for(creds, method, url, form=form, headers=headers)
    if body is not None:
        if form:
            raise UsageError("a request has form parameters or a body, not both")
        signed = Request(signed.method, signed.url, signed.headers, body)
    with Client(trace=trace) as client:
        return client.send(signed, timeout=timeout)


def _failure(step: str, creds: Credentials, response: Response) -> ProviderError:
    text = response.text()
    message = (
        f"{step} failed: {creds.provider} answered {response.status}: {provider_message(response.content_type, text)}"
    )
    if response.status == 401:
        message += "; the token may be revoked or expired: log in again"
    return ProviderError(message, status=response.status, body=text)


def _checked(creds: Credentials, method: str, url: str, step: str, timeout: float, trace: Trace | None) -> Response:
    """A signed call whose non-2xx answer is the provider's error."""
    response = request(creds, method, url, timeout=timeout, trace=trace)
    if not response.ok:
        raise _failure(step, creds, response)
    return response


def verify(creds: Credentials, *, timeout: float = REQUEST_TIMEOUT, trace: Trace | None = None) -> Identity:
    """Call the provider's verify-credentials endpoint: who the token belongs to."""
    provider = endpoints_of(creds)
    if provider is None or not provider.verify_url:
        raise UsageError(
            f"provider {creds.provider!r} of profile '{creds.profile}' has no verify endpoint "
            "(set verify_url in providers.toml, or log in with a verify URL)"
        )
    response = _checked(creds, "GET", provider.verify_url, "verify", timeout, trace)
    try:
        data: Any = json.loads(response.text())
    except ValueError:
        return Identity(None, None, response.text())
    return Identity(_find(data, _NAME_KEYS), _find(data, _ID_KEYS), data)


def revoke(creds: Credentials, *, timeout: float = REQUEST_TIMEOUT, trace: Trace | None = None) -> None:
    """Ask the provider to invalidate the profile's token (Twitter: POST /1.1/oauth/invalidate_token, signed)."""
    provider = endpoints_of(creds)
    if provider is None or not provider.revoke_url:
        raise UsageError(
            f"provider {creds.provider!r} of profile '{creds.profile}' has no revoke endpoint: revoke the app's "
            "access in the provider's settings, then log out without revoking"
        )
    _checked(creds, "POST", provider.revoke_url, "revoke", timeout, trace)


def _find(data: Any, keys: Sequence[str]) -> str | None:
    """The shallowest value under one of ``keys`` (earlier keys first), searching nested objects."""
    for key in keys:
        level = [data]
        for _ in range(_SEARCH_DEPTH):
            children: list[Any] = []
            for node in level:
                if not isinstance(node, dict):
                    continue
                value = node.get(key)
                if isinstance(value, dict):
                    value = value.get("_content")  # Flickr wraps strings: {"username": {"_content": "…"}}
                if isinstance(value, str | int) and not isinstance(value, bool) and str(value):
                    return clean(str(value))
                children.extend(v for v in node.values() if isinstance(v, dict))
            level = children
    return None
