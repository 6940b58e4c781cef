"""The ``loopauth`` command: :func:`main` routes a command line to one verb and maps failures to exit codes.

One module per verb group, each with a typed value for its command's options:

- :mod:`.token`: ``token``, the fast path other tools call at every start (no argparse);
- :mod:`.login`: ``login`` and ``demo`` (:mod:`.serve`: ``demo --serve``);
- :mod:`.profiles`: ``list``, ``move``, ``logout``, ``path``;
- :mod:`.calls`: ``header``, ``request``, ``verify`` (:mod:`.bodies`: ``request``'s bodies);
- :mod:`.providers`: ``providers``;
- :mod:`.switch`: ``switch`` and the active profile; :mod:`.status`: ``status``;
- :mod:`.execute`: ``exec``; :mod:`.add`: ``add``;
- :mod:`.credential`: ``credential git|kubectl|docker`` (read without argparse, as ``token``);
- :mod:`.completion`: ``completion`` (:mod:`.names`: the names it offers, read without argparse);
- :mod:`.parser`: the argparse tree, which only routes.

Every failure is one line on stderr (``loopauth: error: …``) and a documented exit code.
"""

from __future__ import annotations

import io
import os
import sys

TYPE_CHECKING = False  # not typing's: importing typing is a few ms on the token path
if TYPE_CHECKING:
    import argparse
    from collections.abc import Sequence

EXIT_INTERRUPTED = 130
"""``loopauth.errors.EXIT_INTERRUPTED``, known before anything is imported (tests/test_hostile.py checks both agree)."""


def build_parser() -> argparse.ArgumentParser:
    from .parser import build_parser

    return build_parser()


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command line; returns the exit code (library callers and tests use this).

    Everything is imported in here, not at the top of the module: Ctrl-C in the first milliseconds
    lands in an import, and must still be one line and exit 130, never a traceback.
    """
    try:
        return _main(sys.argv[1:] if argv is None else argv)
    except KeyboardInterrupt:
        print("loopauth: error: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


def _main(argv: Sequence[str]) -> int:
    import contextlib
    import errno

    from ..errors import EXIT_LOCAL, EXIT_OK, LoopAuthError

    try:
        code = _dispatch(argv)
        sys.stdout.flush()  # so a failed write of buffered output is reported below, not at exit
        return code
    except LoopAuthError as exc:
        from ..text import clean
        from .errors import describe

        # Messages quote providers (cleaned where they are made); this is the backstop for any that slip through.
        print(f"loopauth: error: {clean(describe(exc))}", file=sys.stderr)
        return exc.exit_code
    except BrokenPipeError:
        # `loopauth token | head -c0`: the reader left; not our failure to report.
        with contextlib.suppress(OSError):
            sys.stderr.flush()
        return EXIT_OK
    except OSError as exc:
        if exc.errno not in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO):
            return _internal_error(exc)
        # Our own file and network errors arrive wrapped (StoreError, ProviderError); a bare one
        # like these comes from writing to stdout: a full disk, a vanished terminal.
        print(f"loopauth: error: cannot write the output: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_LOCAL
    except Exception as exc:
        return _internal_error(exc)


def _dispatch(argv: Sequence[str]) -> int:
    if argv[:1] == ["completion"]:
        # What a completion script asks at every <TAB>: read without argparse, like `token` below.
        from .names import plain_names_flag, print_names

        flag = plain_names_flag(argv)
        if flag is not None:
            return print_names(flag)
    if argv[:1] == ["credential"]:
        # git and kubectl call at every fetch and expiry: read without argparse, like `token` below.
        from .credential import plain_credential_args, run_credential

        args = plain_credential_args(argv)
        if args is not None:
            return run_credential(args)
    if argv[:1] == ["token"]:
        from .token import plain_token_args, print_token

        plain = plain_token_args(argv)
        if plain is not None:
            return print_token(**plain)
    from .parser import parse

    return parse(argv).run()


def _internal_error(exc: Exception) -> int:
    if os.environ.get("LOOPAUTH_DEBUG"):
        raise exc
    from ..errors import EXIT_INTERNAL
    from ..text import clean

    print(
        f"loopauth: internal error: {exc.__class__.__name__}: {clean(str(exc))} (set LOOPAUTH_DEBUG=1 for a traceback)",
        file=sys.stderr,
    )
    return EXIT_INTERNAL


def run() -> None:
    """The ``loopauth`` command (console script and ``python -m loopauth``): main(), then exit at once.

    After a login the interpreter would spend about 60 ms tearing down aiohttp's modules and
    collecting garbage before the process ends, while the user (or the tool that started us)
    waits. Everything that matters is done by then: main() has flushed the output, the
    credentials are fsynced, the sockets closed, and loopauth's threads are daemons. So leave
    with os._exit. Library callers use main(), which just returns.

    stderr is shared with whatever else runs on the terminal (a browser the login started, often),
    and ``print`` writes a line's text and its newline separately, so a neighbour's line could land
    between them. Without write-through, the line-buffered stream sends each line in one write.
    """
    if isinstance(sys.stderr, io.TextIOWrapper):
        sys.stderr.reconfigure(write_through=False)
    code = main()
    try:
        import contextlib

        for stream in (sys.stdout, sys.stderr):
            # Already flushed by main(), or closed after a reader left; nothing more to report.
            with contextlib.suppress(OSError, ValueError):
                stream.flush()
    except KeyboardInterrupt:
        code = EXIT_INTERRUPTED
    os._exit(code)
