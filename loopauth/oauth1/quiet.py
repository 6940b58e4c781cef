"""oauthlib's OAuth 1.0a client, imported with its debug logging of secrets silenced.

oauthlib's client logs the signed parameters (token, verifier) and the signature at DEBUG. The filter goes
on its logger when loopauth first imports the client, not when :mod:`.signing` is imported: importing a
module changes no logging configuration. :mod:`logging` itself is imported then too: oauthlib needs it, and
nothing else on the way to a signature does.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from logging import LogRecord

SIGNING_DETAILS = ("Collected params", "Normalized params", "Normalized URI", "Signing:", "Signature:")
"""How oauthlib's client begins the DEBUG records that hold the signed parameters (token, verifier) or the signature."""


def drop_signing_details(record: LogRecord) -> bool:
    """A logging filter: whatever the application's logging level, those records never leave."""
    return not str(record.msg).startswith(SIGNING_DETAILS)


@functools.cache
def oauthlib_client() -> Any:  # oauthlib has no type hints
    """``oauthlib.oauth1.Client``, its logger filtered (once, however often it is asked for)."""
    import logging

    from oauthlib.oauth1 import Client

    logging.getLogger("oauthlib.oauth1.rfc5849").addFilter(drop_signing_details)
    return Client
