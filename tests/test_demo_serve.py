"""`loopauth demo --serve`: a demo provider that keeps running, and every command it prints works against it.

The tests run the printed commands exactly as printed (through bash), as a user pasting them would.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from loopauth.store import CredentialStore

from .conftest import FAKE_BROWSER, browser_env, run_cli_async

BIN = str(Path(sys.executable).parent)


class Serving:
    """`loopauth demo --serve` as a child process: stdout read line by line as it comes."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.out: list[str] = []

    async def read_until(self, pattern: str, timeout: float = 30) -> str:
        assert self.proc.stdout is not None
        async with asyncio.timeout(timeout):
            while True:
                raw = await self.proc.stdout.readline()
                if not raw:
                    err = await self.proc.stderr.read() if self.proc.stderr else b""
                    raise AssertionError(f"demo --serve ended:\n{''.join(self.out)}\n{err.decode()}")
                self.out.append(raw.decode())
                if re.search(pattern, self.out[-1]):
                    return self.out[-1]

    def commands(self) -> list[str]:
        """The "Try" block's commands: continuation lines joined, comments dropped."""
        text = "".join(self.out).split("Try, in another terminal:\n", 1)[1].replace("\\\n", " ")
        return [line.split("  # ")[0].strip() for line in text.splitlines() if line.strip()]

    async def stop(self) -> tuple[int, str]:
        self.proc.send_signal(signal.SIGINT)
        _, err = await asyncio.wait_for(self.proc.communicate(), 20)
        assert self.proc.returncode is not None
        return self.proc.returncode, err.decode()


StartServe = Callable[..., Awaitable[Serving]]


@pytest.fixture
async def serve() -> AsyncIterator[StartServe]:
    started: list[Serving] = []

    async def start(*args: str) -> Serving:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "loopauth",
            "demo",
            "--serve",
            *args,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        serving = Serving(proc)
        started.append(serving)
        await serving.read_until(r"loopauth logout --profile \S+ --revoke")
        return serving

    yield start
    for serving in started:
        if serving.proc.returncode is None:
            # SIGTERM first: the server then removes its temporary files, even after a failed test.
            serving.proc.terminate()
            try:
                await asyncio.wait_for(serving.proc.wait(), 10)
            except TimeoutError:
                serving.proc.kill()
                await serving.proc.wait()


