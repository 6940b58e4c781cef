"""The credential helpers: git, kubectl and docker ask loopauth for a token in their own protocols.

Each is a thin shell over the :class:`~loopauth.access.Access` of one stored profile, read as ``loopauth token``
reads it (:func:`loopauth.fresh.load_fresh`: a due token is refreshed under the profile's lock, once however
many tools ask at the same moment), that has a bearer to hand out (:func:`bearer_access`). The refresh token
never leaves loopauth.

- :mod:`.git`: ``loopauth credential git``, git's ``credential.helper`` protocol;
- :mod:`.kubectl`: ``loopauth credential kubectl``, a kubectl exec credential plugin;
- :mod:`.docker`: ``docker-credential-loopauth`` and ``loopauth credential docker``, the registries mapped to profiles.

These modules are on the path git takes for every fetch, so, like ``loopauth token``, they import only the
store and the models unless a refresh is due.
"""

from __future__ import annotations

from ..errors import UsageError
from ..protocols import access_for

TYPE_CHECKING = False  # not typing's: importing typing is a few ms on the path git takes at every fetch
if TYPE_CHECKING:
    from ..access import Access
    from ..models import AnyCredentials


def bearer_access(creds: AnyCredentials, tool: str) -> tuple[Access, str]:
    """``creds``' Access and the bearer it hands ``tool``; UsageError (exit 2) when it has none: an OAuth 1.0a token
    is useless without a signature on every request, which ``tool`` cannot make."""
    access = access_for(creds)
    bearer = access.bearer
    if bearer is None:
        raise UsageError(
            f"profile '{creds.profile}' is an {access.label} login, which {tool} cannot use (every request would "
            f"need {access.carries}): name an OAuth 2.0 profile with --profile"
        )
    return access, bearer


def username_for(access: Access, *, default: str = "oauth2") -> str:
    """The user name a token goes with, by the provider's convention: ``oauth2`` on GitLab, ``x-access-token`` on
    GitHub (any non-empty name works there), else the account's name, or ``default``."""
    endpoints = access.endpoints
    names = (
        access.credentials.provider.lower(),
        endpoints.name.lower() if endpoints is not None else "",
        *(host for host, _port in provider_hosts(access)),
    )
    if any("gitlab" in name for name in names):
        return "oauth2"
    if any("github" in name for name in names):
        return "x-access-token"
    return access.credentials.screen_name or default


def provider_hosts(access: Access) -> set[tuple[str, str]]:
    """(host, port) of each of the provider's URLs, port "" when it is the scheme's default."""
    from urllib.parse import urlsplit

    found: set[tuple[str, str]] = set()
    for url in access.provider_urls:
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
