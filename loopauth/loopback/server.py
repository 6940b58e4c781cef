"""The short-lived loopback server that catches the provider's redirect.

It binds before anything else happens and keeps that socket (RFC 8252 §8.3;
never probe-then-rebind), serves GET on exactly two paths (the start page, at
a random path of its own, which forwards to the provider's authorize page once
it is known, once only; and the callback path), rejects foreign ``Host``
headers (DNS rebinding), and hands the first valid callback to the login
through a one-shot future. Any other request is answered with a 4xx page and
changes nothing: ``/`` included, so another local user cannot read the
``state`` or request token there and end the login with a denial.

Nothing it sees is logged: aiohttp's tracebacks quote the raw request line (a malformed callback
carries the verifier), so its handlers log to a logger that prints nothing, and while the server
runs the event loop's error reports about its sockets are dropped too. At most
:data:`MAX_CONNECTIONS` connections are served at once: a flood of idle ones cannot exhaust the
process's descriptors (asyncio then prints a traceback per failed accept and accepts nothing more),
because the oldest idle connection makes way for a new one, and when none is idle the newcomer is
answered 503.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
import time
from collections.abc import Awaitable, Callable, Mapping
from types import TracebackType
from typing import Any, cast

from aiohttp import web

from ..errors import LoopAuthError
from ..urls import host_literal
from . import pages, wording
from .dance import Approved, Dance, Denied, Failed, Outcome, Rejected
from .listen import BACKLOG, Listeners
from .plan import CallbackPlan
from .wording import Page

log = logging.getLogger(__name__)

SHUTDOWN_TIMEOUT = 1.0
"""How long closing waits for a response still being written; idle keep-alive connections are dropped at once."""
MAX_CONNECTIONS = 64
"""Connections served at once: ten times what a browser opens, far below any process's descriptor limit."""
TLS_HANDSHAKE_TIMEOUT = 10.0
"""A TLS connection that has not finished its handshake by then is closed (it is not counted until it has)."""

# Not in logging's tree (so no configuration can turn it on), and above CRITICAL: it never prints.
_SILENT = logging.Logger("loopauth.loopback.server.silent", logging.CRITICAL + 1)


class Waiter:
    """The login's one-shot wait: fed by the server and by pasted lines, consumed once.

    ``offer`` decides about one set of callback parameters with the protocol's :class:`Dance`. Only a
    callback for this login settles ``result``; after that, a repeat of the same callback gets the
    same final page and starts nothing new.
    """

    def __init__(self, dance: Dance, *, bare: bool) -> None:
        loop = asyncio.get_running_loop()
        self.dance = dance
        self.bare = bare
        """Whether a pasted verifier or PIN alone may complete the login (nothing else can deliver one)."""
        self.authorize_url: asyncio.Future[str] = loop.create_future()
        self.result: asyncio.Future[Approved | Denied | Failed] = loop.create_future()
        self.final_page: asyncio.Future[Page] = loop.create_future()
        self.start_page_served = asyncio.Event()
        # Retrieved so a failed start never shows up as "Future exception was never retrieved".
        self.authorize_url.add_done_callback(_silence)

    def ready(self, authorize_url: str) -> None:
        if not self.authorize_url.done():
            self.authorize_url.set_result(authorize_url)

    def fail_start(self, error: BaseException) -> None:
        if not self.authorize_url.done():
            self.authorize_url.set_exception(error)

    def _started(self) -> bool:
        return self.authorize_url.done() and not self.authorize_url.cancelled() and not self.authorize_url.exception()

    def offer(self, params: Mapping[str, str]) -> Outcome:
        if not self._started():
            return Rejected("this login has not started yet")
        return self._settle(self.dance.match(params))

    def offer_pasted(self, text: str) -> Outcome:
        """Decide about what a person pasted: a redirect URL, a query string, or a bare verifier or PIN."""
        if not self._started():
            return Rejected("this login has not started yet")
        return self._settle(self.dance.match_pasted(text, bare=self.bare))

    def _settle(self, outcome: Outcome) -> Outcome:
        if not isinstance(outcome, Rejected) and not self.result.done():
            self.result.set_result(outcome)
        return outcome

    def rearm(self) -> None:
        """Wait for another approval (a typed PIN was wrong); the final page is not decided yet."""
        if self.result.done():
            self.result = asyncio.get_running_loop().create_future()

    def finish(self, final: Page) -> None:
        if not self.final_page.done():
            self.final_page.set_result(final)


def _silence(future: asyncio.Future[str]) -> None:
    if not future.cancelled():
        future.exception()


