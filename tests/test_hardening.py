"""Hostile local requests, misbehaving providers, interrupts and store faults, end to end."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import socket
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp
import pytest

from loopauth.demo import DEMO_SCREEN_NAME, play_user
from loopauth.loopback.dance import Approved
from loopauth.loopback.wording import Page

from .conftest import Cli, browser_env, demo_login_args, port_is_free, run_cli, run_cli_async
from .demo_probes import DemoProvider, Failure
from .test_callback import serving, waiter_for


async def _start_login(demo: DemoProvider, *extra: str) -> tuple[asyncio.subprocess.Process, str]:
    """Start `loopauth login --no-browser` and return it with the local URL it printed."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "loopauth", *demo_login_args(demo, "--no-browser", *extra),
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert proc.stderr is not None
    line = (await asyncio.wait_for(proc.stderr.readline(), 20)).decode()
    match = re.search(r"http://127\.0\.0\.1:\d+/[\w-]+", line)
    assert match, line
    return proc, match.group(0)


async def test_junk_burst_is_answered_4xx_and_the_real_callback_still_wins() -> None:
    """Thousands of junk requests over several connections each get a 4xx; then the good callback completes."""
    waiter = waiter_for("tok")
    junk = ["/favicon.ico", "/callback", "/callback?oauth_token=x&oauth_verifier=y", "/callback?denied=x", "/admin"]
    statuses: list[int] = []
    async with serving(waiter) as server:

        async def hammer(worker: int) -> None:
            async with aiohttp.ClientSession() as session:
                for i in range(500):
                    path = junk[(i + worker) % len(junk)]
                    async with session.get(server.origin + path) as response:
                        statuses.append(response.status)

        await asyncio.gather(*(hammer(w) for w in range(6)))
        assert not waiter.result.done()
        waiter.finish(Page(200, "ok"))
        good = f"{server.callback_url}?oauth_token=tok&oauth_verifier=good"
        async with aiohttp.ClientSession() as session, session.get(good) as response:
            assert response.status == 200
    assert len(statuses) == 3000
    assert all(400 <= s < 500 for s in statuses)
    assert waiter.result.result() == Approved("good")


async def test_hung_provider_cannot_outlast_the_timeout(demo: DemoProvider) -> None:
    """A provider that never answers ends the login with exit 5 within --timeout."""
    demo.hang.add("request_token")
    args = demo_login_args(demo, "--no-browser")
    args[args.index("--timeout") + 1] = "2"
    started = time.monotonic()
    result = await run_cli_async(*args, timeout=20)
    assert result.returncode == 5, result.stderr
    assert "did not answer" in result.stderr
    assert time.monotonic() - started < 8


@pytest.mark.parametrize(
    ("failure", "expected"),
    [
        (Failure(500, "<html><title>Internal Server Error</title></html>", "text/html"), "500: Internal Server Error"),
        (Failure(503, "<error>Over capacity</error>", "application/xml"), "503: Over capacity"),
        (Failure(200, '{"ok": true}', "application/json"), "without oauth_token"),
        (
            Failure(403, '{"errors":[{"code":415,"message":"Callback URL not approved for this client application"}]}',
                    "application/json"),
            "register this exact callback URL",
        ),
    ],
)  # fmt: skip
async def test_provider_failures_at_request_token_exit_5_with_one_line(
    demo: DemoProvider, failure: Failure, expected: str
) -> None:
    """Each kind of provider failure is one stderr line with status and message, and exit 5."""
    demo.failures["request_token"] = failure
    result = await run_cli_async(*demo_login_args(demo, "--no-browser"))
    assert result.returncode == 5
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("loopauth: error:")
    assert expected in last
    assert "Traceback" not in result.stderr
    if "register" in expected:
        assert re.search(r"http://127\.0\.0\.1:\d+/callback", last)


async def test_access_token_body_without_tokens_exits_5_and_keeps_earlier_login(cli: Cli, demo: DemoProvider) -> None:
    """A broken access-token answer fails with exit 5 and the earlier profile is untouched."""
    assert (await run_cli_async(*demo_login_args(demo), env=browser_env())).returncode == 0
    before = cli("token", "--json").stdout
    demo.failures["access_token"] = Failure(200, "hello=world")
    result = await run_cli_async(*demo_login_args(demo), env=browser_env())
    assert result.returncode == 5
    assert "without oauth_token" in result.stderr
    assert cli("token", "--json").stdout == before


async def test_busy_port_exits_6_naming_it_before_any_browser(demo: DemoProvider, tmp_path: Path) -> None:
    """Port in use: exit 6 within seconds, naming the port; no request token, no browser."""
    marker = tmp_path / "browser-ran"
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        args = demo_login_args(demo)
        args[args.index("--port") + 1] = str(port)
        started = time.monotonic()
        result = await run_cli_async(*args, env={"BROWSER": f"touch {marker} %s"})
    assert result.returncode == 6
    assert str(port) in result.stderr
    assert time.monotonic() - started < 5
    assert demo.calls["request_token"] == 0
    assert not marker.exists()


async def test_unusable_config_dir_exits_6_before_the_browser(demo: DemoProvider, tmp_path: Path) -> None:
    """A config dir that cannot be created is found before the browser opens: exit 6 naming it."""
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    marker = tmp_path / "browser-ran"
    config = blocker / "loopauth"
    result = await run_cli_async(
        *demo_login_args(demo), env={"LOOPAUTH_CONFIG_DIR": str(config), "BROWSER": f"touch {marker} %s"}
    )
    assert result.returncode == 6
    assert str(blocker) in result.stderr
    assert not marker.exists()
    assert demo.calls["request_token"] == 0


