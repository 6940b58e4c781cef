"""The time a login has left, redrawn in place on the terminal while it waits, and gone once the wait ends.

Drawn on stderr only when stderr is a terminal in whose foreground we run, and never while a browser we
started may be drawing on that terminal. A person may be typing a paste at the cursor meanwhile: after the
first drawing, each redraw saves the cursor, rewrites the line's start and puts the cursor back, so what
they typed stays where it is. Every write is one whole line (or one whole redraw), never a part of one.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable
from typing import TextIO

from . import wording

ERASE_LINE = "\r\x1b[K"
SAVE_CURSOR = "\x1b7"
RESTORE_CURSOR = "\x1b8"


def on_terminal(stream: TextIO) -> bool:
    """Whether ``stream`` is a terminal we may draw on (in the background we would only garble the shell's)."""
    try:
        fd = stream.fileno()
        return stream.isatty() and os.tcgetpgrp(fd) == os.getpgrp()
    except (OSError, ValueError, AttributeError):
        return False  # no descriptor (a StringIO), closed, or no terminal at all


class Countdown:
    """``time left`` on the terminal's last line until :meth:`run` is cancelled; :meth:`line` prints over it."""

    def __init__(self, stream: TextIO, deadline: float, *, hidden: Callable[[], bool]) -> None:
        self.stream = stream
        self.deadline = deadline
        self.hidden = hidden
        self.shown = False
        self.stopped = False

    async def run(self) -> None:
        """Redraw each second until cancelled (or the deadline); the line is erased either way."""
        import asyncio

        try:
            while not self.stopped and (left := self.deadline - time.monotonic()) > 0:
                if self.hidden():
                    # Whatever was drawn is now under the browser's screen; erasing it would write into that.
                    self.shown = False
                else:
                    self._draw(wording.countdown(left))
                await asyncio.sleep(left % 1 or 1)  # wake as the shown second changes
        finally:
            self.stop()

    def line(self, message: str) -> None:
        """Print a status line: the countdown's line becomes it, in one write; the next redraw goes below."""
        self._write((ERASE_LINE if self.shown else "") + message + "\n")
        self.shown = False

    def newline(self) -> None:
        """The person pressed Enter: the cursor is at the start of a fresh line, below what was drawn."""
        self.shown = False

    def stop(self) -> None:
        """Erase the countdown and draw it no more (a prompt is about to take the line, or the wait is over)."""
        self.stopped = True
        if self.shown and not self.hidden():
            self._write(ERASE_LINE)
        self.shown = False

    def _draw(self, text: str) -> None:
        if self.shown:
            self._write(SAVE_CURSOR + "\r" + text + RESTORE_CURSOR)
        else:
            self._write(text)
            self.shown = True

    def _write(self, text: str) -> None:
        with contextlib.suppress(OSError, ValueError):  # the terminal went away: nothing to draw on
            self.stream.write(text)
            self.stream.flush()
