"""The HTTP client against a real loopback server that misbehaves: every call ends at its timeout, whatever the
server does, and an answer cut short is an error, never a shorter answer."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest

from loopauth.errors import ProviderError
from loopauth.http import Client, Request
from loopauth.models import Credentials, OAuth2Credentials, OAuth2Provider
from loopauth.store import CredentialStore

from .conftest import Cli

Serve = Callable[[socket.socket], None]

DRIP_SECONDS = 30
"""How long each dripping server would go on if nobody cut it off: far beyond the 1 s timeout used here."""


@contextmanager
def raw_server(serve: Serve) -> Iterator[str]:
    """A loopback HTTP server (port 0) that answers every connection with ``serve``, each in its own thread."""
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def handle(conn: socket.socket) -> None:
        with conn:
            conn.settimeout(DRIP_SECONDS + 5)
            request = b""
            while b"\r\n\r\n" not in request:
                data = conn.recv(4096)
                if not data:
                    return
                request += data
            with contextlib.suppress(OSError):  # the client hung up, as it should at its deadline
                serve(conn)

    def accept() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=handle, args=(conn,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}/token"
    finally:
        stop.set()
        listener.close()


DRIP_EVERY = 0.2
"""Well inside the timeout, so that no single read ever waits long enough to time out."""


def drip(head: bytes, body: Iterator[bytes]) -> Serve:
    """Send ``head`` at once, then one piece of ``body`` every DRIP_EVERY seconds, for DRIP_SECONDS."""

    def serve(conn: socket.socket) -> None:
        conn.sendall(head)
        for _, piece in zip(range(int(DRIP_SECONDS / DRIP_EVERY)), body, strict=False):
            time.sleep(DRIP_EVERY)
            conn.sendall(piece)

    return serve


def forever(piece: bytes) -> Iterator[bytes]:
    while True:
        yield piece


def chunks() -> Iterator[bytes]:
    while True:
        yield b"1\r\na\r\n"


DRIPS = {
    "HTTP/1.0": drip(b"HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n", forever(b"a")),
    "Connection: close": drip(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n", forever(b"a")),
    "keep-alive, Content-Length": drip(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n", forever(b"a")),
    "chunked": drip(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", chunks()),
    "status line": drip(b"H", forever(b"T")),
}


@pytest.mark.parametrize("kind", list(DRIPS))
def test_a_dripping_answer_ends_at_the_timeout_as_a_timeout(kind: str) -> None:
    """Five bytes a second, however the answer is framed: the call fails at its 1 s timeout, saying so."""
    with raw_server(DRIPS[kind]) as url, Client() as client:
        started = time.monotonic()
        with pytest.raises(ProviderError, match=rf"^{url} did not answer within 1 s$"):
            client.send(Request("POST", url, body=b"grant_type=x"), timeout=1)
        took = time.monotonic() - started
    assert took < 8, f"{kind}: {took:.1f} s for a 1 s timeout (the server drips for {DRIP_SECONDS} s)"


def _short(conn: socket.socket) -> None:
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nhello, world!")


def _short_chunked(conn: socket.socket) -> None:
    conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n")


def _short_chunk(conn: socket.socket) -> None:
    conn.sendall(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\nhello")


@pytest.mark.parametrize("serve", [_short, _short_chunked, _short_chunk], ids=["content-length", "chunks", "a chunk"])
def test_an_answer_cut_short_is_an_error_not_a_shorter_answer(serve: Serve) -> None:
    """13 of 1000 promised bytes, or a chunked body without its last chunk, then a close: an error (curl's 18)."""
    with (
        raw_server(serve) as url,
        Client() as client,
        pytest.raises(ProviderError, match=rf"^{url} closed the connection before the end of its answer$"),
    ):
        client.send(Request("GET", url), timeout=5)


def test_request_exits_5_with_one_line_for_a_cut_short_answer(cli: Cli) -> None:
    """`loopauth request` against an answer cut short prints nothing of it and exits 5 (it exited 0)."""
    CredentialStore().save(Credentials("default", "example", "ck", "cs", "t", "ts"))
    with raw_server(_short) as url:
        result = cli("request", url)
    assert result.returncode == 5
    assert result.stdout == ""
    assert result.stderr.splitlines() == [f"loopauth: error: {url} closed the connection before the end of its answer"]


def test_request_exits_5_in_time_against_a_close_delimited_drip(cli: Cli) -> None:
    """`loopauth request --timeout 1` against an HTTP/1.0 drip: exit 5, one line, long before the drip ends."""
    CredentialStore().save(Credentials("default", "example", "ck", "cs", "t", "ts"))
    with raw_server(DRIPS["HTTP/1.0"]) as url:
        started = time.monotonic()
        result = cli("request", "--timeout", "1", url)
        took = time.monotonic() - started
    assert result.returncode == 5
    assert result.stderr.splitlines() == [f"loopauth: error: {url} did not answer within 1 s"]
    assert took < 8


def test_a_due_refresh_against_a_dripping_token_endpoint_ends_at_its_timeout(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A `Connection: close` drip held a due `loopauth token` (and the profile's lock) for minutes: now exit 5 at
    the refresh timeout, one line, and the profile says its refresh token may be spent."""
    from loopauth.oauth2 import refresh

    monkeypatch.setattr(refresh, "REFRESH_TIMEOUT", 1.0)
    with raw_server(DRIPS["Connection: close"]) as url:
        endpoints = OAuth2Provider("slow", "http://127.0.0.1:9/authorize", url)
        CredentialStore().save(
            OAuth2Credentials("default", "slow", "id", "AT", endpoints, refresh_token="RT", expires_at=1, issued_at=0)
        )
        started = time.monotonic()
        result = cli("token")
        took = time.monotonic() - started
    assert result.returncode == 5
    assert result.stderr.splitlines() == [
        f"loopauth: error: {url} did not answer within 1 s; profile 'default' must log in again: whether the "
        "provider spent its refresh token is unknown"
    ]
    assert took < 8
