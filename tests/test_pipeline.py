"""One login pipeline for every caller: prepare, bind, launch and begin need no event loop and no aiohttp.

``loopauth login`` runs those four while asyncio and aiohttp are still to be imported; the browser may then
connect before any server exists (the kernel keeps the connection in the listen backlog), and the server,
once it takes over the same socket, answers it.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import socket
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from loopauth.api import prepare
from loopauth.demo import play_user
from loopauth.errors import UsageError
from loopauth.loopback.options import LoginOptions
from loopauth.loopback.runner import Login

from .conftest import browser_env, demo_login_args, oauth1, port_is_free, run_cli_async
from .demo_probes import DemoProvider

HEAVY = ("asyncio", "aiohttp", "aiohttp.web")


def imported_after(code: str, env: dict[str, str] | None = None) -> list[str]:
    check = f"{code}\nimport sys\nprint([m for m in {HEAVY!r} if m in sys.modules])"
    out = subprocess.run([sys.executable, "-c", check], capture_output=True, text=True, check=True, env=env)
    return json.loads(out.stdout.strip().splitlines()[-1].replace("'", '"'))  # type: ignore[no-any-return]


def options(demo: DemoProvider, **extra: object) -> LoginOptions:
    values: dict[str, object] = {
        "provider": demo.provider,
        "consumer_key": demo.consumer_key,
        "consumer_secret": demo.consumer_secret,
        "port": 0,
        "timeout": 20,
        **extra,
    }
    return LoginOptions(**values)  # type: ignore[arg-type]


def test_the_steps_before_complete_import_no_event_loop_and_no_aiohttp(tmp_path: Path) -> None:
    """prepare, bind, launch and begin run on the standard library alone."""
    code = (
        "from loopauth.api import prepare\n"
        "from loopauth.loopback.options import LoginOptions\n"
        "from loopauth.loopback.runner import Login\n"
        "from loopauth.models import Provider\n"
        "p = Provider('p', 'http://127.0.0.1:9/rt', 'http://127.0.0.1:9/a', 'http://127.0.0.1:9/at')\n"
        "login = Login(prepare(LoginOptions(provider=p, consumer_key='k', consumer_secret='s', port=0,"
        " open_browser=False, say=lambda _: None)))\n"
        "login.bind(); login.launch(); login.begin(); login.close()\n"
    )
    assert imported_after(code, env={"LOOPAUTH_CONFIG_DIR": str(tmp_path), "PATH": ""}) == []


def test_header_signs_without_an_event_loop_or_aiohttp(tmp_path: Path) -> None:
    """``loopauth header`` signs offline: no asyncio, no aiohttp.web, no callback server."""
    profiles = tmp_path / "profiles"
    profiles.mkdir()
    creds = {
        "profile": "default",
        "provider": "twitter",
        "consumer_key": "ck",
        "consumer_secret": "cs",
        "oauth_token": "t",
        "oauth_token_secret": "ts",
    }
    (profiles / "default.json").write_text(json.dumps(creds))
    code = "from loopauth.cli import main\nassert main(['header', 'GET', 'https://api.x.com/2/users/me']) == 0"
    assert imported_after(code, env={"LOOPAUTH_CONFIG_DIR": str(tmp_path)}) == []


async def test_a_browser_that_connects_before_the_server_exists_is_served(
    demo: DemoProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The browser's request, sent while only the kernel listens, gets the start page's redirect."""
    monkeypatch.setenv("BROWSER", "true %s")  # "launched", and nothing else connects
    said: list[str] = []
    login = Login(prepare(options(demo, say=said.append)))
    login.bind()
    login.launch()
    login.begin()
    url = urlsplit(login.start_url)
    assert re.fullmatch(r"/[\w-]{22}", url.path)
    loop = asyncio.get_running_loop()
    sock = socket.create_connection((url.hostname, url.port), timeout=10)
    sock.sendall(f"GET {url.path} HTTP/1.1\r\nHost: {url.netloc}\r\nConnection: close\r\n\r\n".encode())
    completing = asyncio.create_task(login.complete())
    try:
        head = await loop.run_in_executor(None, sock.recv, 4096)
    finally:
        sock.close()
    status_line, *headers = head.decode("latin-1").split("\r\n")
    assert status_line.split()[1] == "302"
    location = next(h.split(":", 1)[1].strip() for h in headers if h.lower().startswith("location:"))
    assert location.startswith(demo.provider.authorize_url + "?oauth_token=")
    await play_user(location)  # the start page forwards once: that was its one visit
    creds = oauth1(await asyncio.wait_for(completing, 20))
    assert creds.oauth_token in demo.issued_access_tokens
    assert [line for line in said if line.startswith("Opening ")] == [
        f"Opening {login.start_url} in your browser; it forwards to demo's authorize page."
    ]
    assert login.listeners is not None
    assert login.listeners.sockets == []  # the server closed them


