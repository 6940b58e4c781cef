"""Signed calls with a stored profile: ``header``, ``request``, ``verify`` and ``logout --revoke``.

Signing is :func:`loopauth.protocol.sign` and sending is
:class:`loopauth.flow.ProviderClient`, the same code the login uses, so a
profile signs later calls exactly as it signed its login (same method, same
RSA key file).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from yarl import URL

from .errors import ProviderError, UsageError
from .flow import REQUEST_TIMEOUT, ProviderClient, RawResponse, new_session
from .models import Credentials, Provider
from .prepare import Consumer, resolve_consumer
from .protocol import SignedRequest, provider_message, sign
from .providers import ALIASES, PRESETS

# Where providers put the account's name and id, most specific first: Twitter (screen_name, id_str),
# Trello and Discogs (username, id), SmugMug (NickName), Tumblr (response.user.name).
_NAME_KEYS = ("screen_name", "username", "NickName", "name")
_ID_KEYS = ("id_str", "user_id", "id")
_SEARCH_DEPTH = 4


@dataclass(frozen=True)
class Identity:
    """Who the provider says a profile's token belongs to."""

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
    return resolve_consumer(
        creds.consumer_key,
        creds.consumer_secret,
        signature_method=creds.signature_method,
        rsa_key_file=creds.rsa_key_file,
    )


def normalize_url(url: str) -> str:
    """The URL exactly as aiohttp will send it, so the signature covers the bytes on the wire.

    Non-ASCII and other characters are percent-encoded here, once: oauthlib refuses
    raw non-ASCII in a query, and aiohttp would otherwise re-quote the URL after signing.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"the URL must be http(s)://host/…, got {url!r}")
    try:
        return str(URL(url))
    except ValueError as exc:
        raise UsageError(f"invalid URL {url!r}: {exc}") from exc


def sign_for(
    creds: Credentials, method: str, url: str, *, form: Sequence[tuple[str, str]] = (), consumer: Consumer | None = None
) -> SignedRequest:
    """Sign one request with the profile's consumer and token."""
    consumer = consumer or consumer_of(creds)
    return sign(
        method,
        normalize_url(url),
        consumer_key=consumer.key,
        consumer_secret=consumer.secret,
        token=creds.oauth_token,
        token_secret=creds.oauth_token_secret,
        form=list(form) or None,
        signature_method=consumer.signature_method,
        rsa_key=consumer.rsa_key,
    )


async def request(
    creds: Credentials,
    method: str,
    url: str,
    *,
    form: Sequence[tuple[str, str]] = (),
    headers: Mapping[str, str] | None = None,
    timeout: float = REQUEST_TIMEOUT,
) -> RawResponse:
    """Make one signed request and return the answer whatever its status (network failures raise ProviderError)."""
    consumer = consumer_of(creds)
    signed = sign_for(creds, method, url, form=form, consumer=consumer)
    # Only send_raw is used, which needs no endpoints; a profile without them can still make requests.
    provider = endpoints_of(creds) or Provider(creds.provider, "", "", "")
    async with new_session() as session:
        client = ProviderClient(session, provider, consumer)
        return await client.send_raw(signed, timeout=timeout, extra_headers=headers or {})


def _failure(step: str, creds: Credentials, response: RawResponse) -> ProviderError:
    text = response.text()
    message = (
        f"{step} failed: {creds.provider} answered {response.status}: {provider_message(response.content_type, text)}"
    )
    if response.status == 401:
        message += f"; the token may be revoked or expired: log in again (loopauth login --profile {creds.profile})"
    return ProviderError(message, status=response.status, body=text)


async def _checked(creds: Credentials, method: str, url: str, step: str, timeout: float) -> RawResponse:
    """A signed call whose non-2xx answer is the provider's error."""
    response = await request(creds, method, url, timeout=timeout)
    if not 200 <= response.status < 300:
        raise _failure(step, creds, response)
    return response


async def verify(creds: Credentials, *, timeout: float = REQUEST_TIMEOUT) -> Identity:
    """Call the provider's verify-credentials endpoint: who the token belongs to."""
    provider = endpoints_of(creds)
    if provider is None or not provider.verify_url:
        raise UsageError(
            f"provider {creds.provider!r} of profile '{creds.profile}' has no verify endpoint "
            "(set verify_url in providers.toml, or log in with --verify-url)"
        )
    response = await _checked(creds, "GET", provider.verify_url, "verify", timeout)
    try:
        data: Any = json.loads(response.text())
    except ValueError:
        return Identity(None, None, response.text())
    return Identity(_find(data, _NAME_KEYS), _find(data, _ID_KEYS), data)


async def revoke(creds: Credentials, *, timeout: float = REQUEST_TIMEOUT) -> None:
    """Ask the provider to invalidate the profile's token (Twitter: POST /1.1/oauth/invalidate_token, signed)."""
    provider = endpoints_of(creds)
    if provider is None or not provider.revoke_url:
        raise UsageError(
            f"provider {creds.provider!r} of profile '{creds.profile}' has no revoke endpoint: revoke the app's "
            "access in the provider's settings, then run `loopauth logout` without --revoke"
        )
    await _checked(creds, "POST", provider.revoke_url, "revoke", timeout)


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
                    return str(value)
                children.extend(v for v in node.values() if isinstance(v, dict))
            level = children
    return None
