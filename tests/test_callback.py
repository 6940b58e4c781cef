"""The loopback callback server on its own: routes, Host check, pages, one-shot result."""

from __future__ import annotations

import asyncio
import re
import socket
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import aiohttp
import pytest

from loopauth.errors import PortInUse, UsageError
from loopauth.loopback.dance import Approved, Denied, Rejected
from loopauth.loopback.listen import Listeners
from loopauth.loopback.plan import plan_callback
from loopauth.loopback.server import CallbackServer, Waiter
from loopauth.loopback.wording import Page
from loopauth.models import Provider, RequestToken
from loopauth.oauth1.dance import OAuth1Dance
from loopauth.oauth1.signing import Consumer

TOKEN = "our-request-token"
AUTHORIZE = "https://provider.example/oauth/authorize?oauth_token=our-request-token"
PROVIDER = Provider(
    "example", "https://provider.example/rt", "https://provider.example/oauth/authorize", "https://provider.example/at"
)


def waiter_for(token: str | None = TOKEN, *, started: bool = True) -> Waiter:
    """A waiter whose OAuth 1.0a login has (or has not yet) got its request token."""
    dance = OAuth1Dance(PROVIDER, Consumer("ck", "cs"))
    if token is not None:
        dance.request_token = RequestToken(token, "secret")
    waiter = Waiter(dance, bare=True)
    if started:
        waiter.ready(AUTHORIZE)
    return waiter


def serving(waiter: Waiter, *, host: str = "127.0.0.1", port: int = 0, path: str = "/callback") -> CallbackServer:
    """A callback server for ``waiter`` on sockets bound the way a login binds them."""
    plan = plan_callback(None, oob=False, host=host, port=port, path=path, tls=False)
    return CallbackServer(waiter, plan, Listeners(plan.host, plan.port).bind())


@pytest.fixture
async def server() -> AsyncIterator[CallbackServer]:
    async with serving(waiter_for()) as srv:
        yield srv


async def raw(port: int, request: bytes) -> bytes:
    """Send bytes as they are (to control the Host header and method) and read the whole answer."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(request)
    await writer.drain()
    data = await reader.read()
    writer.close()
    return data


async def get(url: str, **kwargs: object) -> tuple[int, dict[str, str], str]:
    async with aiohttp.ClientSession() as session, session.get(url, allow_redirects=False, **kwargs) as r:  # type: ignore[arg-type]
        return r.status, dict(r.headers), await r.text()


async def test_port_zero_gives_a_real_port_and_urls_name_it(server: CallbackServer) -> None:
    """Port 0 binds a real port, advertised as the literal 127.0.0.1."""
    assert server.port > 0
    assert server.callback_url == f"http://127.0.0.1:{server.port}/callback"


async def test_second_listener_on_the_same_port_is_port_in_use(server: CallbackServer) -> None:
    """Binding a port that is taken raises PortInUse naming it."""
    with pytest.raises(PortInUse, match=str(server.port)):
        async with serving(waiter_for(), port=server.port):
            pass


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.10", "example.com", ""])  # noqa: S104 - the point
async def test_non_loopback_host_is_a_usage_error(host: str) -> None:
    """Never a listening socket on the network."""
    with pytest.raises(UsageError):
        serving(waiter_for(), host=host)


async def test_start_page_redirects_to_the_authorize_url(server: CallbackServer) -> None:
    """The local start URL forwards to the provider page we built, never to a query-driven target."""
    status, headers, _ = await get(server.start_url + "?next=https://evil.example/")
    assert status == 302
    assert headers["Location"] == AUTHORIZE


async def test_favicon_then_callback_404_then_200(server: CallbackServer) -> None:
    """Other paths (favicon included) get 404 and don't disturb the wait."""
    status, headers, _ = await get(f"{server.origin}/favicon.ico")
    assert status == 404
    assert headers["Content-Security-Policy"].startswith("default-src 'none'")
    assert not server.waiter.result.done()
    server.waiter.finish(Page(200, "done"))
    status, _, body = await get(f"{server.callback_url}?oauth_token={TOKEN}&oauth_verifier=v")
    assert status == 200
    assert body == "done"
    assert server.waiter.result.result() == Approved("v")


