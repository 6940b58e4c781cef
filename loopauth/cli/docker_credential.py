"""``docker-credential-loopauth``: the console script docker runs for a registry mapped to a profile.

The protocol itself is :mod:`loopauth.credential.docker`; this is its shell: one action word in argv, errors as
the protocol's one line on stdout (docker shows it) and its exit codes.
"""

from __future__ import annotations

import sys

from ..credential.docker import EXIT_PROTOCOL, ProtocolError, serve
from ..errors import LoopAuthError

TYPE_CHECKING = False  # not typing's: docker runs this at every pull
if TYPE_CHECKING:
    from typing import TextIO


def main(argv: list[str], stdin: TextIO | None = None, stdout: TextIO | None = None) -> int:
    """``docker-credential-loopauth ACTION``; returns the exit code."""
    out = stdout or sys.stdout
    if len(argv) != 1:
        out.write("Usage: docker-credential-loopauth <store|get|erase|list|version>\n")
        return EXIT_PROTOCOL
    try:
        return serve(argv[0], stdin or sys.stdin, out)
    except ProtocolError as exc:
        out.write(f"{exc}\n")
        return EXIT_PROTOCOL
    except LoopAuthError as exc:
        from ..text import clean
        from .errors import describe

        out.write(f"loopauth: error: {clean(describe(exc))}\n")
        return exc.exit_code
    except Exception as exc:
        import os

        if os.environ.get("LOOPAUTH_DEBUG"):
            raise
        out.write(f"loopauth: internal error: {exc.__class__.__name__} (set LOOPAUTH_DEBUG=1 for a traceback)\n")
        return EXIT_PROTOCOL


def run() -> None:
    """The ``docker-credential-loopauth`` console script."""
    try:
        code = main(sys.argv[1:])
        sys.stdout.flush()
    except KeyboardInterrupt:
        from ..errors import EXIT_INTERRUPTED

        code = EXIT_INTERRUPTED
    sys.exit(code)
