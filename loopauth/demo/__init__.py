"""The embedded demo providers, for ``loopauth demo``, the tests and the benchmark: no keys, no network.

- :mod:`.base`: what both share: serving on loopback, a simulated round trip, the seam each endpoint begins with;
- :mod:`.validator`: the OAuth 1.0a provider's state and rules (oauthlib's RequestValidator over dictionaries);
- :mod:`.server`: :class:`DemoProvider`, the OAuth 1.0a server with Twitter's endpoints (:mod:`.api`: its API);
- :mod:`.oauth2`: :class:`~.oauth2.DemoOAuth2Provider`, the OAuth 2.0 (PKCE) server with X's endpoints, split alike;
- :mod:`.user`: :func:`play_user`, a scripted person who approves or denies in its pages;
- :mod:`.pages`: its own HTML;
- :mod:`.constants`: its app's and user's fixed names.
"""

from __future__ import annotations

from .constants import DEMO_CONSUMER_KEY, DEMO_CONSUMER_SECRET, DEMO_SCREEN_NAME, DEMO_USER_ID
from .server import DemoProvider
from .user import PlayUserError, play_user

__all__ = [
    "DEMO_CONSUMER_KEY",
    "DEMO_CONSUMER_SECRET",
    "DEMO_SCREEN_NAME",
    "DEMO_USER_ID",
    "DemoProvider",
    "PlayUserError",
    "play_user",
]