@pytest.mark.parametrize("method", [b"HEAD", b"POST", b"PUT", b"OPTIONS"])
async def test_other_methods_are_405_without_consuming(server: CallbackServer, method: bytes) -> None:
    """Only GET completes; HEAD/POST with a valid-looking query change nothing."""
    host = f"127.0.0.1:{server.port}".encode()
    answer = await raw(
        server.port,
        method
        + b" /callback?oauth_token="
        + TOKEN.encode()
        + b"&oauth_verifier=v HTTP/1.1\r\nHost: "
        + host
        + b"\r\nContent-Length: 0\r\n"
        b"Connection: close\r\n\r\n",
    )
    assert answer.startswith(b"HTTP/1.1 405")
    assert not server.waiter.result.done()


@pytest.mark.parametrize("host", [b"evil.example", b"evil.example:80", b"localhost:1", b""])
async def test_foreign_host_header_is_rejected(server: CallbackServer, host: bytes) -> None:
    """A DNS-rebinding page sends its own Host: rejected, the wait goes on."""
    answer = await raw(
        server.port,
        b"GET /callback?oauth_token="
        + TOKEN.encode()
        + b"&oauth_verifier=v HTTP/1.1\r\nHost: "
        + host
        + b"\r\nConnection: close\r\n\r\n",
    )
    assert answer.split(b" ")[1].startswith(b"4")
    assert not server.waiter.result.done()


async def test_wrong_token_and_foreign_denial_do_not_end_the_wait(server: CallbackServer) -> None:
    """Forged callbacks get a 400 and a later good one still completes."""
    for query in ("oauth_token=forged&oauth_verifier=x", "denied=forged", f"oauth_token={TOKEN}", ""):
        status, _, _ = await get(f"{server.callback_url}?{query}")
        assert status == 400
        assert not server.waiter.result.done()
    server.waiter.finish(Page(200, "ok"))
    status, _, _ = await get(f"{server.callback_url}?oauth_token={TOKEN}&oauth_verifier=good")
    assert status == 200
    assert server.waiter.result.result() == Approved("good")


async def test_repeat_after_success_gets_the_same_page(server: CallbackServer) -> None:
    """A reload of the callback gets the same page and does not settle anything twice."""
    server.waiter.finish(Page(200, "signed in"))
    url = f"{server.callback_url}?oauth_token={TOKEN}&oauth_verifier=v"
    first = await get(url)
    second = await get(url)
    assert first[0] == second[0] == 200
    assert first[2] == second[2] == "signed in"


async def test_reflected_input_is_escaped_and_pages_carry_safe_headers(server: CallbackServer) -> None:
    """Nothing from the request comes back unescaped; every page has the security headers."""
    payload = "<script>alert(1)</script>"
    status, headers, body = await get(f"{server.callback_url}?oauth_token={payload}&oauth_verifier=x")
    assert status == 400
    assert "<script>" not in body
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    assert headers["Cache-Control"] == "no-store"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert "default-src 'none'" in headers["Content-Security-Policy"]


