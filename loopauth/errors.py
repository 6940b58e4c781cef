"""Errors raised by loopauth, each carrying the CLI exit code it maps to.

::

    LoopAuthError (1)
    ├── UsageError (2)
    ├── AuthorizationDenied (3)
    ├── LoginTimeout (4)
    ├── ProviderError (5)         .status, .body, .url, .sent
    ├── LocalError (6)
    │   ├── PortInUse             .port
    │   └── StoreError            .path
    └── NotLoggedIn (7)           .profile

``Interrupted`` (130) is not an exception class of ours: the CLI maps
``KeyboardInterrupt`` to it. ``loopauth exec``'s 126 and 127 (a command that
cannot be run, or is not found, as a shell says) are the CLI's own.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

EXIT_OK = 0
EXIT_INTERNAL = 1
EXIT_USAGE = 2
EXIT_DENIED = 3
EXIT_TIMEOUT = 4
EXIT_PROVIDER = 5
EXIT_LOCAL = 6
EXIT_NOT_LOGGED_IN = 7
EXIT_CANNOT_EXECUTE = 126
"""``loopauth exec``: the command exists but cannot be run, as a shell says it."""
EXIT_NOT_FOUND = 127
"""``loopauth exec``: the command is not found, as a shell says it."""
EXIT_INTERRUPTED = 130


class LoopAuthError(Exception):
    """Base class: a failure the user can understand from one line."""

    exit_code = EXIT_INTERNAL

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class UsageError(LoopAuthError):
    """The command line or the arguments to an API call are wrong.

    ``argument`` names the keyword argument at fault; the message says ``{arg}`` where it names it, so
    that a library caller reads ``timeout must be …`` and the CLI user ``--timeout must be …``
    (:meth:`render`). Library messages never name command-line flags.
    """

    exit_code = EXIT_USAGE

    def __init__(self, message: str, *, argument: str | None = None) -> None:
        self.template = message
        self.argument = argument
        super().__init__(self.render(lambda name: name))

    def render(self, name_of: Callable[[str], str]) -> str:
        """The message with the argument named by ``name_of`` (the CLI gives its flag)."""
        if self.argument is None:
            return self.template
        return self.template.replace("{arg}", name_of(self.argument))


class AuthorizationDenied(LoopAuthError):
    """The user refused the authorization on the provider's page."""

    exit_code = EXIT_DENIED


class LoginTimeout(LoopAuthError):
    """Nobody came back to the callback before the timeout."""

    exit_code = EXIT_TIMEOUT


class ProviderError(LoopAuthError):
    """The provider answered with an error, or could not be reached."""

    exit_code = EXIT_PROVIDER

    def __init__(
        self, message: str, *, status: int | None = None, body: str = "", url: str | None = None, sent: bool = True
    ) -> None:
        super().__init__(message)
        self.status = status
        self.body = body
        self.url = url
        """The URL that could not be reached or answered wrongly (scheme, host, port, path), when one did."""
        self.sent = sent
        """False only when the request surely never reached the provider (no connection could be made)."""


class LocalError(LoopAuthError):
    """Something on this machine is in the way: a busy port, an unusable file."""

    exit_code = EXIT_LOCAL


class PortInUse(LocalError):
    """The callback port is already taken."""

    def __init__(self, message: str, *, port: int) -> None:
        super().__init__(message)
        self.port = port


class StoreError(LocalError):
    """A credential file or the config directory cannot be used."""

    def __init__(self, message: str, *, path: Path) -> None:
        super().__init__(message)
        self.path = path


class NotLoggedIn(LoopAuthError):
    """No credentials are stored for the profile."""

    exit_code = EXIT_NOT_LOGGED_IN

    def __init__(self, message: str, *, profile: str) -> None:
        super().__init__(message)
        self.profile = profile
