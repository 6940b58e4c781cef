"""A console browser (w3m, lynx) shares loopauth's terminal; the login waits for it to quit before printing the
result, never leaves it behind, and gives the terminal its modes back. And the login says what it waits for.

The terminal is a real pseudo-terminal, the controlling terminal of the ``loopauth`` process on it, as a shell
gives one to a command it runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import pty
import re
import select
import signal
import subprocess
import sys
import termios
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest

from loopauth.api import prepare
from loopauth.errors import LoginTimeout
from loopauth.loopback.countdown import ERASE_LINE, SAVE_CURSOR
from loopauth.loopback.options import LoginOptions
from loopauth.loopback.runner import Login

from .conftest import Cli, browser_env, demo_login_args
from .demo_probes import DemoProvider
from .threaded_demos import in_a_thread

TERMINAL_BROWSER = Path(__file__).with_name("terminal_browser.py")


@pytest.fixture
def terminal() -> Iterator[tuple[int, int]]:
    """A pseudo-terminal: (the side a person types on, the side loopauth gets as its terminal)."""
    controller, terminal = pty.openpty()
    try:
        yield controller, terminal
    finally:
        os.close(controller)
        os.close(terminal)


# Run in a new session (start_new_session): make stdin, the pty, the controlling terminal, as a login shell
# has one, then become loopauth. A separate program rather than a preexec_fn, which is unsafe in a threaded test.
TAKE_TERMINAL = (
    "import fcntl, os, sys, termios; fcntl.ioctl(0, termios.TIOCSCTTY, 0); "
    "os.execv(sys.executable, [sys.executable, '-m', 'loopauth', *sys.argv[1:]])"
)


async def on_terminal(
    terminal: int,
    *args: str,
    env: dict[str, str] | None = None,
    stderr: int = subprocess.PIPE,
    desktop: bool = True,
) -> asyncio.subprocess.Process:
    """``loopauth ARGS`` with ``terminal`` as its stdin and controlling terminal; stdout (and stderr) piped.

    ``desktop``: in a desktop session (DISPLAY set; nothing opens it), where a browser command could be a
    desktop browser; else over SSH or in a container, where none can."""
    environ = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    if desktop:
        environ["DISPLAY"] = ":99"
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        TAKE_TERMINAL,
        *args,
        stdin=terminal,
        stdout=subprocess.PIPE,
        stderr=stderr,
        env={**environ, **(env or {})},
        start_new_session=True,
    )


def console_browser(tmp_path: Path, *flags: str) -> dict[str, str]:
    pid, keys = tmp_path / "browser.pid", tmp_path / "keys"
    return {"BROWSER": f"{sys.executable} {TERMINAL_BROWSER} --pid {pid} {' '.join(flags)} {keys} %s"}


def running(pid: int) -> bool:
    """Whether ``pid`` still runs (a zombie is done, whoever reaps it)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    except OSError:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


async def until(check: Callable[[], bool], timeout: float = 20) -> None:
    """Poll ``check``: what it watches (a file, a terminal's modes) is changed by another process."""
    async with asyncio.timeout(timeout):
        while not check():  # noqa: ASYNC110 - no event to wait on across processes
            await asyncio.sleep(0.05)


@contextlib.asynccontextmanager
async def browser_pid(tmp_path: Path) -> AsyncIterator[Callable[[], int]]:
    """The fake browser's pid once it has written it; killed at the end if a failing test left it running."""
    path = tmp_path / "browser.pid"
    try:
        yield lambda: int(path.read_text())
    finally:
        with contextlib.suppress(ValueError, OSError):
            pid = int(path.read_text())
            if running(pid):
                os.kill(pid, signal.SIGKILL)