async def shell(command: str, *, prefix: str = "") -> subprocess.CompletedProcess[str]:
    """One printed command, through bash, as pasted into a terminal."""
    proc = await asyncio.create_subprocess_exec(
        "bash",
        "-c",
        f"{prefix}{command}",
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        # Read now, not at import: the autouse fixture has pointed LOOPAUTH_CONFIG_DIR at this test's own dir.
        env={
            **os.environ,
            "PATH": f"{BIN}:{os.environ.get('PATH', '')}",
            "BROWSER": f"{sys.executable} {FAKE_BROWSER} %s",
        },
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return subprocess.CompletedProcess(command, proc.returncode, out.decode(), err.decode())


async def run_printed(serving: Serving) -> list[str]:
    """Run every printed command but the logout; returns them."""
    prefix = ""
    ran: list[str] = []
    for command in serving.commands():
        if command.startswith("export "):
            prefix = f"{command}; "
            continue
        if command.startswith("curl") and shutil.which("curl") is None:
            continue
        if "logout" in command:
            continue
        if command.startswith("loopauth login"):
            command += " --port 0"  # 8470 may be another login's on a shared test machine
        result = await shell(command, prefix=prefix)
        assert result.returncode == 0, f"{command}\n{result.stderr}"
        if command.startswith("curl"):
            # curl exits 0 on a 401 too: the account's name shows that the provider took the credentials.
            assert re.search(r'"(screen_name|username)": "loopauth_demo"', result.stdout), result.stdout
        ran.append(command)
    return ran


async def test_serve_logs_in_and_every_printed_command_works_then_ctrl_c_stops_it(serve: StartServe) -> None:
    """Endpoints, a logged-in `demo` profile, and the README's commands, each of which works as printed;
    Ctrl-C stops the provider (exit 0) and removes its files; verify then says how to start it again, and
    that command brings the profile back to life."""
    serving = await serve("--port", "0")
    text = "".join(serving.out)
    base = re.search(r"Demo provider running at (http://127\.0\.0\.1:(\d+))", text)
    assert base
    for name in ("request token", "authorize", "authenticate", "access token", "verify", "revoke"):
        assert re.search(rf"^  {name} +http://127\.0\.0\.1:", text, re.MULTILINE), name
    assert "saved as profile 'demo'" in text
    ran = await run_printed(serving)
    assert any("--json" in c for c in ran)
    assert any("-F media=@" in c for c in ran)
    picture = re.search(r"-F media=@(\S+)", text)
    assert picture
    assert Path(picture[1]).exists()

    code, err = await serving.stop()
    assert code == 0
    assert "Stopped the demo provider." in err
    assert not Path(picture[1]).exists()

    dead = await run_cli_async("verify", "--profile", "demo")
    assert dead.returncode == 5
    hint = re.search(r"start it with `([^`]+)`", dead.stderr)
    assert hint
    assert hint[1] == f"loopauth demo --serve --port {base[2]}"
    again = await serve(*hint[1].split()[3:])
    assert (await shell("loopauth verify --profile demo")).returncode == 0
    logout = await shell(next(c for c in again.commands() if "logout" in c))
    assert logout.returncode == 0, logout.stderr
    assert "Revoked the token at demo" in logout.stderr
    await again.stop()


async def test_https_serve_prints_how_to_trust_its_certificate(serve: StartServe) -> None:
    """--https: https endpoints, a throwaway certificate and the export that makes loopauth (and curl) trust it."""
    serving = await serve("--port", "0", "--https")
    text = "".join(serving.out)
    assert re.search(r"Demo provider running at https://127\.0\.0\.1:\d+", text)
    assert "export SSL_CERT_FILE=" in text
    untrusted = await shell("loopauth verify --profile demo")
    assert untrusted.returncode == 5
    assert "TLS certificate is not trusted" in untrusted.stderr
    assert "run the `export SSL_CERT_FILE=…` it printed" in untrusted.stderr
    assert "not running" not in untrusted.stderr
    ran = await run_printed(serving)
    assert ran
    code, _ = await serving.stop()
    assert code == 0


async def test_registered_callback_serve_rehearses_the_415_hint(serve: StartServe) -> None:
    """With --registered-callback the demo logs itself in through that callback, and a login with another
    callback fails with error 415 and the URL to register."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    serving = await serve("--port", "0", "--registered-callback", f"http://127.0.0.1:{port}/callback")
    assert "only (any other gets error 415)" in "".join(serving.out)
    other = await shell("loopauth login --profile demo --port 0 --callback-path /elsewhere")
    assert other.returncode == 5
    assert "register this exact callback URL in the app's settings: http://127.0.0.1:" in other.stderr
    assert "/elsewhere" in other.stderr
    assert CredentialStore().load("demo").provider == "demo"
    await serving.stop()


async def test_oauth2_serve_logs_in_every_printed_command_works_and_a_refresh_can_be_watched(
    serve: StartServe,
) -> None:
    """--oauth2: the OAuth 2.0 demo's endpoints and its own commands, each working as printed; with a short
    --token-lifetime the next call refreshes (a new access token is stored); stopped, verify names the command
    that starts it again, and that command brings the profile back."""
    serving = await serve("--oauth2", "--port", "0", "--token-lifetime", "2")
    text = "".join(serving.out)
    base = re.search(r"OAuth 2\.0 demo provider running at (http://127\.0\.0\.1:(\d+))", text)
    assert base, text
    for name in ("client id", "authorize", "token", "revoke", "users/me", "echo"):
        assert re.search(rf"^  {re.escape(name)} +\S", text, re.MULTILINE), name
    assert "tokens last  2 s" in text
    assert "saved as profile 'demo'" in text
    first = CredentialStore().load("demo")
    assert first.protocol == "oauth2"
    ran = await run_printed(serving)
    assert any(c.startswith("curl") for c in ran) or shutil.which("curl") is None
    assert any("--json" in c for c in ran)
    assert any(c.startswith("loopauth exec") for c in ran)

    await asyncio.sleep(2.5)  # past the access token's lifetime: the next use refreshes it
    before = CredentialStore().load("demo").token_dict()["access_token"]
    me = await shell(f"loopauth request --profile demo {base[1]}/2/users/me")
    assert me.returncode == 0, me.stderr
    assert '"username": "loopauth_demo"' in me.stdout
    after = CredentialStore().load("demo").token_dict()["access_token"]
    assert after != before

    code, err = await serving.stop()
    assert code == 0
    assert "Stopped the demo provider." in err
    dead = await run_cli_async("verify", "--profile", "demo")
    assert dead.returncode == 5
    hint = re.search(r"start it with `([^`]+)`", dead.stderr)
    assert hint, dead.stderr
    assert hint[1] == f"loopauth demo --serve --oauth2 --port {base[2]}"
    again = await serve(*hint[1].split()[3:])
    assert (await shell("loopauth verify --profile demo")).returncode == 0
    logout = await shell(next(c for c in again.commands() if "logout" in c))
    assert logout.returncode == 0, logout.stderr
    await again.stop()


async def test_serve_on_a_busy_port_is_exit_6_with_the_busy_port_line(tmp_path: Path) -> None:
    """A --port somebody listens on: exit 6 and one line, as a login's busy callback port (both demos)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        for extra in ((), ("--oauth2",)):
            result = await run_cli_async("demo", "--serve", *extra, "--port", str(port), env=browser_env())
            assert result.returncode == 6, result.stderr
            assert result.stderr.splitlines()[-1] == (
                f"loopauth: error: demo provider port {port} on 127.0.0.1 is already in use; "
                "free it or choose another port (0 picks a free one)"
            )
            assert "Traceback" not in result.stderr
    assert not (tmp_path / "config" / "profiles").exists()
