"""Login defaults, in a module of their own so that the CLI can build its parser
(which shows them in ``login --help``) without importing flow, and with it aiohttp:
``loopauth token`` must cost little more than reading a file (issue 6)."""

from __future__ import annotations

DEFAULT_PORT = 8470
"""The fixed callback port, so ``http://127.0.0.1:8470/callback`` can be registered with a provider."""
DEFAULT_CALLBACK_PATH = "/callback"
DEFAULT_TIMEOUT = 300.0
