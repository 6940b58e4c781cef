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
import re
import ssl
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from types import TracebackType

from aiohttp import web

from . import pages
from .errors import LoopAuthError
from .listen import Listeners, check_host_and_path, host_literal, start_path_for
from .protocol import CallbackMatch, Denied, Rejected, Verified, match_callback, parse_pasted

log = logging.getLogger(__name__)

SHUTDOWN_TIMEOUT = 1.0
"""How long closing waits for a response still being written; idle keep-alive connections are dropped at once."""


@dataclass(frozen=True)
class Page:
    status: int
    html: str


def page(
    status: int, kind: pages.Kind, title: str, message: str, *, detail: str | None = None, next_step: str | None = None
) -> Page:
    return Page(status, pages.render(kind, title, message, detail=detail, next_step=next_step))


class Waiter:
    """The login's one-shot wait: fed by the server and by a pasted URL, consumed once.

    ``offer`` decides about one set of callback parameters. Only a callback for
    our request token settles ``result``; after that, a repeat of the same
    callback gets the same final page and starts nothing new.
    """

    def __init__(self) -> None:
        loop = asyncio.get_running_loop()
        self.authorize_url: asyncio.Future[str] = loop.create_future()
        self.result: asyncio.Future[Verified | Denied] = loop.create_future()
        self.final_page: asyncio.Future[Page] = loop.create_future()
        self.start_page_served = asyncio.Event()
        self._request_token: str | None = None
        # Retrieved so a failed request token never shows up as "Future exception was never retrieved".
        self.authorize_url.add_done_callback(_silence)

    def expect(self, request_token: str, authorize_url: str) -> None:
        self._request_token = request_token
        if not self.authorize_url.done():
            self.authorize_url.set_result(authorize_url)

    def fail_start(self, error: BaseException) -> None:
        if not self.authorize_url.done():
            self.authorize_url.set_exception(error)

    def offer(self, params: Mapping[str, str]) -> CallbackMatch:
        if self._request_token is None:
            return Rejected("this login has not started yet")
        match = match_callback(params, self._request_token)
        if not isinstance(match, Rejected) and not self.result.done():
            self.result.set_result(match)
        return match

    def offer_pasted(self, text: str) -> CallbackMatch:
        """Decide about what the user pasted: a redirect URL, a query string, or a bare verifier or PIN."""
        params = parse_pasted(text)
        if not params:
            return Rejected("nothing was pasted")
        if set(params) == {"oauth_verifier"}:
            if self._request_token is None:
                return Rejected("this login has not started yet")
            if not _VERIFIER.fullmatch(params["oauth_verifier"]):
                return Rejected("that is neither the address the browser landed on nor a verifier or PIN")
            # A bare verifier names no token. Exactly one login waits here, so it can only be meant for ours,
            # and the provider still checks it against our request token at the exchange.
            params = {**params, "oauth_token": self._request_token}
        return self.offer(params)

    def finish(self, final: Page) -> None:
        if not self.final_page.done():
            self.final_page.set_result(final)


# What a verifier or PIN can look like: one word of URL-safe characters. Anything else pasted alone is a slip
# (a sentence, half a URL) that must not be sent to the provider and end the login with its error.
_VERIFIER = re.compile(r"[A-Za-z0-9._~+/=%-]{1,512}")


def _silence(future: asyncio.Future[str]) -> None:
    if not future.cancelled():
        future.exception()


class CallbackServer:
    """``async with CallbackServer(...) as server``: bound on entry, closed on every exit path."""

    def __init__(
        self,
        waiter: Waiter,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        path: str = "/callback",
        url_host: str | None = None,
        ssl_context: ssl.SSLContext | None = None,
        listeners: Listeners | None = None,
    ) -> None:
        """``listeners``: sockets already bound for ``host``/``port`` (the CLI binds before importing us)."""
        check_host_and_path(host, path)
        self.waiter = waiter
        self.path = path
        # A callback registered at the root (``https://localhost/``) takes "/", so the start page moves aside.
        self.start_path = start_path_for(path)
        self.ssl_context = ssl_context
        self.scheme = "https" if ssl_context else "http"
        self.url_host = url_host or host
        self._listeners = listeners or Listeners(host, port)
        self._prebound = listeners is not None
        self._runner: web.AppRunner | None = None
        self.on_request: Callable[[web.Request], Awaitable[None]] | None = None

    @property
    def port(self) -> int:
        return self._listeners.port

    @property
    def origin(self) -> str:
        return f"{self.scheme}://{host_literal(self.url_host)}:{self.port}"

    @property
    def callback_url(self) -> str:
        return f"{self.origin}{self.path}"

    @property
    def start_url(self) -> str:
        return f"{self.origin}{self.start_path}"

    @property
    def bound_hosts(self) -> list[str]:
        """The addresses actually listened on (``localhost`` gives 127.0.0.1 and, where there is IPv6, ::1)."""
        return list(self._listeners.hosts)

    def _allowed_hosts(self) -> set[str]:
        names = {host_literal(h).lower() for h in [*self._listeners.hosts, self.url_host]}
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
        if not self._prebound:
            self._listeners.bind()
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
            response: web.StreamResponse = _html(
                page(421, "error", "Wrong address", "This server only answers requests addressed to itself.")
            )
        else:
            try:
                response = await handler(request)
            except web.HTTPException as exc:
                if exc.status == 405:
                    response = _html(page(405, "error", "Method not allowed", "Only GET is served here."))
                    response.headers["Allow"] = "GET"
                elif exc.status == 404:
                    response = _html(page(404, "error", "Not found", "There is nothing at this address."))
                else:
                    response = _html(page(exc.status, "error", exc.reason, "This request was not understood."))
            except (asyncio.CancelledError, LoopAuthError):
                raise
            except Exception:
                log.debug("callback handler failed", exc_info=True)
                response = _html(page(500, "error", "Something went wrong", "Return to your terminal."))
        for name, value in pages.SECURITY_HEADERS.items():
            if name != "Content-Type" or response.content_type == "text/html":
                response.headers[name] = value
        return response

    async def _start_page(self, request: web.Request) -> web.StreamResponse:
        try:
            url = await asyncio.shield(self.waiter.authorize_url)
        except LoopAuthError as exc:
            self.waiter.start_page_served.set()
            return _html(
                page(
                    502,
                    "error",
                    "Login failed",
                    "The provider could not start the login.",
                    detail=str(exc),
                    next_step="You can close this tab and return to your terminal, which shows what went wrong.",
                )
            )
        self.waiter.start_page_served.set()
        # The one redirect we serve goes to the URL we built, never to anything taken from the request.
        return web.Response(status=302, headers={"Location": url})

    async def _callback(self, request: web.Request) -> web.StreamResponse:
        params = {k: request.query.getone(k) for k in request.query}
        match = self.waiter.offer(params)
        if isinstance(match, Rejected):
            return _html(
                page(
                    400,
                    "error",
                    "Not a valid callback",
                    "This request does not complete the login.",
                    detail=match.reason,
                    next_step="To log in, use the tab with the provider's page. You can close this one.",
                )
            )
        final = await asyncio.shield(self.waiter.final_page)
        response = _html(final)
        # The browser keeps connections alive; tell it not to, so closing is immediate.
        response.force_close()
        return response


def _html(p: Page) -> web.Response:
    return web.Response(status=p.status, text=p.html, content_type="text/html", charset="utf-8")