class CallbackServer:
    """``async with CallbackServer(waiter, plan, listeners)``: serving on entry, closed on every exit path.

    ``listeners`` are the sockets the login bound for ``plan`` (before aiohttp was imported); the server
    takes them over, and closes them when it closes.
    """

    def __init__(
        self, waiter: Waiter, plan: CallbackPlan, listeners: Listeners, *, ssl_context: ssl.SSLContext | None = None
    ) -> None:
        self.waiter = waiter
        self.plan = plan
        self.path = plan.path
        self.start_path = plan.start_path
        self._start_claimed = False
        self.ssl_context = ssl_context
        self._listeners = listeners
        self._runner: web.AppRunner | None = None
        self._servers: list[asyncio.Server] = []
        self._busy: set[object] = set()
        self._loop_errors: _LoopErrors | None = None
        self.on_request: Callable[[web.Request], Awaitable[None]] | None = None

    @property
    def port(self) -> int:
        return self._listeners.port

    @property
    def origin(self) -> str:
        return self.plan.origin(self.port)

    @property
    def callback_url(self) -> str:
        return self.plan.callback_for(self.port)

    @property
    def start_url(self) -> str:
        return self.plan.start_url(self.port)

    def _allowed_hosts(self) -> set[str]:
        names = {host_literal(h).lower() for h in [*self._listeners.hosts, self.plan.host]}
        hosts = {f"{name}:{self.port}" for name in names}
        if self.port == (443 if self.ssl_context else 80):
            # Browsers leave the scheme's default port out of the Host header.
            hosts |= names
        return hosts

    async def __aenter__(self) -> CallbackServer:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def start(self) -> None:
        app = web.Application(
            middlewares=[self._guard],
            handler_args={"max_field_size": 8190, "max_line_size": 8190},
            logger=_SILENT,
        )
        app.router.add_get(self.start_path, self._start_page, allow_head=False)
        app.router.add_get(self.path, self._callback, allow_head=False)
        # No access log, and a silent error log: request lines carry tokens and verifiers.
        self._runner = web.AppRunner(app, access_log=None, logger=_SILENT, shutdown_timeout=SHUTDOWN_TIMEOUT)
        loop = asyncio.get_running_loop()
        self._loop_errors = _LoopErrors(loop, self.port)
        try:
            await self._runner.setup()
            handlers = self._runner.server
            assert handlers is not None
            pool = _Pool(handlers, self._busy, MAX_CONNECTIONS)
            for sock in self._listeners.sockets:
                # Our own create_server rather than aiohttp's SockSite, to count the connections (see _Pool).
                server = await loop.create_server(
                    pool,
                    sock=sock,
                    backlog=BACKLOG,
                    ssl=self.ssl_context,
                    ssl_handshake_timeout=TLS_HANDSHAKE_TIMEOUT if self.ssl_context else None,
                )
                self._servers.append(server)
        except BaseException:
            await self.close()
            raise

    async def close(self) -> None:
        servers, self._servers = self._servers, []
        for server in servers:
            server.close()  # no new connections; aiohttp's cleanup below ends the open ones
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()
        self._listeners.close()
        loop_errors, self._loop_errors = self._loop_errors, None
        if loop_errors is not None:
            loop_errors.restore()

    @web.middleware
    async def _guard(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        # A connection in the middle of a request is never the one closed to make way for a new one.
        self._busy.add(request.protocol)
        try:
            response = await self._answer(request, handler)
        finally:
            self._busy.discard(request.protocol)
        for name, value in pages.SECURITY_HEADERS.items():
            if name != "Content-Type" or response.content_type == "text/html":
                response.headers[name] = value
        return response

    async def _answer(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        if self.on_request is not None:
            await self.on_request(request)
        host = (request.headers.get("Host") or "").lower()
        if host not in self._allowed_hosts():
            # DNS rebinding: a page on evil.example resolving to 127.0.0.1 still sends its own Host.
            return _html(wording.WRONG_HOST)
        if _from_another_site(request):
            return _html(wording.FROM_ANOTHER_SITE)
        try:
            return await handler(request)
        except web.HTTPException as exc:
            if exc.status == 405:
                response = _html(wording.METHOD_NOT_ALLOWED)
                response.headers["Allow"] = "GET"
                return response
            if exc.status == 404:
                return _html(wording.NOT_FOUND)
            return _html(wording.bad_request(exc.status, exc.reason))
        except (asyncio.CancelledError, LoopAuthError):
            raise
        except Exception:
            log.debug("callback handler failed", exc_info=True)
            return _html(wording.BROKEN)

    async def _start_page(self, request: web.Request) -> web.StreamResponse:
        try:
            url = await asyncio.shield(self.waiter.authorize_url)
        except LoopAuthError as exc:
            self.waiter.start_page_served.set()
            return _html(wording.start_failed_page(str(exc)))
        self.waiter.start_page_served.set()
        # One redirect only: whoever else learns the start URL (a browser's command line is public) after the
        # browser has used it gets nothing; one who comes first leaves the browser a page that says so.
        if self._start_claimed:
            return _html(wording.START_USED)
        self._start_claimed = True
        # The one redirect we serve goes to the URL we built, never to anything taken from the request.
        return web.Response(status=302, headers={"Location": url})

    async def _callback(self, request: web.Request) -> web.StreamResponse:
        params = {k: request.query.getone(k) for k in request.query}
        match = self.waiter.offer(params)
        if isinstance(match, Rejected):
            return _html(wording.not_a_callback_page(match.reason))
        final = await asyncio.shield(self.waiter.final_page)
        response = _html(final)
        # The browser keeps connections alive; tell it not to, so closing is immediate.
        response.force_close()
        return response


def _from_another_site(request: web.Request) -> bool:
    """Whether a browser says another site's page made this request, other than by navigating the whole tab here.

    The login's own requests are top-level navigations: the start page opened from the terminal
    (``Sec-Fetch-Site: none``), and the provider's redirect back (cross-site, or same-site for a provider
    on loopback, as the demo is). A page elsewhere cannot read our answers (no CORS) and the Host check
    stops DNS rebinding, so this is defence in depth: such a page gets nothing, not even a denial sent.
    Browsers too old to send the header are let through.
    """
    site = request.headers.get("Sec-Fetch-Site", "").lower()
    if site not in ("cross-site", "same-site"):
        return False
    mode = request.headers.get("Sec-Fetch-Mode", "").lower()
    dest = request.headers.get("Sec-Fetch-Dest", "document").lower()
    return mode != "navigate" or dest != "document"


def _html(p: Page) -> web.Response:
    return web.Response(status=p.status, text=p.html, content_type="text/html", charset="utf-8")


class _Connection(asyncio.Protocol):
    """aiohttp's protocol for one connection, passed every event, so that :class:`_Pool` can count and close it."""

    def __init__(self, inner: asyncio.Protocol, pool: _Pool) -> None:
        self.inner = inner
        self.pool = pool
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # a stream server's transports are Transports
        self.inner.connection_made(transport)

    def connection_lost(self, exc: Exception | None) -> None:
        self.pool.live.pop(self, None)
        self.transport = None
        self.inner.connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        self.inner.data_received(data)

    def eof_received(self) -> bool | None:
        return self.inner.eof_received()

    def pause_writing(self) -> None:
        self.inner.pause_writing()

    def resume_writing(self) -> None:
        self.inner.resume_writing()


class _Pool:
    """The protocol factory of the listening sockets: at most ``limit`` connections, the oldest idle one making way.

    A local flood of idle connections (1,100 of them exhausted the descriptors, after which asyncio
    accepted nothing, the real callback included, and printed a traceback per try) now costs at most
    ``limit`` descriptors: a new connection closes the oldest one that is not in the middle of a
    request, so the browser's callback always gets through; if every one is, the newcomer gets a 503.
    """

    def __init__(self, handlers: Callable[[], asyncio.Protocol], busy: set[object], limit: int) -> None:
        self.handlers = handlers
        self.busy = busy
        self.limit = limit
        self.live: dict[_Connection, float] = {}
        """Open connections, oldest first, with when they were accepted."""

    def __call__(self) -> asyncio.Protocol:
        now = time.monotonic()
        for conn, accepted in list(self.live.items()):
            if conn.transport is None and now - accepted > TLS_HANDSHAKE_TIMEOUT + 1:
                del self.live[conn]  # its TLS handshake failed: asyncio closed it without telling the protocol
        if len(self.live) >= self.limit:
            idle = next((c for c in self.live if c.transport is not None and c.inner not in self.busy), None)
            if idle is None:
                return _Busy()
            del self.live[idle]
            assert idle.transport is not None
            idle.transport.abort()
        conn = _Connection(self.handlers(), self)
        self.live[conn] = now
        return conn


class _Busy(asyncio.Protocol):
    """The answer to a connection beyond the limit when every served one is mid-request."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.WriteTransport)
        body = b"Too many connections; try again.\n"
        transport.write(
            b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\n"
            b"Retry-After: 1\r\nConnection: close\r\n" + f"Content-Length: {len(body)}\r\n\r\n".encode() + body
        )
        transport.close()


class _LoopErrors:
    """While the server runs, the loop's error reports about its sockets are dropped; others go on as before.

    asyncio reports, for example, each ``accept()`` that fails for want of descriptors, with a traceback,
    and a TLS handshake a browser broke off. Nothing in them helps the user, they may come by the thousand,
    and a report about a connection can quote what it carried.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, port: int) -> None:
        self.loop = loop
        self.port = port
        self.previous = loop.get_exception_handler()
        loop.set_exception_handler(self._handle)

    def restore(self) -> None:
        if self.loop.get_exception_handler() == self._handle:
            self.loop.set_exception_handler(self.previous)

    def _handle(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        if self._ours(context):
            return
        if self.previous is not None:
            self.previous(loop, context)
        else:
            loop.default_exception_handler(context)

    def _ours(self, context: dict[str, Any]) -> bool:
        if isinstance(context.get("protocol"), _Connection | _Busy):
            return True
        for key in ("socket", "transport"):
            thing = context.get(key)
            try:
                name = thing.getsockname() if key == "socket" else thing.get_extra_info("sockname")  # type: ignore[union-attr]
            except (AttributeError, OSError):
                continue
            if isinstance(name, tuple) and len(name) >= 2 and name[1] == self.port:
                return True
        return False
