"""``loopauth login`` checks, binds and opens the browser before asyncio and aiohttp are imported (issue 6).

The browser may then connect before any server exists: the kernel keeps the connection in the listen
backlog, and the server, once it takes over the same socket, answers it.
"""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from loopauth.demo import DemoProvider, play_user
from loopauth.errors import UsageError
from loopauth.flow import login_async
from loopauth.prepare import start_early

from .conftest import browser_env, demo_login_args, port_is_free, run_cli_async


def login_kwargs(demo: DemoProvider, **extra: Any) -> dict[str, Any]:
    return {
        "provider": demo.provider,
        "consumer_key": demo.consumer_key,
        "consumer_secret": demo.consumer_secret,
        "port": 0,
        "timeout": 20,
        **extra,
    }


def test_the_early_start_imports_no_event_loop_and_no_aiohttp() -> None:
    code = (
        "import sys\n"
        "import loopauth.cli, loopauth.prepare\n"
        "print([m for m in ('asyncio', 'aiohttp', 'oauthlib') if m in sys.modules])\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


async def test_a_browser_that_connects_before_the_server_exists_is_served(
    demo: DemoProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BROWSER", "true %s")  # "launched", and nothing else connects
    said: list[str] = []
    kwargs = login_kwargs(demo, say=said.append)
    early = start_early(**kwargs)
    assert early is not None
    url = urlsplit(early.launch.url)
    assert url.path == "/"
    # The browser's request, sent while nothing but the kernel listens.
    loop = asyncio.get_running_loop()
    sock = socket.create_connection((url.hostname, url.port), timeout=10)
    sock.sendall(f"GET / HTTP/1.1\r\nHost: {url.netloc}\r\nConnection: close\r\n\r\n".encode())
    login = asyncio.create_task(login_async(**kwargs, early=early))
    try:
        head = await loop.run_in_executor(None, sock.recv, 4096)
    finally:
        sock.close()
    status_line, *headers = head.decode("latin-1").split("\r\n")
    assert status_line.split()[1] == "302"
    location = next(h.split(":", 1)[1].strip() for h in headers if h.lower().startswith("location:"))
    assert location.startswith(demo.provider.authorize_url + "?oauth_token=")
    await play_user(early.launch.url)
    creds = await asyncio.wait_for(login, 20)
    assert creds.oauth_token in demo.issued_access_tokens
    assert [line for line in said if line.startswith("Opening ")] == [
        f"Opening {early.launch.url} in your browser; it forwards to demo's authorize page."
    ]
    assert early.listeners.sockets == []  # the server closed them


@pytest.mark.parametrize(
    "extra",
    [
        {"open_browser": False},
        {"callback_url": "http://127.0.0.1:0/cb"},
        {"oob": True},
        {"ssl_context": object()},
    ],
    ids=["no-browser", "callback-url", "oob", "tls"],
)
async def test_other_logins_start_inside_login_async(demo: DemoProvider, extra: dict[str, Any]) -> None:
    assert start_early(**login_kwargs(demo, **extra)) is None


async def test_over_ssh_the_tunnel_hint_comes_first(demo: DemoProvider, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SSH_CONNECTION", "10.0.0.2 50000 10.0.0.1 22")
    assert start_early(**login_kwargs(demo)) is None


async def test_a_bad_login_fails_before_binding_or_opening(
    demo: DemoProvider, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    marker = tmp_path / "browser-ran"
    monkeypatch.setenv("BROWSER", f"touch {marker} %s")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(UsageError, match="no consumer secret"):
        start_early(**login_kwargs(demo, consumer_secret=None, port=port))
    assert port_is_free(port)
    await asyncio.sleep(0.2)
    assert not marker.exists()
    assert demo.calls["request_token"] == 0


async def test_cli_login_opens_the_browser_once_and_logs_in(demo: DemoProvider, tmp_path: Path) -> None:
    """Through the CLI: the early start is used (one "Opening" line) and the login completes."""
    result = await run_cli_async(*demo_login_args(demo), "--json", env=browser_env(), timeout=60)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["screen_name"] == "loopauth_demo"
    opening = [line for line in result.stderr.splitlines() if line.startswith("Opening ")]
    assert len(opening) == 1
    assert opening[0].endswith("/ in your browser; it forwards to demo's authorize page.")
    assert demo.calls["request_token"] == 1