async def test_ctrl_c_while_waiting_exits_130_and_frees_the_port(demo: DemoProvider, config_dir: Path) -> None:
    """SIGINT during the wait: exit 130, no traceback, the port released, nothing written."""
    proc, start_url = await _start_login(demo)
    port = urlsplit(start_url).port
    assert port is not None
    proc.send_signal(signal.SIGINT)
    _, err = await asyncio.wait_for(proc.communicate(), 20)
    assert proc.returncode == 130
    assert "Traceback" not in err.decode()
    assert err.decode().strip().splitlines()[-1] == "loopauth: error: interrupted"
    assert port_is_free(port)
    assert not list(config_dir.glob("profiles/*"))


async def test_ctrl_c_during_the_exchange_keeps_the_earlier_login(cli: Cli, demo: DemoProvider) -> None:
    """SIGINT while the access token is being fetched leaves the earlier profile whole."""
    assert (await run_cli_async(*demo_login_args(demo), env=browser_env())).returncode == 0
    before = cli("token", "--json").stdout
    demo.hang.add("access_token")
    proc, start_url = await _start_login(demo)
    visit = asyncio.create_task(play_user(start_url))
    # The access-token call arrives from another process; the provider's counter is all there is to watch.
    while demo.calls["access_token"] == 0:  # noqa: ASYNC110
        await asyncio.sleep(0.02)
    proc.send_signal(signal.SIGINT)
    await asyncio.wait_for(proc.communicate(), 20)
    visit.cancel()
    assert proc.returncode == 130
    assert cli("token", "--json").stdout == before


def test_corrupt_profile_exits_6_naming_the_file_and_others_still_work(cli: Cli, config_dir: Path) -> None:
    """A corrupt profile is exit 6 naming its path; list still shows the good ones; demo login repairs it."""
    assert run_cli("demo").returncode == 0
    broken = config_dir / "profiles" / "broken.json"
    broken.write_text("{not json")
    result = cli("token", "--profile", "broken")
    assert result.returncode == 6
    assert str(broken) in result.stderr
    assert result.stderr.count("\n") == 1
    assert cli("token", "--profile", "demo").returncode == 0
    listed = cli("list")
    assert "broken" in listed.stdout
    assert DEMO_SCREEN_NAME in listed.stdout
    assert run_cli("demo", "--profile", "broken").returncode == 0
    assert json.loads(cli("token", "--profile", "broken", "--json").stdout)["screen_name"] == DEMO_SCREEN_NAME


def test_profile_file_is_0600_and_dir_0700(config_dir: Path) -> None:
    """What a login writes is readable by this user only."""
    old = os.umask(0)
    try:
        assert run_cli("demo").returncode == 0
    finally:
        os.umask(old)
    assert (config_dir / "profiles" / "demo.json").stat().st_mode & 0o777 == 0o600
    assert (config_dir / "profiles").stat().st_mode & 0o777 == 0o700


async def test_no_secret_or_verifier_reaches_stderr_or_stdout(cli: Cli, demo: DemoProvider) -> None:
    """Login output names the account, never the token secret, consumer secret or verifier."""
    result = await run_cli_async(*demo_login_args(demo), env=browser_env())
    assert result.returncode == 0
    data = json.loads(cli("token", "--json").stdout)
    output = result.stdout + result.stderr
    for secret in (data["oauth_token"], data["oauth_token_secret"], data["consumer_secret"]):
        assert secret not in output
    assert "oauth_verifier" not in output


async def test_parallel_logins_never_interleave(config_dir: Path) -> None:
    """Parallel logins into different profiles all succeed; into one profile each succeeds or says busy."""

    async def demo_login(profile: str) -> int:
        return (await run_cli_async("demo", "--profile", profile, timeout=60)).returncode

    codes = await asyncio.gather(*(demo_login(f"p{i}") for i in range(4)), *(demo_login("shared") for _ in range(4)))
    assert codes[:4] == [0, 0, 0, 0]
    assert set(codes[4:]) <= {0, 6}
    for name in ("p0", "p1", "p2", "p3", "shared"):
        data = json.loads((config_dir / "profiles" / f"{name}.json").read_text())
        assert data["profile"] == name
        assert data["screen_name"] == DEMO_SCREEN_NAME


async def test_a_second_login_of_the_same_profile_is_exit_6_until_the_first_ends(demo: DemoProvider) -> None:
    """Two logins of one profile at once: the second fails at once (exit 6) instead of the last silently winning;
    another profile is not held up; the lock goes with the first login however it ends (here: Ctrl-C)."""
    proc, _ = await _start_login(demo)
    second = await run_cli_async(*demo_login_args(demo), env=browser_env())
    assert second.returncode == 6, second.stderr
    assert second.stderr == (
        "loopauth: error: another login for profile 'default' is running; finish or stop it (Ctrl-C) first\n"
    )
    assert demo.calls["request_token"] == 1  # refused before asking the provider
    demo_run = await run_cli_async("demo", "--auto", "--profile", "default")
    assert demo_run.returncode == 6
    other = await run_cli_async(*demo_login_args(demo, "--profile", "other"), env=browser_env())
    assert other.returncode == 0, other.stderr
    proc.send_signal(signal.SIGINT)
    await asyncio.wait_for(proc.communicate(), 20)
    assert proc.returncode == 130
    again = await run_cli_async(*demo_login_args(demo), env=browser_env())
    assert again.returncode == 0, again.stderr
    denied = await run_cli_async(*demo_login_args(demo), env=browser_env("--deny"))
    assert denied.returncode == 3
    assert (await run_cli_async(*demo_login_args(demo), env=browser_env())).returncode == 0
