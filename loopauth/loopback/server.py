"""The short-lived loopback server that catches the provider's redirect.

It binds before anything else happens and keeps that socket (RFC 8252 §8.3;
never probe-then-rebind), serves GET on exactly two paths (``/``, which
forwards to the provider's authorize page once the request token is known, or
``/start`` when the callback itself is at ``/``; and the callback path),
rejects foreign ``Host`` headers (DNS rebinding), and hands the first valid
callback to the login through a one-shot future. Any other request is
answered with a 4xx page and changes nothing.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import Awaitable, Callable, Mapping
from types import TracebackType

from aiohttp import web

from ..errors import LoopAuthError
from ..urls import host_literal
from . import pages, wording
from .dance import Approved, Dance, Denied, Failed, Outcome, Rejected
from .listen import Listeners
from .plan import CallbackPlan
from .wording import Page

log = logging.getLogger(__name__)

SHUTDOWN_TIMEOUT = 1.0
"""How long closing waits for a response still being written; idle keep-alive connections are dropped at once."""


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
        # A callback registered at the root (``https://localhost/``) takes "/", so the start page moves aside.
        self.start_path = plan.start_path
        self.ssl_context = ssl_context
        self._listeners = listeners
        self._runner: web.AppRunner | None = None
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
        app = web.Application(middlewares=[self._guard], handler_args={"max_field_size": 8190, "max_line_size": 8190})
        app.router.add_get(self.start_path, self._start_page, allow_head=False)
        app.router.add_get(self.path, self._callback, allow_head=False)
        # No access log: request lines carry tokens and verifiers.
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=SHUTDOWN_TIMEOUT)
        try:
            await self._runner.setup()
            for sock in self._listeners.sockets:
                site = web.SockSite(self._runner, sock, ssl_context=self.ssl_context)
                await site.start()
        except BaseException:
            await self.close()
            raise

    async def close(self) -> None:
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()
        self._listeners.close()

    @web.middleware
    async def _guard(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        if self.on_request is not None:
            await self.on_request(request)
        host = (request.headers.get("Host") or "").lower()
        if host not in self._allowed_hosts():
            # DNS rebinding: a page on evil.example resolving to 127.0.0.1 still sends its own Host.
            response: web.StreamResponse = _html(wording.WRONG_HOST)
        else:
            try:
                response = await handler(request)
            except web.HTTPException as exc:
                if exc.status == 405:
                    response = _html(wording.METHOD_NOT_ALLOWED)
                    response.headers["Allow"] = "GET"
                elif exc.status == 404:
                    response = _html(wording.NOT_FOUND)
                else:
                    response = _html(wording.bad_request(exc.status, exc.reason))
            except (asyncio.CancelledError, LoopAuthError):
                raise
            except Exception:
                log.debug("callback handler failed", exc_info=True)
                response = _html(wording.BROKEN)
        for name, value in pages.SECURITY_HEADERS.items():
            if name != "Content-Type" or response.content_type == "text/html":
                response.headers[name] = value
        return response

    async def _start_page(self, request: web.Request) -> web.StreamResponse:
        try:
            url = await asyncio.shield(self.waiter.authorize_url)
        except LoopAuthError as exc:
            self.waiter.start_page_served.set()
            return _html(wording.start_failed_page(str(exc)))
        self.waiter.start_page_served.set()
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


def _html(p: Page) -> web.Response:
    return web.Response(status=p.status, text=p.html, content_type="text/html", charset="utf-8")
