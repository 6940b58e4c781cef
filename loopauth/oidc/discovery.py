"""Finding a provider's endpoints from its issuer URL, once per login.

OpenID Connect Discovery 1.0 §4 reads ``ISSUER/.well-known/openid-configuration``; a plain OAuth 2.0
server publishes RFC 8414's ``/.well-known/oauth-authorization-server`` (the suffix goes between the host
and the issuer's path), which is tried when the first is not there. The document's ``issuer`` must be
the URL the user gave, character for character (Discovery §4.3, RFC 8414 §3.3): anything else could be
another provider's document. What it names is stored in the profile, so ``token``, a refresh and
``logout`` never read it again. Standard library only.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from ..errors import ProviderError, UsageError
from ..http import Client, Request
from ..models import OAuth2Provider
from ..text import one_line
from ..urls import check_endpoint, where

OPENID = "/.well-known/openid-configuration"
OAUTH = "/.well-known/oauth-authorization-server"

# Our field for each field of the document; explicit ones (the command line, providers.toml) win.
FIELDS = {
    "authorize_url": "authorization_endpoint",
    "token_url": "token_endpoint",
    "revoke_url": "revocation_endpoint",
    "verify_url": "userinfo_endpoint",
    "jwks_url": "jwks_uri",
    "device_authorization_url": "device_authorization_endpoint",
}


def check_issuer(issuer: str, what: str = "{arg}") -> str:
    """UsageError unless ``issuer`` is an https URL (http only to loopback) with no query or fragment."""
    check_endpoint(issuer, what)
    parts = urlsplit(issuer)
    if parts.query or parts.fragment:
        raise UsageError(f"{what} must have no query or fragment (OpenID Connect Discovery §2): {issuer!r}")
    return issuer


def issuer_provider(issuer: str, name: str | None = None, **endpoints: str | None) -> OAuth2Provider:
    """A provider known by its issuer URL, with the endpoints given explicitly (they win over discovered ones);
    named after the issuer's host unless ``name`` is given."""
    given = {key: value for key, value in endpoints.items() if value}
    provider = OAuth2Provider(name=name or urlsplit(issuer).hostname or "oidc", authorize_url="", token_url="")
    return provider.replace(issuer=issuer, **given)


def needs_discovery(provider: OAuth2Provider) -> bool:
    """Whether a login must read the issuer's document: it has an issuer and lacks an endpoint it needs."""
    return bool(provider.issuer) and not (provider.authorize_url and provider.token_url and provider.jwks_url)


def document_urls(issuer: str) -> list[str]:
    """Where the metadata may be: OpenID Connect's place first, then RFC 8414's."""
    parts = urlsplit(issuer)
    path = parts.path.rstrip("/")
    return [
        urlunsplit((parts.scheme, parts.netloc, path + OPENID, "", "")),
        urlunsplit((parts.scheme, parts.netloc, OAUTH + path, "", "")),
    ]


def fetch(client: Client, issuer: str, *, timeout: float) -> dict[str, Any]:
    """The issuer's metadata, checked to be for ``issuer``; ProviderError (exit 5) naming what was wrong."""
    found: dict[str, Any] | None = None
    tried: list[str] = []
    for url in document_urls(issuer):
        response = client.send(Request("GET", url, {"Accept": "application/json"}), timeout=timeout)
        if response.status >= 500:
            # The provider is in trouble, not without a document: trying elsewhere would hide that.
            raise ProviderError(f"discovery failed: {where(url)} answered {response.status}", status=response.status)
        if not response.ok:
            tried.append(f"{where(url)} ({response.status})")
            continue
        try:
            data: Any = json.loads(response.text())
        except ValueError:
            data = None
        if not isinstance(data, dict):
            raise ProviderError(f"discovery failed: {where(url)} is not a JSON object")
        found = data
        break
    if found is None:
        raise ProviderError(f"discovery failed: {issuer} publishes no metadata: " + ", ".join(tried))
    said = found.get("issuer")
    if said != issuer:
        shown = one_line(said, 200) if isinstance(said, str) else "none"
        raise ProviderError(
            f"discovery failed: the metadata of {issuer} names another issuer, {shown} (they must be identical)"
        )
    return found


def apply(provider: OAuth2Provider, metadata: dict[str, Any]) -> OAuth2Provider:
    """``provider`` with the endpoints it did not set taken from ``metadata``, each checked (https, or loopback).

    ProviderError when the document lacks one a login cannot do without, or names one we must not talk to.
    """
    changes: dict[str, Any] = {}
    for ours, theirs in FIELDS.items():
        if getattr(provider, ours):
            continue
        value = metadata.get(theirs)
        if value is None:
            continue
        if not isinstance(value, str):
            raise ProviderError(f"discovery failed: {theirs} in the metadata of {provider.issuer} is not a string")
        try:
            check_endpoint(value, theirs)
        except UsageError as exc:
            raise ProviderError(f"discovery failed: in the metadata of {provider.issuer}, {exc.message}") from None
        changes[ours] = value
    if metadata.get("authorization_response_iss_parameter_supported") is True:
        changes["requires_iss"] = True
    found = provider.replace(**changes)
    for ours in ("authorize_url", "token_url"):
        if not getattr(found, ours):
            raise ProviderError(f"discovery failed: the metadata of {provider.issuer} has no {FIELDS[ours]}")
    return found


def discover(provider: OAuth2Provider, client: Client, *, timeout: float) -> OAuth2Provider:
    """``provider`` completed from its issuer's metadata (one fetch, two when falling back to RFC 8414)."""
    assert provider.issuer
    return apply(provider, fetch(client, provider.issuer, timeout=timeout))
