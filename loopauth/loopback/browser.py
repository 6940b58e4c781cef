"""Opening the system browser without ever blocking the login, and without leaving a terminal browser behind.

``webbrowser`` honours ``BROWSER``; a console browser (w3m, lynx, or a ``BROWSER`` command it cannot tell
is graphical) runs in the foreground until the user quits it, so the opening happens in a daemon thread:
the event loop keeps serving the callback meanwhile. When such a browser shares our terminal, we start it
ourselves (as ``webbrowser`` would: same command, same terminal) to keep its process: the login then waits
for the user to quit it before the result is printed over its screen, stops it when the login fails, and
gives the terminal back in the modes it had before. A desktop browser or a launcher (xdg-open, open, a
browser that forks) is opened through ``webbrowser`` as ever, and never delays anything.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from ..errors import UsageError
from .background import Background

if TYPE_CHECKING:
    import webbrowser

Opener = Callable[[str], Awaitable[bool]]
"""An async callable that opens a URL somewhere (tests and the demo's scripted user): True if it did."""

LAUNCHER_WAIT = 10.0
"""How long a WSL launcher may take to report; it runs in the opener's thread, so the login never waits on it."""
STOP_GRACE = 2.0
"""How long a console browser has to quit after SIGTERM (w3m and lynx clean up their screen) before SIGKILL."""
CONSOLE_BROWSERS = frozenset({"w3m", "lynx", "links", "links2", "elinks", "www-browser", "browsh"})
"""Browsers known to draw in the terminal; any other foreground command is one without a desktop, or on a
desktop once it changes the terminal's modes."""

RunForeground = Callable[[Sequence[str]], bool]


def _is_wsl() -> bool:
    if os.environ.get("WSL_DISTRO_NAME"):
        return True
    try:
        with open("/proc/sys/kernel/osrelease", encoding="ascii", errors="replace") as f:
            return "microsoft" in f.read().lower()
    except OSError:
        return False


def open_url_blocking(url: str, run_foreground: RunForeground | None = None) -> bool:
    """Open ``url`` in the user's browser; False when there is none. May block (terminal browsers).

    ``run_foreground`` runs the command of a browser that ``webbrowser`` would run in the foreground
    and wait for (a console browser), in place of ``webbrowser``; without it, ``webbrowser`` runs it.
    """
    if urlsplit(url).scheme not in ("http", "https"):
        # Only web URLs ever reach a browser: never a file:, javascript: or a shell string.
        raise UsageError(f"refusing to open a non-http(s) URL: {url!r}")
    if not os.environ.get("BROWSER") and _is_wsl():
        # webbrowser knows nothing of the Windows side; wslview (wslu) does, explorer.exe as a fallback.
        for launcher in ("wslview", "explorer.exe"):
            path = shutil.which(launcher)
            if path and _launch(path, url, trust_status=launcher != "explorer.exe"):
                return True
    import webbrowser

    try:
        if run_foreground is not None:
            command = _foreground_command(webbrowser.get(), url)
            if command is not None:
                return run_foreground(command)
        return bool(webbrowser.open(url, new=2))
    except webbrowser.Error:
        return False


def _foreground_command(controller: webbrowser.BaseBrowser, url: str) -> list[str] | None:
    """The command line ``controller`` would run and wait for, or None when it returns at once (it forks, or
    hands the URL to a running browser): exactly what ``webbrowser.GenericBrowser.open`` would run."""
    import webbrowser

    if isinstance(controller, webbrowser.BackgroundBrowser):
        return None
    if isinstance(controller, webbrowser.GenericBrowser):
        return [controller.name, *(arg.replace("%s", url) for arg in controller.args)]
    if controller.basename in CONSOLE_BROWSERS:
        return [controller.name, url]  # elinks has a class of its own; run in the foreground all the same
    return None


def _launch(path: str, url: str, *, trust_status: bool) -> bool:
    """Run one WSL launcher; False when it could not start or said it failed, so the next one is tried."""
    try:
        # One argument, no shell: the URL cannot be read as a command (CPython gh-143930).
        proc = subprocess.Popen(  # noqa: S603 - a fixed launcher and one URL argument
            [path, url],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
    except OSError:
        return False
    if not trust_status:
        # explorer.exe exits with 1 even when it did open the page: its status says nothing.
        return True
    try:
        return proc.wait(timeout=LAUNCHER_WAIT) == 0
    except subprocess.TimeoutExpired:
        return True  # still handing the URL to Windows: as good as launched


def browser_available() -> bool:
    """Whether opening a URL can show it to somebody (a configured or detected browser, or WSL's launcher)."""
    if os.environ.get("BROWSER"):
        return True
    if _is_wsl() and (shutil.which("wslview") or shutil.which("explorer.exe")):
        return True
    import webbrowser

    try:
        webbrowser.get()
    except webbrowser.Error:
        return False
    return True


class Terminal:
    """The terminal this process shares with a browser it starts, and that terminal's modes before it did."""

    def __init__(self, fd: int, modes: list[Any]) -> None:
        self.fd = fd
        self.modes = modes

    @classmethod
    def ours(cls) -> Terminal | None:
        """The first of stdin, stdout, stderr that is a terminal in whose foreground we run, or None."""
        try:
            import termios
        except ImportError:
            return None  # no terminal modes to keep here (Windows)
        for fd in (0, 1, 2):
            try:
                # In the background (`loopauth login &`) the terminal is not ours to share, nor to set.
                if os.isatty(fd) and _in_foreground(fd):
                    return cls(fd, termios.tcgetattr(fd))
            except (OSError, termios.error):
                continue
        return None

    def changed(self) -> bool:
        import termios

        try:
            return termios.tcgetattr(self.fd) != self.modes
        except termios.error:
            return False

    def restore(self) -> None:
        """Put the modes back (a browser killed, or one that left raw mode behind), if they changed."""
        import termios

        with contextlib.suppress(OSError, termios.error):
            # Setting modes from a background process group would stop us (SIGTTOU): only in the foreground.
            if self.changed() and _in_foreground(self.fd):
                termios.tcsetattr(self.fd, termios.TCSADRAIN, self.modes)


def _desktop() -> bool:
    """Whether a browser command we cannot name could be a desktop one, showing a window rather than using
    the terminal (X11, Wayland, macOS)."""
    return sys.platform == "darwin" or bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def _in_foreground(fd: int) -> bool:
    try:
        return os.tcgetpgrp(fd) == os.getpgrp()
    except OSError:
        return True  # not our controlling terminal, so using it cannot stop us


class Browser:
    """The system browser being opened in a daemon thread; :meth:`wait` says whether one was.

    A console browser sharing our terminal is our child: :meth:`in_terminal` says whether it still runs
    there, and :meth:`stop` ends it (when it still runs) and restores the terminal's modes.
    """

    def __init__(self, url: str) -> None:
        self._lock = threading.Lock()
        self._proc: subprocess.Popen[bytes] | None = None
        self._console = False
        self._stopped = False
        self.terminal = Terminal.ours()
        # Without a terminal to share, a foreground browser has no keyboard or screen of ours to take.
        run_foreground = self._run_foreground if self.terminal is not None else None

        def run() -> bool:
            try:
                return open_url_blocking(url, run_foreground)
            except Exception:
                return False

        self._opening = Background(run, name="loopauth-browser")

    def done(self) -> bool:
        return self._opening.done()

    async def wait(self) -> bool:
        """Whether a browser was opened, once the opening has returned (a console browser: once it has quit)."""
        return await self._opening.wait()

    def _run_foreground(self, command: Sequence[str]) -> bool:
        with self._lock:
            if self._stopped:
                return False  # the login ended before the browser could start: it has nothing left to show
            try:
                # As webbrowser runs it: our terminal, our process group (Ctrl-C reaches it as it reaches us).
                self._proc = subprocess.Popen(command, close_fds=True)  # noqa: S603 - the user's own BROWSER
            except OSError:
                return False
            # Without a desktop to show a window on, whatever runs in the foreground is a console browser.
            self._console = os.path.basename(command[0]) in CONSOLE_BROWSERS or not _desktop()
        return self._proc.wait() == 0

    def in_terminal(self) -> bool:
        """Whether a console browser we started is still running in our terminal (its screen, its keyboard).

        On a desktop, a command we cannot name counts as one once it has changed the terminal's modes (a
        full-screen program sets raw or cbreak mode first thing); one that never touched them is a desktop
        browser, which is neither waited for nor stopped.
        """
        with self._lock:
            proc, console = self._proc, self._console
        if proc is None or proc.poll() is not None or self.terminal is None:
            return False
        return console or self.terminal.changed()

    def stop(self) -> None:
        """End a console browser still in our terminal (SIGTERM, then SIGKILL after a grace) and restore the
        terminal's modes; a browser not started yet never starts. A desktop browser is never touched."""
        with self._lock:
            self._stopped = True
            proc = self._proc
        if proc is not None and self.in_terminal():
            with contextlib.suppress(OSError):
                proc.terminate()
            try:
                proc.wait(timeout=STOP_GRACE)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(OSError):
                    proc.kill()
                proc.wait()
        if self.terminal is not None:
            self.terminal.restore()


def launch(url: str) -> Browser:
    """Start opening ``url`` in the user's browser (see :class:`Browser`).

    A browser still running (a console browser waiting for its user) has not reported yet; the callback
    never waits for it: its arriving is proof enough that the browser was opened.
    """
    return Browser(url)
