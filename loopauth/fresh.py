"""A profile ready to use: OAuth 1.0a as stored, OAuth 2.0 with an access token that has life left.

On the path every tool takes at every start (``loopauth.load()``, ``loopauth token``): a fresh token
costs one clock read; only a due one loads the refresh (standard library only, no aiohttp).
"""

from __future__ import annotations

from .models import AnyCredentials
from .protocols import access_for
from .store import CredentialStore


def load_fresh(
    profile: str | None = None, store: CredentialStore | None = None, *, force: bool = False
) -> AnyCredentials:
    """``profile``'s credentials (the active profile when None), an OAuth 2.0 token refreshed first when it is
    due (or ``force``)."""
    store = store or CredentialStore()
    return access_for(store.load(store.resolve(profile))).refreshed(store, force=force)
