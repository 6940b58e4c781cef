"""The credential helpers: git, kubectl and docker ask loopauth for a token in their own protocols.

Each is a thin shell over one stored OAuth 2.0 profile, read as ``loopauth token`` reads it
(:func:`loopauth.fresh.load_fresh`: a due token is refreshed under the profile's lock, once however
many tools ask at the same moment). The refresh token never leaves loopauth.

- :mod:`.git`: ``loopauth credential git``, git's ``credential.helper`` protocol;
- :mod:`.kubectl`: ``loopauth credential kubectl``, a kubectl exec credential plugin;
- :mod:`.docker`: ``docker-credential-loopauth`` and ``loopauth credential docker``, the registries mapped to profiles.

These modules are on the path git takes for every fetch, so, like ``loopauth token``, they import only the
store and the models unless a refresh is due.
"""

from __future__ import annotations

from ..errors import UsageError
from ..models import AnyCredentials, OAuth2Credentials


def oauth2_only(creds: AnyCredentials, tool: str) -> OAuth2Credentials:
    """``creds`` when they are an OAuth 2.0 login; UsageError (exit 2) otherwise: an OAuth 1.0a token is useless
    without a signature on every request, which ``tool`` cannot make."""
    if not isinstance(creds, OAuth2Credentials):
        raise UsageError(
            f"profile '{creds.profile}' is an OAuth 1.0a login, which {tool} cannot use (every request would "
            f"need an OAuth 1.0a signature): name an OAuth 2.0 profile with --profile"
        )
    return creds


def username_for(creds: OAuth2Credentials, *, default: str = "oauth2") -> str:
    """The user name a token goes with, by the provider's convention: ``oauth2`` on GitLab, ``x-access-token`` on
    GitHub (any non-empty name works there), else the account's name, or ``default``."""
    names = (creds.provider.lower(), creds.endpoints.name.lower(), *(host for host, _port in provider_hosts(creds)))
    if any("gitlab" in name for name in names):
        return "oauth2"
    if any("github" in name for name in names):
        return "x-access-token"
    return creds.screen_name or default


def provider_hosts(creds: OAuth2Credentials) -> set[tuple[str, str]]:
    """(host, port) of each of the provider's URLs, port "" when it is the scheme's default."""
    from urllib.parse import urlsplit

    e = creds.endpoints
    found: set[tuple[str, str]] = set()
    for url in (e.authorize_url, e.token_url, e.revoke_url, e.verify_url):
        if url:
            parts = urlsplit(url)
            if parts.hostname:
                found.add(host_port(parts.hostname, str(parts.port or ""), parts.scheme))
    return found


_DEFAULT_PORTS = {"https": "443", "http": "80"}


def host_port(host: str, port: str, scheme: str) -> tuple[str, str]:
    """``(host, port)`` compared as hosts are: lower case, without brackets, and port "" for the scheme's own."""
    return host.strip("[]").lower().rstrip("."), "" if port == _DEFAULT_PORTS.get(scheme) else port


def split_host(value: str, scheme: str) -> tuple[str, str]:
    """``HOST[:PORT]`` (``[v6]:PORT`` for IPv6) as :func:`host_port` compares it."""
    host, colon, port = value.rpartition(":")
    if not colon or not port.isdigit() or (host.count(":") and not host.endswith("]")):
        host, port = value, ""
    return host_port(host, port, scheme)
