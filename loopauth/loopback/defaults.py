"""A login's defaults, apart from :mod:`.options` so the CLI's argument definitions can show them cheaply."""

from __future__ import annotations

DEFAULT_PORT = 8470
"""The fixed callback port, so ``http://127.0.0.1:8470/callback`` can be registered with a provider."""
DEFAULT_CALLBACK_PATH = "/callback"
DEFAULT_TIMEOUT = 300.0