async def test_oversized_request_line_gets_aiohttps_400(server: CallbackServer) -> None:
    """Default size limits stay on: a huge request line is refused without reaching us."""
    answer = await raw(server.port, b"GET /callback?x=" + b"a" * 20000 + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    assert answer.split(b" ")[1].startswith(b"4")
    assert not server.waiter.result.done()


async def test_port_is_free_after_close() -> None:
    """Closing releases the port even with an idle keep-alive connection open."""
    waiter = waiter_for()
    async with aiohttp.ClientSession() as session:
        async with serving(waiter) as srv:
            async with session.get(f"{srv.origin}/favicon.ico") as r:
                assert r.status == 404  # leaves a kept-alive connection behind
            port = srv.port
        # A new login can listen there again at once (TIME_WAIT leftovers don't count as busy).
        async with serving(waiter_for(), port=port) as again:
            assert again.port == port


def _has_ipv6_loopback() -> bool:
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
    except OSError:
        return False
    return True


@pytest.mark.parametrize("name", [b"localhost", b"127.0.0.1", b"[::1]"])
async def test_localhost_server_accepts_every_loopback_name_in_the_host_header(name: bytes) -> None:
    """A localhost callback answers whichever name the browser used: localhost, 127.0.0.1 or [::1]."""
    if name == b"[::1]" and not _has_ipv6_loopback():
        pytest.skip("this machine has no IPv6 loopback")
    waiter = waiter_for()
    waiter.finish(Page(200, "done"))
    async with serving(waiter, host="localhost") as srv:
        assert srv.callback_url == f"http://localhost:{srv.port}/callback"
        host = name + b":" + str(srv.port).encode()
        answer = await raw(
            srv.port,
            b"GET /callback?oauth_token=" + TOKEN.encode() + b"&oauth_verifier=v HTTP/1.1\r\nHost: " + host + b"\r\n"
            b"Connection: close\r\n\r\n",
        )
    assert answer.startswith(b"HTTP/1.1 200"), answer[:200]
    assert waiter.result.result() == Approved("v")


async def test_localhost_server_still_rejects_foreign_host_headers() -> None:
    """Listening on both families does not widen the DNS-rebinding check."""
    waiter = waiter_for()
    async with serving(waiter, host="localhost") as srv:
        answer = await raw(
            srv.port,
            b"GET /callback?oauth_token="
            + TOKEN.encode()
            + b"&oauth_verifier=v HTTP/1.1\r\nHost: evil.example:"
            + str(srv.port).encode()
            + b"\r\nConnection: close\r\n\r\n",
        )
    assert answer.startswith(b"HTTP/1.1 421")
    assert not waiter.result.done()


async def test_callback_at_the_root_keeps_the_start_page_at_its_own_path() -> None:
    """With the callback at "/", the start page still forwards from its random path and "/" is the callback."""
    waiter = waiter_for()
    waiter.finish(Page(200, "done"))
    async with serving(waiter, path="/") as srv:
        status, headers, _ = await get(srv.start_url)
        assert (status, headers["Location"]) == (302, AUTHORIZE)
        status, _, body = await get(f"{srv.origin}/?oauth_token={TOKEN}&oauth_verifier=v")
    assert (status, body) == (200, "done")


async def test_the_start_page_is_at_a_random_path_and_root_is_404() -> None:
    """Each login's start page has 128 random bits of path; "/" reveals nothing (no redirect, no token)."""
    async with serving(waiter_for()) as one, serving(waiter_for()) as two:
        paths = [urlsplit(srv.start_url).path for srv in (one, two)]
        assert all(re.fullmatch(r"/[A-Za-z0-9_-]{22}", path) for path in paths)
        assert paths[0] != paths[1]
        for url in (f"{one.origin}/", f"{one.origin}/start", f"{one.origin}{paths[1]}"):
            status, headers, body = await get(url)
            assert status == 404, url
            assert "Location" not in headers
            assert TOKEN not in body


async def test_the_start_page_forwards_once() -> None:
    """A second visit, whoever makes it, gets a 410 page that says the link was used, and no provider URL."""
    async with serving(waiter_for()) as srv:
        status, headers, _ = await get(srv.start_url)
        assert (status, headers["Location"]) == (302, AUTHORIZE)
        status, headers, body = await get(srv.start_url)
        assert status == 410
        assert "Location" not in headers
        assert "already used" in body
        assert TOKEN not in body
        assert not srv.waiter.result.done()


async def test_pasted_bare_verifier_is_paired_with_our_token() -> None:
    """A verifier or PIN pasted alone completes the login it can only belong to."""
    waiter = waiter_for(None, started=False)
    assert waiter.offer_pasted("1234567") == Rejected("this login has not started yet")
    waiter = waiter_for()
    assert waiter.offer_pasted("  1234567 \n") == Approved("1234567", typed=True)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "neither the address"),
        ("yes I clicked it", "neither the address"),
        ("https://localhost/?oauth_token=forged&oauth_verifier=v", "another login"),
        (AUTHORIZE, "no oauth_verifier"),
        ("https://localhost/?denied=forged", "another login"),
    ],
)
async def test_pasted_text_that_is_not_our_callback_is_rejected(text: str, reason: str) -> None:
    """Slips, forged tokens, the authorize URL itself and other logins' denials change nothing."""
    waiter = waiter_for()
    match = waiter.offer_pasted(text)
    assert isinstance(match, Rejected)
    assert reason in match.reason
    assert not waiter.result.done()


async def test_pasted_denial_for_our_token_is_a_denial() -> None:
    """The address of the provider's cancel link, pasted, ends the login as denied."""
    waiter = waiter_for()
    assert waiter.offer_pasted(f"https://localhost/?denied={TOKEN}") == Denied()
    assert waiter.result.result() == Denied()
