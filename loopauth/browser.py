"""Opening the system browser without ever blocking the login.

``webbrowser`` honours ``BROWSER``; a terminal browser named there (w3m,
lynx) runs in the foreground until the user quits it, so the call happens in
a daemon thread: the event loop keeps serving the callback, and the process
can exit even while such a browser is still running.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import threading
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from .errors import UsageError

TYPE_CHECKING = False  # asyncio is imported only when awaited: `loopauth login` opens the browser before it
if TYPE_CHECKING:
    import asyncio

Opener = Callable[[str], Awaitable[bool]]

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


def _settle(future: asyncio.Future[bool], value: bool) -> None:
    if not future.done():
        future.set_result(value)


class Launch:
    """A browser being opened on ``url`` in a daemon thread, started at once, with or without an event loop.

    ``loopauth login`` starts one before asyncio and aiohttp are even imported; the login awaits
    :meth:`opened` later. A browser still running after that (a terminal browser waiting for its
    user) counts as launched; its thread is a daemon and never delays exit.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self._lock = threading.Lock()
        self._opened: bool | None = None
        self._waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[bool]]] = []
        threading.Thread(target=self._run, name="loopauth-browser", daemon=True).start()

    def _run(self) -> None:
        try:
            opened = open_url_blocking(self.url)
        except Exception:
            opened = False
        with self._lock:
            self._opened = opened
            waiters, self._waiters = self._waiters, []
        for loop, future in waiters:
            # RuntimeError: the login ended (and its loop closed) while this browser was still starting.
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(_settle, future, opened)

    async def opened(self, within: float = 1.0) -> bool:
        """Whether a browser was launched, waiting at most ``within`` seconds for it to say."""
        import asyncio

        loop = asyncio.get_running_loop()
        future: asyncio.Future[bool] = loop.create_future()
        with self._lock:
            if self._opened is not None:
                return self._opened
            self._waiters.append((loop, future))
        try:
            return await asyncio.wait_for(future, timeout=within)
        except TimeoutError:
            return True


async def open_in_thread(url: str) -> bool:
    """Start opening ``url`` and report within a second whether a browser was launched."""
    return await Launch(url).opened()
