"""What a failed call to a provider says: the URL that failed, and the demo blamed only for its own address."""

from __future__ import annotations

import socket

from loopauth.demo.constants import DEMO_CONSUMER_KEY, DEMO_CONSUMER_SECRET
from loopauth.models import Credentials, Provider
from loopauth.store import CredentialStore

from .conftest import Cli


def _dead_port() -> int:
    """A loopback port nothing listens on (bound, then freed: a refused connection, not a wait)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _dead_demo_profile() -> str:
    """A `demo` profile whose provider is not running; its base URL."""
    base = f"http://127.0.0.1:{_dead_port()}"
    endpoints = Provider(
        "demo",
        f"{base}/oauth/request_token",
        f"{base}/oauth/authorize",
        f"{base}/oauth/access_token",
        verify_url=f"{base}/1.1/account/verify_credentials.json",
    )
    creds = Credentials("demo", "demo", DEMO_CONSUMER_KEY, DEMO_CONSUMER_SECRET, "t-1", "ts-1", endpoints=endpoints)
    CredentialStore().save(creds)
    return base


def test_an_unreachable_url_is_named_with_its_port_and_the_demo_is_blamed_for_its_own(cli: Cli) -> None:
    """`verify` of a dead demo profile names the verify URL, port included, and how to start the demo."""
    base = _dead_demo_profile()
    result = cli("verify", "--profile", "demo")
    assert result.returncode == 5
    [line] = result.stderr.splitlines()
    assert line.startswith(f"loopauth: error: cannot reach {base}/1.1/account/verify_credentials.json: ")
    assert f"the demo provider at {base} is not running" in line


def test_request_to_another_port_does_not_blame_the_demo(cli: Cli) -> None:
    """`request` with a demo profile to some other dead address names that address, and not the demo."""
    _dead_demo_profile()
    other = f"http://127.0.0.1:{_dead_port()}/x"
    result = cli("request", "--profile", "demo", other)
    assert result.returncode == 5
    assert result.stderr.splitlines() == [f"loopauth: error: cannot reach {other}: connection refused"]
