"""Opening the system browser without ever blocking the login.

``webbrowser`` honours ``BROWSER``; a terminal browser named there (w3m,
lynx) runs in the foreground until the user quits it, so the call happens in
a daemon thread: the event loop keeps serving the callback, and the process
can exit even while such a browser is still running.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from ..errors import UsageError
from .background import Background

Opener = Callable[[str], Awaitable[bool]]
"""An async callable that opens a URL somewhere (tests and the demo's scripted user): True if it did."""

LAUNCHER_WAIT = 10.0
"""How long a WSL launcher may take to report; it runs in the opener's thread, so the login never waits on it."""


def _is_wsl() -> bool:
    if os.environ.get("WSL_DISTRO_NAME"):
        return True
    try:
        with open("/proc/sys/kernel/osrelease", encoding="ascii", errors="replace") as f:
            return "microsoft" in f.read().lower()
    except OSError:
        return False


def open_url_blocking(url: str) -> bool:
    """Open ``url`` in the user's browser; False when there is none. May block (terminal browsers)."""
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
        return bool(webbrowser.open(url, new=2))
    except webbrowser.Error:
        return False


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


def launch(url: str) -> Background[bool]:
    """Start opening ``url`` in the user's browser, in a daemon thread; its result says whether one was launched.

    A browser still running (a terminal browser waiting for its user) has not reported yet; the login
    never waits for it: the callback arriving is proof enough that the browser was opened.
    """

    def run() -> bool:
        try:
            return open_url_blocking(url)
        except Exception:
            return False

    return Background(run, name="loopauth-browser")