def named_w3m(tmp_path: Path, *flags: str) -> dict[str, str]:
    """``BROWSER=w3m``, with a ``w3m`` of ours first on PATH (the fake, run under that name)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "w3m"
    command = console_browser(tmp_path, *flags)["BROWSER"].replace("%s", '"$1"')
    script.write_text(f"#!/bin/sh\nexec {command}\n")
    script.chmod(0o755)
    return {"BROWSER": "w3m", "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}


@pytest.mark.parametrize(
    ("browser", "desktop"),
    [
        (lambda tmp_path: console_browser(tmp_path, "--hold"), True),  # takes the terminal (raw mode)
        (lambda tmp_path: named_w3m(tmp_path, "--hold", "--cooked"), True),  # known by its name alone
        (lambda tmp_path: console_browser(tmp_path, "--hold", "--cooked"), False),  # no desktop: what else?
    ],
    ids=["takes-the-terminal", "named-w3m", "no-desktop"],
)
async def test_the_result_waits_for_the_console_browser_and_the_terminal_gets_its_modes_back(
    demo: DemoProvider,
    tmp_path: Path,
    config_dir: Path,
    terminal: tuple[int, int],
    browser: Callable[[Path], dict[str, str]],
    desktop: bool,
) -> None:
    """The tokens are saved when the callback arrives; the result is printed, and loopauth exits, only once the
    person has quit the browser that owns the terminal; the raw mode it left behind is undone."""
    controller, tty = terminal
    modes = termios.tcgetattr(tty)
    async with browser_pid(tmp_path) as pid:
        proc = await on_terminal(tty, *demo_login_args(demo), env=browser(tmp_path), desktop=desktop)
        try:
            await until(lambda: (tmp_path / "browser.pid").exists())
            os.write(controller, b"j\n")  # a key for the browser; it then takes the screen (raw mode)
            await until(lambda: (config_dir / "profiles" / "default.json").exists())
            assert proc.stdout is not None
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(proc.stdout.read(1), 1.5)  # nothing printed under the browser's screen
            assert proc.returncode is None
            assert running(pid())
            os.write(controller, b"q\n")  # the person quits the browser
            out, err = await asyncio.wait_for(proc.communicate(), 20)
        finally:
            if proc.returncode is None:
                proc.kill()
        assert proc.returncode == 0, err.decode()
        assert "Logged in" in out.decode()
        assert not running(pid())
        assert termios.tcgetattr(tty) == modes


@pytest.mark.parametrize("ending", ["timeout", "interrupt"])
async def test_a_console_browser_is_stopped_when_the_login_fails(
    demo: DemoProvider, tmp_path: Path, terminal: tuple[int, int], ending: str
) -> None:
    """Timed out or interrupted, the login leaves no browser behind: SIGTERM, and SIGKILL for one that ignores
    it (and the hang-up a closing terminal sends); the terminal gets its modes back."""
    _, tty = terminal
    modes = termios.tcgetattr(tty)
    args = demo_login_args(demo)
    args[args.index("--timeout") + 1] = "5" if ending == "timeout" else "60"
    async with browser_pid(tmp_path) as pid:
        proc = await on_terminal(tty, *args, env=console_browser(tmp_path, "--idle", "--stubborn"))
        try:
            await until(lambda: (tmp_path / "browser.pid").exists())
            await until(lambda: termios.tcgetattr(tty) != modes)  # the browser has taken the terminal
            if ending == "interrupt":
                proc.send_signal(signal.SIGINT)
            _, err = await asyncio.wait_for(proc.communicate(), 30)
        finally:
            if proc.returncode is None:
                proc.kill()
        assert proc.returncode == (4 if ending == "timeout" else 130), err.decode()
        assert not running(pid())
        assert termios.tcgetattr(tty) == modes


@pytest.mark.parametrize(
    "browser",
    [
        browser_env("--linger", "30")["BROWSER"],  # runs on, in the foreground, never touching the terminal
        browser_env()["BROWSER"] + " &",  # a launcher: returns at once, the page loads in the background
    ],
    ids=["blocking-desktop-browser", "launcher"],
)
async def test_a_browser_that_does_not_use_the_terminal_never_delays_the_exit(
    demo: DemoProvider, terminal: tuple[int, int], browser: str
) -> None:
    _, tty = terminal
    started = time.monotonic()
    proc = await on_terminal(tty, *demo_login_args(demo), env={"BROWSER": browser})
    try:
        out, err = await asyncio.wait_for(proc.communicate(), 25)
    finally:
        if proc.returncode is None:
            proc.kill()
    assert proc.returncode == 0, err.decode()
    assert "Logged in" in out.decode()
    assert time.monotonic() - started < 15


# --- saying what the login waits for -----------------------------------------------------------------------------

WAITING = re.compile(
    r"^Waiting up to 1 s for the browser to come back to http://127\.0\.0\.1:\d+/callback \(Ctrl-C to give up\)\.$"
)


def test_the_login_says_what_it_waits_for_how_long_and_how_to_give_up(cli: Cli) -> None:
    """Not on a terminal: the one line, and no countdown."""
    with in_a_thread(DemoProvider()) as demo:
        args = demo_login_args(demo, "--no-browser")
        args[args.index("--timeout") + 1] = "1"
        result = cli(*args)
    assert result.returncode == 4, result.stderr
    lines = result.stderr.splitlines()
    opened = next(i for i, line in enumerate(lines) if line.startswith("Open this URL in a browser"))
    assert [line for line in lines if WAITING.match(line)] == [lines[opened + 1]]
    assert "\r" not in result.stderr
    assert "\x1b" not in result.stderr
    assert " left" not in result.stderr


async def test_the_pin_flow_says_it_waits_for_the_pin(demo: DemoProvider) -> None:
    async def nothing_typed() -> AsyncIterator[str]:
        return
        yield

    said: list[str] = []
    values: dict[str, object] = {"oob": True, "open_browser": False, "paste": nothing_typed(), "timeout": 1}
    login = Login(
        prepare(
            LoginOptions(
                provider=demo.provider,
                consumer_key=demo.consumer_key,
                consumer_secret=demo.consumer_secret,
                say=said.append,
                **values,  # type: ignore[arg-type]
            )
        )
    )
    with pytest.raises(LoginTimeout):
        await login.complete()
    assert "Waiting up to 1 s for the PIN (Ctrl-C to give up)." in said


class Screen:
    """What is written to the terminal, read as it comes (a pty holds only a few kB); :meth:`text` once done."""

    def __init__(self, controller: int) -> None:
        self.controller = controller
        self.data = bytearray()
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        while True:
            if select.select([self.controller], [], [], 0.1)[0]:
                try:
                    chunk = os.read(self.controller, 4096)
                except OSError:
                    return
                if not chunk:
                    return
                self.data.extend(chunk)
            elif self.done.is_set():
                return  # the writers have exited and everything they wrote has been read

    async def text(self) -> str:
        self.done.set()
        await asyncio.to_thread(self.thread.join, 10)
        return self.data.decode()


async def test_on_a_terminal_a_countdown_runs_and_is_gone_when_the_wait_ends(
    demo: DemoProvider, terminal: tuple[int, int]
) -> None:
    """stderr on a terminal: the time left, redrawn in place, erased before the next line; and since the
    terminal can be pasted on, the waiting line says so."""
    controller, tty = terminal
    args = demo_login_args(demo, "--no-browser")
    args[args.index("--timeout") + 1] = "3"
    proc = await on_terminal(tty, *args, stderr=tty)
    shown = Screen(controller)
    try:
        await asyncio.wait_for(proc.wait(), 25)
    finally:
        if proc.returncode is None:
            proc.kill()
    screen = await shown.text()
    assert proc.returncode == 4, screen
    assert re.search(
        r"Waiting up to 3 s for the browser to come back to \S+, or for the address it lands on to be pasted here "
        r"\(Ctrl-C to give up\)\.",
        screen,
    ), screen
    assert "waiting,  0:03 left " in screen or "waiting,  0:02 left " in screen, screen
    assert SAVE_CURSOR + "\rwaiting,  0:01 left " in screen, screen  # redrawn in place
    error = screen.index("loopauth: error: timed out")
    last = screen.rindex(" left ")
    assert screen.find(ERASE_LINE, last) < error  # gone before the error line is printed
    assert "loopauth: error:" in screen.split(ERASE_LINE)[-1]


async def test_no_countdown_is_drawn_while_a_console_browser_owns_the_terminal(
    demo: DemoProvider, tmp_path: Path, terminal: tuple[int, int]
) -> None:
    """The browser draws its screen on the terminal loopauth's stderr is on: the countdown stays out of it."""
    controller, tty = terminal
    args = demo_login_args(demo)
    args[args.index("--timeout") + 1] = "4"
    async with browser_pid(tmp_path) as pid:
        proc = await on_terminal(tty, *args, env=console_browser(tmp_path, "--idle"), stderr=tty)
        shown = Screen(controller)
        try:
            await asyncio.wait_for(proc.wait(), 25)
        finally:
            if proc.returncode is None:
                proc.kill()
        screen = await shown.text()
        assert proc.returncode == 4, screen
        assert "Waiting up to 4 s for the browser" in screen
        assert " left " not in screen
        assert not running(pid())
