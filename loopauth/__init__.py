"""loopauth: one-command OAuth 1.0a login through a loopback callback.

``import loopauth`` and ``loopauth.load()`` stay cheap (no aiohttp, no
oauthlib): other tools call them at every start. Everything else is imported
on first use (PEP 562).
"""

from __future__ import annotations

# Not `from typing import TYPE_CHECKING`: typing itself costs a few ms on the load() path. mypy
# treats any name TYPE_CHECKING as true.
from ._version import __version__

TYPE_CHECKING = False

__all__ = [
    "AuthorizationDenied",
    "CredentialStore",
    "Credentials",
    "Flow",
    "LocalError",
    "LoginTimeout",
    "LoopAuthError",
    "NotLoggedIn",
    "PortInUse",
    "Provider",
    "ProviderError",
    "StoreError",
    "SyncFlow",
    "UsageError",
    "__version__",
    "load",
    "login",
    "login_async",
]

_LAZY = {
    "AuthorizationDenied": "errors",
    "LocalError": "errors",
    "LoginTimeout": "errors",
    "LoopAuthError": "errors",
    "NotLoggedIn": "errors",
    "PortInUse": "errors",
    "ProviderError": "errors",
    "StoreError": "errors",
    "UsageError": "errors",
    "Credentials": "models",
    "Provider": "models",
    "CredentialStore": "store",
    "Flow": "oauth1.flow",
    "SyncFlow": "oauth1.flow",
    "login": "api",
    "login_async": "api",
}

if TYPE_CHECKING:
    from typing import Any

    from .api import login, login_async
    from .errors import (
        AuthorizationDenied,
        LocalError,
        LoginTimeout,
        LoopAuthError,
        NotLoggedIn,
        PortInUse,
        ProviderError,
        StoreError,
        UsageError,
    )
    from .models import Credentials, Provider
    from .oauth1.flow import Flow, SyncFlow
    from .store import CredentialStore


def load(profile: str = "default") -> Credentials:
    """The stored credentials of ``profile``; raises :class:`NotLoggedIn` if there are none."""
    from .store import CredentialStore

    return CredentialStore().load(profile)


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'loopauth' has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