async def test_a_bad_login_fails_before_binding_or_opening(
    demo: DemoProvider, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """prepare reports the mistake; no port is taken, no browser starts, the provider hears nothing."""
    marker = tmp_path / "browser-ran"
    monkeypatch.setenv("BROWSER", f"touch {marker} %s")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(UsageError, match="no consumer secret"):
        prepare(options(demo, consumer_secret=None, port=port))
    assert port_is_free(port)
    await asyncio.sleep(0.2)
    assert not marker.exists()
    assert demo.calls["request_token"] == 0


async def test_over_ssh_the_tunnel_hint_comes_before_the_browser(
    demo: DemoProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With SSH_CONNECTION set, the ssh -L line is said first, then the browser is opened."""
    monkeypatch.setenv("SSH_CONNECTION", "10.0.0.2 50000 10.0.0.1 22")
    monkeypatch.setenv("BROWSER", "true %s")
    said: list[str] = []
    login = Login(prepare(options(demo, say=said.append)))
    login.bind()
    login.launch()
    login.close()
    assert said[0].startswith("Over SSH?")
    assert said[1].startswith("  ssh -N -L ")
    assert said[2].startswith("Opening ")


async def test_cli_login_opens_the_browser_once_and_logs_in(demo: DemoProvider) -> None:
    """Through the CLI: one "Opening" line, one request token, and the login completes."""
    result = await run_cli_async(*demo_login_args(demo), "--json", env=browser_env(), timeout=60)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["screen_name"] == "loopauth_demo"
    opening = [line for line in result.stderr.splitlines() if line.startswith("Opening ")]
    assert len(opening) == 1
    assert re.search(r"/[\w-]{22} in your browser; it forwards to demo's authorize page\.$", opening[0])
    assert demo.calls["request_token"] == 1


async def test_a_browser_that_blocks_never_delays_the_callback(
    demo: DemoProvider, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A BROWSER that stays in the foreground (w3m, lynx) has not reported when the callback comes; the login
    exchanges and answers at once, and still offers the provider's URL in case the browser did not open."""
    release = tmp_path / "release"
    # webbrowser runs this and waits for it; it returns only once the test has finished with the login.
    monkeypatch.setenv("BROWSER", f"sh -c 'while [ ! -e {release} ]; do sleep 0.05; done' %s")
    said: list[str] = []
    login = Login(prepare(options(demo, say=said.append)))
    try:
        login.bind()
        login.launch()
        login.begin()
        completing = asyncio.create_task(login.complete())
        started = asyncio.get_running_loop().time()
        page = await play_user(login.start_url)
        answered = asyncio.get_running_loop().time() - started
        creds = oauth1(await asyncio.wait_for(completing, 20))
        assert login.browser is not None
        assert not login.browser.done()  # the browser still has not reported: nothing waited for it
    finally:
        release.touch()
        login.close()
    assert "Logged in" in page
    assert creds.oauth_token in demo.issued_access_tokens
    assert any(line.startswith("If the browser did not open, visit: ") for line in said)
    # The whole trip (start page, authorize, callback, exchange, save) against a provider with no delay: a
    # login that waited for the browser to report would have held the callback back for a second or more.
    assert answered < 0.9


def test_no_test_can_launch_the_machines_browser(tmp_path: Path) -> None:
    """The suite's browser seam, in a pytest run of its own with the machine's browsers on PATH (Debian's w3m, also
    as www-browser, and a desktop's xdg-open) and a terminal and a display to show them: a login that names no
    browser of its own, in the test's process or in a child, runs none of them."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    ran = tmp_path / "ran"
    for name in ("www-browser", "w3m", "lynx", "links", "elinks", "xdg-open", "x-www-browser", "firefox"):
        spy = bin_dir / name
        spy.write_text(f"#!/bin/sh\necho {name} >> {ran}\n")
        spy.chmod(0o755)
    env = {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "TERM": "xterm",
        "DISPLAY": ":0",
        "BROWSER": "",
    }
    probe = Path(__file__).with_name("browser_seam_probe.py")
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "addopts=", str(probe)],
        env=env, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout
    assert not ran.exists(), ran.read_text()
