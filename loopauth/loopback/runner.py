"""The loopback login, one pipeline for every caller: prepare, bind, launch, begin, then ``await complete()``.

::

    prepared = loopauth.api.prepare(options)   # every check; standard library only
    login = Login(prepared)
    login.bind()        # the callback sockets, before the provider hears of the login (RFC 8252 §8.3)
    login.launch()      # the browser, on the local start page that forwards to the provider
    login.begin()       # the protocol's first call (OAuth 1.0a: the request token), in a worker thread
    creds = await login.complete()   # serve, wait for the callback or a paste, exchange, save

The first four need neither asyncio nor aiohttp: ``loopauth login`` runs them while those are
still to be imported (a quarter of a second), so the browser is starting and the provider already
answering by the time the server exists; the kernel holds the browser's connection in the listen
backlog meanwhile. Library callers run all five through ``loopauth.login_async``. The protocol
lives behind :class:`loopauth.loopback.dance.Dance`; nothing here knows of signatures or tokens.
"""

from __future__ import annotations

import contextlib
import errno
import getpass
import os
import sys
import time
from collections.abc import AsyncIterable
from dataclasses import replace
from typing import TYPE_CHECKING

from ..errors import AuthorizationDenied, LoginTimeout, LoopAuthError, PortInUse, ProviderError, StoreError
from ..http import REQUEST_TIMEOUT, Client
from ..models import AnyCredentials
from ..text import account_name, provider_message
from ..urls import host_literal
from . import wording
from .background import Background
from .browser import Browser, launch
from .countdown import Countdown, on_terminal
from .dance import Approved, Denied, Failed, Rejected
from .listen import Listeners
from .options import Prepared, say_to_stderr

if TYPE_CHECKING:
    import asyncio

    from .server import Waiter


START_PAGE_GRACE = 5.0
"""After a failed start, how long the start page stays up for a browser that is still on its way to it."""
TYPED_TRIES = 3
"""How often a person may type or paste a verifier or PIN that the provider rejects."""
DISCARD_TIMEOUT = 10.0
"""How long revoking tokens that could not be saved may take: the provider has just answered, so it is up."""


