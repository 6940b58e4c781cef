"""Ready-made auth for the HTTP clients Python tools call providers with: one line each.

::

    requests.get(url, auth=loopauth.auth.requests())              # requests (pip install 'loopauth[requests]')
    httpx.Client(auth=loopauth.auth.httpx())                      # httpx, Client or AsyncClient ('loopauth[httpx]')
    headers = await loopauth.auth.aiohttp_headers("GET", url)     # aiohttp, whose auth= is HTTP Basic only

Each uses a loopauth profile (the active one by default) and authorizes exactly what the library
sends: an OAuth 1.0a signature with the profile's signature method over the URL and form body as the
library encoded them, made by the same code as ``loopauth request``; or an OAuth 2.0 bearer taken from
the store at every request, refreshed under the profile's lock when it is due, so every tool on the
machine shares one refresh of a rotating token. requests and httpx retry a 401 once, after a forced
refresh, and never more.

Importing this module imports none of requests, httpx or aiohttp: each is imported by its own function.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..errors import UsageError

if TYPE_CHECKING:
    from .aiohttp_auth import aiohttp_headers as aiohttp_headers
    from .httpx_auth import HttpxAuth as HttpxAuth
    from .requests_auth import RequestsAuth as RequestsAuth

__all__ = ["HttpxAuth", "RequestsAuth", "aiohttp_headers", "httpx", "requests"]

_LAZY = {"HttpxAuth": "httpx_auth", "RequestsAuth": "requests_auth", "aiohttp_headers": "aiohttp_auth"}


def requests(profile: str | None = None) -> RequestsAuth:
    """A ``requests`` auth for ``profile`` (the active one when None): ``session.auth = loopauth.auth.requests()``.

    Raises NotLoggedIn now when there is no such profile; see :class:`RequestsAuth`.
    """
    try:
        from .requests_auth import RequestsAuth
    except ModuleNotFoundError as exc:
        if exc.name != "requests":
            raise
        raise _needs_extra("requests", exc.name) from exc
    return RequestsAuth(profile)


def httpx(profile: str | None = None) -> HttpxAuth:
    """An ``httpx`` auth for ``profile`` (the active one when None), for ``httpx.Client`` and ``httpx.AsyncClient``:
    ``httpx.Client(auth=loopauth.auth.httpx())``.

    Raises NotLoggedIn now when there is no such profile; see :class:`HttpxAuth`.
    """
    try:
        from .httpx_auth import HttpxAuth
    except ModuleNotFoundError as exc:
        if exc.name not in ("httpx", "anyio"):
            raise
        raise _needs_extra("httpx", exc.name) from exc
    return HttpxAuth(profile)


def _needs_extra(extra: str, package: str) -> UsageError:
    """One line that says which extra brings the missing package, instead of a traceback from inside loopauth."""
    return UsageError(f"loopauth.auth.{extra}() needs the {package} package: pip install 'loopauth[{extra}]'")


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'loopauth.auth' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
