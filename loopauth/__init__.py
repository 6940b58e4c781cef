"""loopauth: one-command OAuth 1.0a and OAuth 2.0 (PKCE) login through a loopback callback.

``import loopauth`` and ``loopauth.load()`` stay cheap (no aiohttp, no
oauthlib): other tools call them at every start. Everything else is imported
on first use (PEP 562).
"""

from __future__ import annotations

from ._version import __version__ as __version__

# Not `from typing import TYPE_CHECKING`: typing itself costs a few ms on the load() path. mypy
# treats any name TYPE_CHECKING as true.
TYPE_CHECKING = False

# Where each public name lives; imported on first use (PEP 562). The block below repeats them for type
# checkers only (``as`` marks each as re-exported); tests/test_public_api.py checks that the two agree.
_LAZY = {
    "errors": (
        "AuthorizationDenied",
        "LocalError",
        "LoginTimeout",
        "LoopAuthError",
        "NotLoggedIn",
        "PortInUse",
        "ProviderError",
        "StoreError",
        "UsageError",
    ),
    "models": ("Credentials", "OAuth2Credentials", "OAuth2Provider", "Provider", "RequestToken"),
    "store": ("CredentialStore",),
    "oauth1.flow": ("Flow", "SyncFlow"),
    "oauth2.flow": ("Flow2", "SyncFlow2"),
    "api": ("login", "login_async"),
    "kwargs": ("pytwitter_kwargs", "tweepy_kwargs"),
}
_MODULE_OF = {name: module for module, names in _LAZY.items() for name in names}
# Public submodules, imported on first use too: ``loopauth.auth.requests()`` after a plain ``import loopauth``.
_SUBMODULES = ("auth",)

__all__ = sorted([*_MODULE_OF, *_SUBMODULES, "__version__", "load"])

if TYPE_CHECKING:
    from typing import Any

    from . import auth as auth
    from .api import login as login
    from .api import login_async as login_async
    from .errors import AuthorizationDenied as AuthorizationDenied
    from .errors import LocalError as LocalError
    from .errors import LoginTimeout as LoginTimeout
    from .errors import LoopAuthError as LoopAuthError
    from .errors import NotLoggedIn as NotLoggedIn
    from .errors import PortInUse as PortInUse
    from .errors import ProviderError as ProviderError
    from .errors import StoreError as StoreError
    from .errors import UsageError as UsageError
    from .kwargs import pytwitter_kwargs as pytwitter_kwargs
    from .kwargs import tweepy_kwargs as tweepy_kwargs
    from .models import Credentials as Credentials
    from .models import OAuth2Credentials as OAuth2Credentials
    from .models import OAuth2Provider as OAuth2Provider
    from .models import Provider as Provider
    from .models import RequestToken as RequestToken
    from .oauth1.flow import Flow as Flow
    from .oauth1.flow import SyncFlow as SyncFlow
    from .oauth2.flow import Flow2 as Flow2
    from .oauth2.flow import SyncFlow2 as SyncFlow2
    from .store import CredentialStore as CredentialStore


def load(profile: str | None = None) -> Credentials | OAuth2Credentials:
    """The stored credentials of ``profile`` (by default the active one: ``$LOOPAUTH_PROFILE``, else the one
    ``loopauth switch`` chose, else ``default``); raises :class:`NotLoggedIn` if there are none.

    An OAuth 2.0 profile's access token has life left: when it is due, it is refreshed first, under
    the profile's lock, so every tool shares one refresh (raises NotLoggedIn when only a new login can
    help, ProviderError when the provider cannot be reached).
    """
    from .fresh import load_fresh

    return load_fresh(profile)


def __getattr__(name: str) -> Any:
    module = _MODULE_OF.get(name)
    if module is None and name not in _SUBMODULES:
        raise AttributeError(f"module 'loopauth' has no attribute {name!r}")
    import importlib

    if module is None:
        return importlib.import_module(f".{name}", __name__)  # which also makes it an attribute of the package
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