class Login:
    """One login, from bound sockets to stored credentials. See the module docstring for the steps."""

    def __init__(self, prepared: Prepared, *, client: Client | None = None) -> None:
        self.prepared = prepared
        self.options = prepared.options
        self.dance = prepared.dance
        self.plan = prepared.plan
        self.say = prepared.options.say
        self.deadline = time.monotonic() + prepared.options.timeout
        self.client = client or Client()
        self.listeners: Listeners | None = None
        self.callback: str | None = None
        self.browser: Browser | None = None
        self.countdown: Countdown | None = None
        self.started: Background[str] | None = None
        self._bound = False
        self._launched = False

    @property
    def served(self) -> bool:
        return self.listeners is not None

    @property
    def start_url(self) -> str:
        assert self.listeners is not None
        return self.plan.start_url(self.listeners.port)

    # -- the steps before the event loop -------------------------------------------------------------------------

    def bind(self) -> None:
        """Bind the callback sockets when the plan serves the callback; PortInUse before anything else happens."""
        self._bound = True
        if self.plan.serve:
            try:
                self.listeners = Listeners(self.plan.host, self.plan.port).bind()
            except PortInUse as exc:
                # A callback the user chose on a privileged port (80/443 by default) is still usable: the provider
                # sends the browser there, and the user pastes the address. A port somebody listens on is not.
                privileged = isinstance(exc.__cause__, OSError) and exc.__cause__.errno == errno.EACCES
                if not (self.options.callback_url is not None and privileged):
                    raise
                self.say(wording.privileged_port(self.plan.port))
                self.plan = replace(self.plan, serve=False, why_not=f"port {self.plan.port} needs privileges")
        if self.listeners is not None:
            self.callback = self.plan.callback_for(self.listeners.port)
        else:
            assert self.plan.url is not None  # only a served plan leaves the URL to the bound port
            self.callback = self.plan.url

    def launch(self) -> None:
        """Say where the login happens and, with the system browser, start opening its start page.

        Without a server of ours (the PIN flow, a callback elsewhere) the browser can only go
        straight to the provider, once :meth:`begin` has its page: :meth:`complete` does that.
        """
        if not self._bound:
            self.bind()
        self._launched = True
        name = self.dance.provider_name
        self._ssh_hint()
        if self.options.callback_url is not None or self.options.ssl_context is not None:
            # Providers refuse (or silently rewrite) a callback they do not know: say which one to register.
            assert self.callback is not None
            self.say(wording.register_callback(name, self.callback))
        if self.listeners is None:
            return
        if self.options.open_browser is False:
            self.say(wording.open_yourself(self.start_url, name))
        elif self.options.open_browser is True:
            self.say(wording.opening(self.start_url, name))
            self.browser = launch(self.start_url)
        # An Opener (tests, the demo's scripted user) is a coroutine: complete() calls it.

    def begin(self) -> None:
        """Start the protocol's first step in a worker thread; its result or failure is awaited by complete()."""
        if not self._launched:
            self.launch()
        callback = self.callback
        assert callback is not None
        self.started = Background(
            lambda: self.dance.begin(self.client, callback, timeout=self._left()), name="loopauth-begin"
        )

    # -- the rest, in the event loop -----------------------------------------------------------------------------

    async def complete(self) -> AnyCredentials:
        """Serve the callback, wait for it (or a paste), exchange, save; the steps not run yet are run first."""
        import asyncio

        from .server import CallbackServer, Waiter

        if self.started is None:
            self.begin()
        assert self.started is not None
        assert self.callback is not None
        options = self.options
        # While our server listens, a paste completes the login only when it names this login's request token:
        # a stray word on stdin ("y", "ok") must not be sent as a verifier (and may spend the request token).
        # Without a server (the PIN flow, a callback elsewhere) a lone verifier or PIN is what the user has.
        waiter = Waiter(self.dance, bare=not self.served)
        source, interactive = _paste_source(options.paste, needed=not self.served)
        tasks: list[asyncio.Task[object]] = []
        exchange: Background[AnyCredentials] | None = None
        try:
            async with contextlib.AsyncExitStack() as stack:
                if self.listeners is not None:
                    server = CallbackServer(waiter, self.plan, self.listeners, ssl_context=options.ssl_context)
                    await stack.enter_async_context(server)
                begun = asyncio.ensure_future(self._await_begin(waiter))
                tasks.append(begun)
                if source is not None:
                    tasks.append(asyncio.ensure_future(self._read_pastes(source, waiter, interactive)))
                try:
                    if self.listeners is not None:
                        tasks += self._announce_served(interactive)
                        waiting_for = wording.waiting_for_browser(self.callback)
                        self.say(wording.waiting(waiting_for, options.timeout, paste=interactive))
                        tasks += self._start_countdown()
                    else:
                        waiting_for = wording.WAITING_FOR_PIN if self.plan.oob else wording.WAITING_FOR_PASTE
                        await self._announce_direct(begun, interactive, waiting_for)
                    tries = TYPED_TRIES
                    while True:
                        outcome = await self._wait(begun, waiter, waiting_for)
                        if isinstance(outcome, Denied):
                            waiter.finish(wording.denied_page(wording.refused_page_text(self.dance.provider_name)))
                            raise AuthorizationDenied(wording.denied(self.dance.provider_name))
                        if isinstance(outcome, Failed):
                            raise ProviderError(wording.provider_refused(self.dance.provider_name, outcome.message))
                        exchange = self._exchange(outcome)
                        try:
                            creds = await exchange.wait()
                        except ProviderError as exc:
                            if not (outcome.typed and self.dance.typo(exc)):
                                raise  # the automatic callback's verifier is no typo: that login is over
                            # A person typed or pasted it: most likely a typo, and the request token is still good.
                            tries -= 1
                            if tries <= 0 or self.deadline - time.monotonic() <= 1:
                                detail = provider_message("", exc.body) if exc.body else exc.message
                                final = wording.typo_final(self.plan.oob, TYPED_TRIES - tries, exc.status, detail)
                                raise ProviderError(final, status=exc.status, body=exc.body) from None
                            self.say(wording.typo_again(self.plan.oob, tries))
                            if interactive:
                                self._stop_countdown()  # the prompt takes the line a person types on
                                _show_typing()
                                print(wording.prompt(self.plan.oob), end="", file=sys.stderr, flush=True)
                            waiter.rearm()
                            continue
                        break
                    await self._save(creds)
                    account = account_name(creds.screen_name, creds.user_id)
                    waiter.finish(wording.success_page(self.dance.provider_name, account))
                    for task in tasks:
                        task.cancel()  # nothing more to announce, read or count down
                    if self.browser is not None and self.browser.in_terminal():
                        # A console browser owns the terminal: the result waits until its user quits it, rather
                        # than being printed under its screen (the saved login no longer depends on it).
                        await self.browser.wait()
                    return creds
                except LoopAuthError as exc:
                    waiter.fail_start(exc)
                    denied = isinstance(exc, AuthorizationDenied)
                    waiter.finish(wording.denied_page(str(exc)) if denied else wording.failed_page(str(exc)))
                    start_failed = begun.done() and not begun.cancelled() and begun.exception() is not None
                    if start_failed and self._browser_sent():
                        # The browser was sent to our start page before the start failed: keep serving a moment
                        # so it shows the error instead of "connection refused".
                        with contextlib.suppress(TimeoutError):
                            await asyncio.wait_for(waiter.start_page_served.wait(), START_PAGE_GRACE)
                    raise
        finally:
            if exchange is not None and not exchange.done():
                self.client.abort()  # interrupted mid-exchange: the worker thread gives up at once
            for task in tasks:
                task.cancel()
                with contextlib.suppress(BaseException):
                    await task
            self.client.close()
            self._stop_countdown()
            self.close()
        raise AssertionError("unreachable: the login above returns or raises")

    def close(self) -> None:
        """Free the sockets (the server closes them too; this covers a login that never got to serve); end a
        console browser still in the terminal and give the terminal its modes back."""
        if self.listeners is not None:
            self.listeners.close()
        if self.browser is not None:
            self.browser.stop()

    # -- helpers -------------------------------------------------------------------------------------------------

    def _left(self) -> float:
        return max(0.1, min(REQUEST_TIMEOUT, self.deadline - time.monotonic()))

    def _browser_sent(self) -> bool:
        return self.served and self.options.open_browser is not False

    async def _save(self, creds: AnyCredentials) -> None:
        """Store ``creds``; if that fails, the provider has issued tokens nobody holds: revoke them where it can."""
        try:
            self.prepared.store.save(creds, kind=self.prepared.storage)
        except StoreError as exc:
            discarding = Background(
                lambda: self.dance.discard(self.client, creds, timeout=DISCARD_TIMEOUT), name="loopauth-discard"
            )
            revoked = await discarding.wait()
            note = wording.discarded if revoked else wording.not_discarded
            raise StoreError(f"{exc.message}; {note(self.dance.provider_name)}", path=exc.path) from exc

    def _exchange(self, approved: Approved) -> Background[AnyCredentials]:
        profile = self.prepared.profile
        return Background(
            lambda: self.dance.finish(self.client, approved, profile=profile, timeout=self._left()),
            name="loopauth-exchange",
        )

    async def _await_begin(self, waiter: Waiter) -> str:
        assert self.started is not None
        try:
            url = await self.started.wait()
        except BaseException as exc:
            waiter.fail_start(exc)
            raise
        waiter.ready(url)
        if self.served:
            # The browser is already on its way to our start page; the provider's own URL is the fallback.
            lead = wording.if_not_opened if self.options.open_browser is True else wording.or_provider_page
            self.say(lead(url))
        return url

    def _announce_served(self, interactive: bool) -> list[asyncio.Task[object]]:
        import asyncio

        tasks: list[asyncio.Task[object]] = []
        opener = self.options.open_browser
        if opener is not True and opener is not False:
            # Not the system browser: whatever the caller gave (the demo's scripted user, a test's).
            self.say(wording.handing(self.start_url, self.dance.provider_name, self.options.opener_label))
            tasks.append(asyncio.ensure_future(self._report(opener(self.start_url), self.start_url)))
        elif self.browser is not None:
            tasks.append(asyncio.ensure_future(self._report(self.browser.wait(), self.start_url)))
        return tasks

    async def _report(self, opened: object, url: str) -> None:
        """Say so if no browser could be opened; never delays the login (a callback proves the browser works)."""
        if not await opened:  # type: ignore[misc]
            self.say(wording.no_browser(url))
            # An OAuth 2.0 provider with an RFC 8628 endpoint lets a machine without a browser log in anyway; one
            # known by its issuer names that endpoint once begin() has read its metadata.
            if self.started is not None:
                with contextlib.suppress(Exception):  # a failed start is the login's error, reported there
                    await self.started.wait()
            if getattr(getattr(self.dance, "provider", None), "device_authorization_url", None):
                self.say(wording.try_device(self.dance.provider_name))

    def _start_countdown(self) -> list[asyncio.Task[object]]:
        """The time left, on a terminal the status lines go to (see :mod:`.countdown`); its lines go over it."""
        import asyncio

        if self.options.say is not say_to_stderr or not on_terminal(sys.stderr):
            return []
        browser = self.browser
        # A browser we started may be drawing on this terminal until it returns (a desktop one returns at once).
        countdown = Countdown(sys.stderr, self.deadline, hidden=lambda: browser is not None and not browser.done())
        self.countdown = countdown
        self.say = countdown.line
        return [asyncio.ensure_future(countdown.run())]

    def _stop_countdown(self) -> None:
        if self.countdown is not None:
            self.countdown.stop()

    async def _announce_direct(self, begun: asyncio.Future[str], interactive: bool, waiting_for: str) -> None:
        """Without a server of ours the browser goes straight to the provider, once its page is known."""
        url = await begun
        name = self.dance.provider_name
        opener = self.options.open_browser
        if opener is False:
            self.say(wording.open_yourself(url))
        else:
            self.say(wording.opening_provider(name))
            if opener is True:
                self.browser = launch(url)
                opened = await self.browser.wait()
            else:
                opened = await opener(url)
            self.say(wording.if_not_opened(url) if opened else wording.no_browser(url))
        if self.plan.oob:
            self.say(wording.pin_next(name))
        else:
            assert self.callback is not None
            for line in wording.paste_next(self.callback, self.plan.why_not):
                self.say(line)
        self.say(wording.waiting(waiting_for, self.options.timeout, paste=False))
        if interactive:
            _show_typing()
            print(wording.prompt(self.plan.oob), end="", file=sys.stderr, flush=True)

    async def _wait(self, begun: asyncio.Future[str], waiter: Waiter, waiting_for: str) -> Approved | Denied | Failed:
        """The first valid callback or paste, or the start's failure, or LoginTimeout at the deadline."""
        import asyncio

        pending: set[asyncio.Future[object]] = {begun, waiter.result}  # type: ignore[arg-type]
        while not waiter.result.done():
            remaining = self.deadline - time.monotonic()
            if remaining <= 0:
                break
            done, _ = await asyncio.wait(pending, timeout=remaining, return_when=asyncio.FIRST_COMPLETED)
            if begun in done:
                begun.result()  # raises the start's failure
                pending.discard(begun)
        timeout = self.options.timeout
        if not begun.done():
            # Nobody could have come back: the provider never let the login start.
            raise ProviderError(wording.no_request_token(timeout))
        if not waiter.result.done():
            raise LoginTimeout(wording.timed_out(timeout, waiting_for, begun.result()))
        return waiter.result.result()

    async def _read_pastes(self, lines: AsyncIterable[str], waiter: Waiter, interactive: bool) -> None:
        """Offer each non-empty line to the waiter. EOF changes nothing; a wrong PIN re-arms the waiter.

        A terminal browser (w3m, lynx) named in BROWSER runs in this same terminal until its user quits
        it: reading the terminal meanwhile would steal its keystrokes. So a person's terminal is read only
        once the browser we started has returned (a desktop browser returns at once).
        """
        if interactive and self.browser is not None:
            await self.browser.wait()
        if interactive and self.served:
            _show_typing()
            self.say(wording.PASTE_INVITE)
        async for line in lines:
            if interactive and self.countdown is not None:
                self.countdown.newline()  # its Enter moved the cursor below the countdown
            if not line.strip():
                continue
            match = waiter.offer_pasted(line)
            if isinstance(match, Rejected):
                self.say(wording.not_this_login(match.reason))

    def _ssh_hint(self) -> None:
        ssh = os.environ.get("SSH_CONNECTION", "").split()
        if len(ssh) != 4 or self.listeners is None:
            return
        # The browser is on the machine we were reached from: a tunnel makes the automatic path work there.
        hosts = self.listeners.hosts
        target = "127.0.0.1" if "127.0.0.1" in hosts else host_literal(hosts[0])
        ssh_port = f" -p {ssh[3]}" if ssh[3] != "22" else ""
        for line in wording.ssh_tunnel(self.start_url, self.listeners.port, target, ssh_port, _user(), ssh[2]):
            self.say(line)


def _user() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "you"


def _show_typing() -> None:
    """Echo on for what a person types at our prompt: the browser before it may have left it off."""
    from .paste import show_typing

    show_typing()


def _paste_source(paste: bool | AsyncIterable[str], *, needed: bool) -> tuple[AsyncIterable[str] | None, bool]:
    """Where pasted lines come from, and whether a person is typing them (prompts only make sense then)."""
    from .paste import stdin_is_tty, stdin_lines, stdin_readable

    if not isinstance(paste, bool):
        return paste, False
    if (paste or needed) and stdin_readable():
        return stdin_lines(), stdin_is_tty()
    return None, False
