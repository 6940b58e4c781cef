"""oauthlib's OAuth 1.0a client, imported with its debug logging of secrets silenced.

oauthlib's client logs the signed parameters (token, verifier) and the signature at DEBUG. The filter goes
on its logger when loopauth first imports the client, not when :mod:`.signing` is imported: importing a
module changes no logging configuration.
"""

from __future__ import annotations

import functools
import logging
from typing import Any


class _DropSigningDetails(logging.Filter):
    """oauthlib's client logs the signed parameters (token, verifier) and the signature at DEBUG.
    Whatever the application's logging level, those records never leave."""

    PREFIXES = ("Collected params", "Normalized params", "Normalized URI", "Signing:", "Signature:")

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(self.PREFIXES)


@functools.cache
def oauthlib_client() -> Any:  # oauthlib has no type hints
    """``oauthlib.oauth1.Client``, its logger filtered (once, however often it is asked for)."""
    from oauthlib.oauth1 import Client

    logging.getLogger("oauthlib.oauth1.rfc5849").addFilter(_DropSigningDetails())
    return Client
