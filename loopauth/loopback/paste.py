"""Lines typed or pasted on stdin, read while the callback server waits.

Over SSH or in a container the browser often lands on a page that cannot load;
the user then pastes its address (or the verifier, or a PIN) into the terminal.
The reading happens in a daemon thread with plain ``os.read`` on the file
descriptor: nothing changes the descriptor's flags (a non-blocking TTY would
break the user's shell after we exit), the terminal's mode only to turn echo
back on for a person's typing (:func:`show_typing`), nothing holds a
Python-level lock on ``sys.stdin`` (which could stall interpreter shutdown),
and a read that never returns cannot keep the process alive.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import threading
from collections.abc import AsyncIterator

MAX_LINE = 64 * 1024
"""Longer than any redirect URL; a longer "line" is dropped rather than buffered without bound."""


def stdin_is_tty(fd: int = 0) -> bool:
    try:
        return os.isatty(fd)
    except OSError:
        return False


def stdin_readable(fd: int = 0) -> bool:
    """Whether reading ``fd`` is worth starting: it is open, and not a terminal we would be stopped for reading.

    A process in a background job that reads its terminal gets SIGTTIN and is stopped by the shell:
    ``loopauth login &`` must keep waiting for the browser instead.
    """
    if fd == 0 and sys.stdin is None:
        # Descriptor 0 was closed when Python started (``<&-``): whatever holds it now is one of our own
        # sockets or pipes, not a stdin, and must not be read.
        return False
    try:
        os.fstat(fd)
    except OSError:
        return False  # closed by whoever started us
    if stdin_is_tty(fd) and hasattr(os, "tcgetpgrp"):
        try:
            return os.tcgetpgrp(fd) == os.getpgrp()
        except OSError:
            return True  # not our controlling terminal, so reading it cannot stop us
    return True


def show_typing(fd: int = 0) -> None:
    """Make the terminal on ``fd`` show what is typed, line by line, as a terminal normally does.

    What a person types at our prompt (a PIN, an address) is no secret, and typing blind invites typos. A
    terminal browser that ran before the prompt (w3m, killed) may have left echo off; a shell wants it on, so it
    is not turned off again. Only ECHO and ICANON are touched, only when off; a non-terminal is left alone.
    """
    try:
        import termios

        modes = termios.tcgetattr(fd)
        if modes[3] & (termios.ECHO | termios.ICANON) != termios.ECHO | termios.ICANON:
            modes[3] |= termios.ECHO | termios.ICANON
            termios.tcsetattr(fd, termios.TCSANOW, modes)
    except (ImportError, OSError, termios.error):
        pass


async def stdin_lines(fd: int = 0) -> AsyncIterator[str]:
    """Yield each line of ``fd`` as it arrives; end quietly at EOF or on a read error."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[str | None] = asyncio.Queue()

    def put(item: str | None) -> None:
        # RuntimeError: the login is over and its loop closed while this thread was still reading.
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(queue.put_nowait, item)

    def read() -> None:
        pending = b""
        while True:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            *lines, pending = (pending + chunk).split(b"\n")
            for line in lines:
                put(line.decode("utf-8", "replace").rstrip("\r"))
            if len(pending) > MAX_LINE:
                pending = b""
        if pending:
            put(pending.decode("utf-8", "replace"))
        put(None)

    threading.Thread(target=read, name="loopauth-stdin", daemon=True).start()
    while (line := await queue.get()) is not None:
        yield line
