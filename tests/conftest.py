"""Shared fixtures: a private config dir for every test, the demo providers, the CLI in process and as a subprocess.

Every fixture here is safe under pytest-xdist (``make test`` runs on every core): a test's files live in its own
tmp_path, servers listen on port 0, and nothing is shared between tests but read-only data. A new test that must
share something costly across a module marks the module ``pytest.mark.xdist_group(NAME)``."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import webbrowser
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import pytest

from loopauth.models import AnyCredentials, Credentials

from .demo_probes import DemoOAuth2Provider, DemoProvider

# Fixtures for tests that need a real (or no) Secret Service: secret_service, locked_secret_service, no_secret_service.
from .secret_service import locked_secret_service, no_secret_service, secret_service  # noqa: F401


def pytest_configure(config: pytest.Config) -> None:
    """Ctrl-C reaches the children, however the suite was started.

    A background job of a script (CI, ``make test > log &``) starts with SIGINT ignored, and an ignored signal
    stays ignored across exec: every loopauth a test starts would ignore the SIGINT a Ctrl-C test sends it, and
    the test would wait for it in vain. A handler of Python's own here is reset to the default in each child.
    """
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


MACHINE_BROWSER_ENV = ("BROWSER", "DISPLAY", "WAYLAND_DISPLAY", "TERM")
"""What leads webbrowser to the machine's own browsers; no test sees it."""


@pytest.fixture(autouse=True)
def config_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own empty config dir; the user's real one is never touched."""
    path = tmp_path / "config"
    monkeypatch.setenv("LOOPAUTH_CONFIG_DIR", str(path))
    for name in ("LOOPAUTH_CONSUMER_KEY", "LOOPAUTH_CONSUMER_SECRET", "LOOPAUTH_PROFILE", "SSH_CONNECTION"):
        monkeypatch.delenv(name, raising=False)
    # Never the machine's browser. webbrowser looks for one only where $DISPLAY or $WAYLAND_DISPLAY (desktop
    # browsers, xdg-open) or $TERM (console browsers: Debian's w3m, as www-browser) says there may be one to
    # show it, and it tries them even after $BROWSER's command fails. Without these, every test (and every
    # process it starts) is on a machine with no browser, unless it names its own in $BROWSER; a w3m run from
    # a test would otherwise take the terminal and hold the pipes of the process that started it.
    for name in MACHINE_BROWSER_ENV:
        monkeypatch.delenv(name, raising=False)
    # webbrowser reads $BROWSER once per process, at its first use; each test sets its own.
    monkeypatch.setattr(webbrowser, "_tryorder", None)
    monkeypatch.setattr(webbrowser, "_browsers", {})
    return path


Cli = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Cli:
    """``loopauth.cli.main(argv)`` in this process, with stdout and stderr captured: for usage errors, output
    formats and exit codes, where a subprocess would only add its start-up time."""
    from loopauth.cli import main

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        capsys.readouterr()
        code = main(list(args))
        out, err = capsys.readouterr()
        return subprocess.CompletedProcess(list(args), code, out, err)

    return run


CliAsync = Callable[..., Awaitable[subprocess.CompletedProcess[str]]]


@pytest.fixture
def cli_async(capsys: pytest.CaptureFixture[str]) -> CliAsync:
    """``cli`` for async tests whose event loop serves a demo provider: ``main(argv)`` runs in a worker thread, so
    the loop keeps answering the calls it makes. For header, request, verify, token, status, logout and the like;
    a login, ``exec`` or anything that needs its own process (stdin, signals, environment) stays ``run_cli_async``."""
    import asyncio

    from loopauth.cli import main

    running: list[tuple[str, ...]] = []

    async def run(*args: str) -> subprocess.CompletedProcess[str]:
        # One at a time: the commands share this process's stdout and stderr. Commands that must run together
        # (several processes refreshing one token) are processes: run_cli_async.
        assert not running, f"cli_async{args} while cli_async{running[0]} runs: use run_cli_async for that"
        running.append(args)
        try:
            capsys.readouterr()
            code = await asyncio.to_thread(main, list(args))
            out, err = capsys.readouterr()
        finally:
            running.clear()
        return subprocess.CompletedProcess(list(args), code, out, err)

    return run


@pytest.fixture
def threaded_demo() -> Iterator[DemoProvider]:
    """The OAuth 1.0a demo provider on an event loop of its own, in a thread: for synchronous tests, which call it
    with a blocking client or through ``cli`` (``main(argv)`` in this process)."""
    from .threaded_demos import in_a_thread

    with in_a_thread(DemoProvider()) as provider:
        yield provider


@pytest.fixture
def threaded_demo2() -> Iterator[DemoOAuth2Provider]:
    """The OAuth 2.0 demo provider, as ``threaded_demo``."""
    from .threaded_demos import in_a_thread

    with in_a_thread(DemoOAuth2Provider()) as provider:
        yield provider


@pytest.fixture
async def demo() -> AsyncIterator[DemoProvider]:
    """The embedded OAuth 1.0a provider, started on a free loopback port."""
    async with DemoProvider() as provider:
        yield provider


def run_cli(
    *args: str, env: dict[str, str] | None = None, input: str | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m loopauth`` as a subprocess, the way a user or another tool does."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "loopauth", *args],
        capture_output=True,
        text=True,
        env=full_env,
        input=input,
        timeout=timeout,
        stdin=None if input is not None else subprocess.DEVNULL,
    )


async def run_cli_async(
    *args: str, env: dict[str, str] | None = None, timeout: float = 60, stdin: bytes | None = None
) -> subprocess.CompletedProcess[str]:
    """``run_cli`` for tests whose event loop must keep serving (the demo provider runs in it)."""
    import asyncio

    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "loopauth",
        *args,
        stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, **(env or {})},
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(stdin), timeout)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise
    assert proc.returncode is not None
    return subprocess.CompletedProcess(list(args), proc.returncode, out.decode(), err.decode())


FAKE_BROWSER = Path(__file__).with_name("fake_browser.py")


def browser_env(*flags: str) -> dict[str, str]:
    """``BROWSER`` set to the fake browser that plays the user on the demo provider."""
    return {"BROWSER": " ".join([sys.executable, str(FAKE_BROWSER), *flags, "%s"])}


def demo_login_args(demo: DemoProvider, *extra: str) -> list[str]:
    p = demo.provider
    return [
        "login",
        "--provider",
        "demo",
        "--consumer-key",
        demo.consumer_key,
        "--consumer-secret",
        demo.consumer_secret,
        "--request-token-url",
        p.request_token_url,
        "--authorize-url",
        p.authorize_url,
        "--access-token-url",
        p.access_token_url,
        "--port",
        "0",
        "--timeout",
        "20",
        *extra,
    ]


def oauth1(creds: AnyCredentials) -> Credentials:
    """``creds``, checked to be an OAuth 1.0a login's (for tests that then read its token pair)."""
    assert isinstance(creds, Credentials), creds
    return creds


def port_is_free(port: int) -> bool:
    with socket.socket() as sock:
        # As the callback server does: a port in TIME_WAIT is free, one somebody listens on is not.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
            sock.listen()
        except OSError:
            return False
    return True
