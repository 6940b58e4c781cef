"""A stored login as the keyword arguments of the Twitter/X client libraries: tweepy and python-twitter-v2.

::

    client = tweepy.Client(**loopauth.tweepy_kwargs())
    api = pytwitter.Api(**loopauth.pytwitter_kwargs())

Both libraries sign OAuth 1.0a requests themselves (tweepy with requests-oauthlib, python-twitter-v2
with Authlib), with HMAC-SHA1 only, so a profile with another signature method is refused here rather
than by a 401 later. An OAuth 2.0 profile gives its access token as the bearer token, refreshed first
when it is due; the dict is a snapshot, which the library cannot refresh when the token expires (2 hours
on X). A long-running program should call again for a new client, or use ``loopauth.auth.requests()``
/ ``loopauth.auth.httpx()``, which read the store at every request.

Imports neither library.
"""

from __future__ import annotations

from .fresh import load_fresh
from .protocols import access_for


def tweepy_kwargs(profile: str | None = None) -> dict[str, str]:
    """``profile``'s login (the active one when None) as keyword arguments for tweepy.

    OAuth 1.0a: ``consumer_key``, ``consumer_secret``, ``access_token``, ``access_token_secret``, which
    ``tweepy.Client(...)`` and ``tweepy.OAuth1UserHandler(...)`` (for ``tweepy.API``) both take.
    OAuth 2.0: ``bearer_token``, for ``tweepy.Client(...)`` only; call its methods with ``user_auth=False``
    so tweepy sends the bearer (its default, ``user_auth=True``, means OAuth 1.0a). A snapshot: see the module.
    Raises NotLoggedIn, and UsageError for an OAuth 1.0a profile that does not sign with HMAC-SHA1.
    """
    return access_for(load_fresh(profile)).library_keywords("tweepy", token_secret="access_token_secret")


def pytwitter_kwargs(profile: str | None = None) -> dict[str, str]:
    """``profile``'s login (the active one when None) as keyword arguments for ``pytwitter.Api(...)``
    (python-twitter-v2).

    OAuth 1.0a: ``consumer_key``, ``consumer_secret``, ``access_token``, ``access_secret`` (its name for the
    token secret). OAuth 2.0: ``bearer_token``, which python-twitter-v2 sends as ``Authorization: Bearer``
    whatever the call. A snapshot: see the module. Raises NotLoggedIn, and UsageError for an OAuth 1.0a
    profile that does not sign with HMAC-SHA1.
    """
    return access_for(load_fresh(profile)).library_keywords("python-twitter-v2", token_secret="access_secret")
