"""How a library error reads on the command line: the flags that give each argument, and what to run next.

Library messages name keyword arguments (``timeout must be …``) and never a command; the CLI
says ``--timeout must be …`` and adds the command that helps.
"""

from __future__ import annotations

from ..errors import LoopAuthError, NotLoggedIn, UsageError

# How each keyword argument of the library is given on the command line.
FLAGS = {
    "consumer_key": "--consumer-key (or $LOOPAUTH_CONSUMER_KEY)",
    "consumer_secret": "$LOOPAUTH_CONSUMER_SECRET or --consumer-secret-file FILE",
    "rsa_key_file": "--rsa-key FILE",
    "signature_method": "--signature-method",
    "timeout": "--timeout",
    "port": "--port",
    "host": "--host",
    "callback_url": "--callback-url",
    "callback_path": "--callback-path",
    "request_token_url": "--request-token-url",
    "authorize_url": "--authorize-url",
    "access_token_url": "--access-token-url",
    "verify_url": "--verify-url",
    "revoke_url": "--revoke-url",
}


def flag_for(argument: str) -> str:
    return FLAGS.get(argument, argument)


def describe(exc: LoopAuthError) -> str:
    """The one line printed after ``loopauth: error:``."""
    if isinstance(exc, UsageError):
        return exc.render(flag_for)
    if isinstance(exc, NotLoggedIn):
        return f"{exc.message} (run `loopauth login --profile {exc.profile}`)"
    return exc.message
