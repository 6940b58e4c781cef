"""The embedded demo provider, for ``loopauth demo``, the tests and the benchmark: no keys, no network.

- :mod:`.validator`: its state and rules (oauthlib's RequestValidator over dictionaries);
- :mod:`.server`: :class:`DemoProvider`, the aiohttp server on loopback with Twitter's endpoints;
- :mod:`.user`: :func:`play_user`, a scripted person who approves or denies in its pages;
- :mod:`.pages`: its own HTML;
- :mod:`.constants`: its app's and user's fixed names.
"""

from __future__ import annotations

from .constants import DEMO_CONSUMER_KEY, DEMO_CONSUMER_SECRET, DEMO_SCREEN_NAME, DEMO_USER_ID
from .server import DemoProvider, Failure
from .user import PlayUserError, play_user

__all__ = [
    "DEMO_CONSUMER_KEY",
    "DEMO_CONSUMER_SECRET",
    "DEMO_SCREEN_NAME",
    "DEMO_USER_ID",
    "DemoProvider",
    "Failure",
    "PlayUserError",
    "play_user",
]
