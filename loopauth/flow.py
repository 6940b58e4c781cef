"""The login: the only place that composes the provider client, the callback server, the browser and the store.

``login_async`` is the one-command flow; :class:`Flow` is the seed's manual
flow (``get_authorize_url`` then ``generate_access_token(response=...)``) with
python-twitter-v2's vocabulary, and :class:`SyncFlow` the same for a REPL.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import functools
import getpass
import os
import socket
import ssl
import sys
import time
from collections.abc import AsyncIterable, Callable, Coroutine, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ParamSpec, TypeVar
from urllib.parse import quote, urlencode, urlsplit, urlunsplit

import aiohttp

from . import __version__
from .browser import Launch, Opener, open_in_thread
from .callback import CallbackServer, Page, Waiter, page
from .defaults import DEFAULT_CALLBACK_PATH, DEFAULT_PORT, DEFAULT_TIMEOUT  # re-exported
from .errors import AuthorizationDenied, LoginTimeout, LoopAuthError, PortInUse, ProviderError, UsageError
from .listen import Listeners, host_literal
from .models import Credentials, Provider, RequestToken
from .paste import stdin_is_tty, stdin_lines, stdin_readable
from .prepare import (
    Consumer,
    EarlyStart,
    opening_message,
    prepare_login,
    resolve_consumer,
    resolve_provider,
    say_to_stderr,
)
from .protocol import (
    CallbackPlan,
    Denied,
    Rejected,
    SignedRequest,
    Verified,
    authorize_url,
    hint_for,
    match_callback,
    parse_pasted,
    parse_token_response,
    sign,
    user_id_from_token,
)
from .store import CredentialStore, validate_profile_name

REQUEST_TIMEOUT = 30.0
"""The longest one call to the provider may take; never longer than what is left of ``timeout``."""
START_PAGE_GRACE = 5.0
"""After a request-token failure, how long the start page stays up for a browser that is still starting."""
USER_AGENT = f"loopauth/{__version__}"

Say = Callable[[str], None]
P = ParamSpec("P")
T = TypeVar("T")


class ProviderClient:
    """The HTTP calls to one provider, over one reused connection pool."""

    def __init__(self, session: aiohttp.ClientSession, provider: Provider, consumer: Consumer) -> None:
        self.session = session
        self.provider = provider
        self.consumer = consumer

    def sign(
        self,
        method: str,
        url: str,
        *,
        token: str | None = None,
        token_secret: str | None = None,
        callback: str | None = None,
        verifier: str | None = None,
        form: list[tuple[str, str]] | None = None,
    ) -> SignedRequest:
        return sign(
            method,
            url,
            consumer_key=self.consumer.key,
            consumer_secret=self.consumer.secret,
            token=token,
            token_secret=token_secret,
            callback=callback,
            verifier=verifier,
            form=form,
            signature_method=self.consumer.signature_method,
            rsa_key=self.consumer.rsa_key,
        )

    async def send(
        self, request: SignedRequest, *, timeout: float = REQUEST_TIMEOUT, extra_headers: Mapping[str, str] = {}
    ) -> tuple[int, str, str, Mapping[str, str]]:
        """Send a signed request: (status, content type, text, headers). Network failures become ProviderError."""
        raw = await self.send_raw(request, timeout=timeout, extra_headers=extra_headers)
        return raw.status, raw.content_type, raw.text(), raw.headers

    async def send_raw(
        self, request: SignedRequest, *, timeout: float = REQUEST_TIMEOUT, extra_headers: Mapping[str, str] = {}
    ) -> RawResponse:
        """Send a signed request and keep the body as bytes (``loopauth request`` prints them unchanged)."""
        headers = {"User-Agent": USER_AGENT, **extra_headers, **request.headers}
        host = urlsplit(request.url).hostname
        try:
            async with self.session.request(
                request.method,
                request.url,
                headers=headers,
                data=request.body.encode("utf-8") if request.body is not None else None,
                timeout=aiohttp.ClientTimeout(total=max(timeout, 0.1)),
                allow_redirects=False,
            ) as response:
                body = await response.read()
                return RawResponse(
                    status=response.status,
                    reason=response.reason or "",
                    version=f"HTTP/{response.version.major}.{response.version.minor}" if response.version else "HTTP",
                    content_type=response.content_type,
                    charset=response.charset,
                    headers=response.headers,
                    body=body,
                )
        except TimeoutError as exc:
            raise ProviderError(f"{host} did not answer within {timeout:.0f} s") from exc
        except aiohttp.ClientConnectorError as exc:
            err = exc.os_error
            if isinstance(err, socket.gaierror):
                reason = f"name lookup failed ({err.strerror or err})"
            elif err is not None and err.errno:
                reason = os.strerror(err.errno).lower()
            else:
                reason = str(err or exc)
            raise ProviderError(f"cannot reach {host}: {reason}") from exc
        except aiohttp.ClientError as exc:
            raise ProviderError(f"request to {host} failed: {exc.__class__.__name__}: {exc}") from exc

    async def fetch_request_token(
        self, callback: str, *, timeout: float = REQUEST_TIMEOUT, params: Mapping[str, str] | None = None
    ) -> RequestToken:
        """RFC 5849 §2.1: temporary credentials, with the callback confirmed.

        ``params`` (Twitter's ``x_auth_access_type``) go in the URL's query, where
        Twitter reads them, and so are covered by the signature (§3.4.1.3.1).
        """
        request = self.sign("POST", with_query(self.provider.request_token_url, params), callback=callback)
        status, ctype, text, _ = await self.send(request, timeout=timeout)
        try:
            fields = parse_token_response(status, ctype, text, step="request token", require_callback_confirmed=True)
        except ProviderError as exc:
            raise _with_hint(exc, callback) from None
        return RequestToken(fields["oauth_token"], fields["oauth_token_secret"])

    async def fetch_access_token(
        self, request_token: RequestToken, verifier: str, *, timeout: float = REQUEST_TIMEOUT
    ) -> dict[str, str]:
        """RFC 5849 §2.3: signed with the request token *and its secret*, plus the verifier."""
        request = self.sign(
            "POST",
            self.provider.access_token_url,
            token=request_token.oauth_token,
            token_secret=request_token.oauth_token_secret,
            verifier=verifier,
        )
        status, ctype, text, _ = await self.send(request, timeout=timeout)
        try:
            return parse_token_response(status, ctype, text, step="access token")
        except ProviderError as exc:
            raise _with_hint(exc, None) from None


@dataclass(frozen=True)
class RawResponse:
    """A provider's answer as received: the body stays bytes."""

    status: int
    reason: str
    version: str
    content_type: str
    charset: str | None
    headers: Mapping[str, str]
    body: bytes

    def text(self) -> str:
        try:
            return self.body.decode(self.charset or "utf-8", errors="replace")
        except LookupError:  # a charset Python does not know: the provider's words are still mostly readable
            return self.body.decode("utf-8", errors="replace")


def with_query(url: str, params: Mapping[str, str] | None) -> str:
    """``url`` with ``params`` appended to its query (its own query kept as written)."""
    if not params:
        return url
    parts = urlsplit(url)
    extra = urlencode(list(params.items()), quote_via=quote)
    query = f"{parts.query}&{extra}" if parts.query else extra
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


def _with_hint(error: ProviderError, callback: str | None) -> ProviderError:
    hint = hint_for(error, callback=callback)
    if not hint:
        return error
    return ProviderError(f"{error.message}; {hint}", status=error.status, body=error.body)


def new_session() -> aiohttp.ClientSession:
    # One session per login: the access-token call reuses the request-token call's connection.
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=4, keepalive_timeout=60))


def build_credentials(
    profile: str,
    provider: Provider,
    consumer: Consumer,
    fields: Mapping[str, str],
    *,
    rsa_key_file: str | None = None,
) -> Credentials:
    token = fields["oauth_token"]
    return Credentials(
        profile=profile,
        provider=provider.name,
        consumer_key=consumer.key,
        consumer_secret=consumer.secret,
        oauth_token=token,
        oauth_token_secret=fields["oauth_token_secret"],
        user_id=fields.get("user_id") or user_id_from_token(token),
        screen_name=fields.get("screen_name") or fields.get("username") or None,
        created_at=datetime.now(UTC).replace(microsecond=0).isoformat(),
        endpoints=provider,
        rsa_key_file=str(Path(rsa_key_file).resolve()) if rsa_key_file else None,
    )


def account_name(creds: Credentials) -> str:
    if creds.screen_name:
        return f"@{creds.screen_name}"
    if creds.user_id:
        return f"user {creds.user_id}"
    return "your account"


async def login_async(
    *,
    provider: Provider | str = "twitter",
    consumer_key: str | None = None,
    consumer_secret: str | None = None,
    profile: str = "default",
    host: str = "127.0.0.1",
    port: int = DEFAULT_PORT,
    callback_path: str = DEFAULT_CALLBACK_PATH,
    timeout: float = DEFAULT_TIMEOUT,
    authorize_params: Mapping[str, str] | None = None,
    request_token_params: Mapping[str, str] | None = None,
    signature_method: str | None = None,
    rsa_key_file: str | None = None,
    open_browser: Opener | bool = True,
    store: CredentialStore | None = None,
    say: Say = say_to_stderr,
    callback_url: str | None = None,
    oob: bool = False,
    ssl_context: ssl.SSLContext | None = None,
    paste: bool | AsyncIterable[str] = False,
    early: EarlyStart | None = None,
) -> Credentials:
    """Log in through a loopback callback and store the credentials under ``profile``.

    ``open_browser`` is True (the system browser), False (only print the URL),
    or an async callable given the URL to open (tests and the demo use it).
    Status lines (never a secret) go to ``say``, stderr by default.

    ``callback_url`` replaces ``host``/``port``/``callback_path`` with any
    callback: served when it is loopback http(s) that we can bind (https needs
    ``ssl_context``), otherwise sent as it is while the user pastes the address
    the browser lands on. ``ssl_context`` alone serves the default callback over
    https. ``oob`` is the PIN flow. ``paste`` is where a pasted address, bare
    verifier or PIN comes from, concurrently with the server: True reads stdin,
    an async iterable of lines is read instead, and False (the default) reads
    stdin only when nothing else can complete the login (``oob``, or a
    callback that is not served).

    ``request_token_params`` are extra parameters of the request-token call
    (Twitter's ``x_auth_access_type``); ``authorize_params`` go to the authorize page.

    ``early`` is what ``loopauth login`` did before importing aiohttp, from these same
    arguments (:func:`loopauth.prepare.start_early`): the checks, the bound sockets, the
    browser already opening on their start page.
    """
    if early is None:
        prepared = prepare_login(
            provider=provider,
            consumer_key=consumer_key,
            consumer_secret=consumer_secret,
            profile=profile,
            host=host,
            port=port,
            callback_path=callback_path,
            timeout=timeout,
            signature_method=signature_method,
            rsa_key_file=rsa_key_file,
            store=store,
            callback_url=callback_url,
            oob=oob,
            tls=ssl_context is not None,
        )
    else:
        prepared = early.prepared
    plan, profile, store = prepared.plan, prepared.profile, prepared.store
    resolved, consumer = prepared.provider, prepared.consumer
    deadline = time.monotonic() + timeout

    waiter = Waiter()
    async with contextlib.AsyncExitStack() as stack:
        listeners = early.listeners if early is not None else None
        server = await _serve(
            stack, plan, waiter, ssl_context, say, fallback=callback_url is not None, listeners=listeners
        )
        session = await stack.enter_async_context(new_session())
        client = ProviderClient(session, resolved, consumer)
        callback = _callback_for(plan, server)
        if callback_url is not None or ssl_context is not None:
            # Providers refuse (or silently rewrite) a callback they do not know: say which one to register.
            say(f"Callback URL (register this exact URL with {resolved.name}): {callback}")
        source, interactive = _paste_source(paste, needed=server is None)
        # With a server the browser is already on its way to our start page; the provider's own URL is the fallback.
        lead = "If the browser did not open, visit:" if open_browser is not False else "Or open the provider's page:"
        announce = None if server is None else functools.partial(_announce_url, say, lead)
        fetch = asyncio.create_task(
            _start(client, callback, waiter, deadline, authorize_params, request_token_params, announce)
        )
        reader = asyncio.create_task(_read_pastes(source, waiter, say)) if source is not None else None
        try:
            if server is not None:
                launch = early.launch if early is not None else None
                await _announce_server(server, resolved.name, open_browser, say, launch)
                if interactive:
                    say("Browser on another machine? Paste the address it lands on here and press Enter.")
                waiting_for = f"the browser to come back to {callback}"
            else:
                await _announce_direct(fetch, waiter, plan, callback, resolved.name, open_browser, say, interactive)
                waiting_for = "the PIN" if plan.oob else "the address the browser landed on to be pasted"
            match = await _wait(fetch, waiter, deadline, timeout, waiting_for)
            if isinstance(match, Denied):
                waiter.finish(
                    page(
                        200,
                        "denied",
                        "Access denied",
                        f"You refused access to {resolved.name}.",
                        next_step="Nothing was saved. You can close this tab and return to your terminal.",
                    )
                )
                raise AuthorizationDenied(f"login denied: access was refused on {resolved.name}'s page")
            request_token = fetch.result()
            fields = await client.fetch_access_token(request_token, match.verifier, timeout=_left(deadline))
            creds = build_credentials(profile, resolved, consumer, fields, rsa_key_file=rsa_key_file)
            store.save(creds)
            waiter.finish(
                page(
                    200,
                    "success",
                    "Logged in",
                    f"loopauth is now signed in to {resolved.name} as {account_name(creds)}.",
                    next_step="You can close this tab and return to your terminal.",
                )
            )
            return creds
        except LoopAuthError as exc:
            waiter.fail_start(exc)
            waiter.finish(_error_page(exc))
            started_browser = server is not None and open_browser is not False
            if started_browser and fetch.done() and not fetch.cancelled() and fetch.exception():
                # The browser was sent to our start page before the request token failed: keep serving
                # a moment so it shows the error instead of "connection refused".
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(waiter.start_page_served.wait(), START_PAGE_GRACE)
            raise
        finally:
            for task in (fetch, reader):
                if task is not None:
                    task.cancel()
                    with contextlib.suppress(BaseException):
                        await task
    raise AssertionError("unreachable: the login above returns or raises")


async def _serve(
    stack: contextlib.AsyncExitStack,
    plan: CallbackPlan,
    waiter: Waiter,
    ssl_context: ssl.SSLContext | None,
    say: Say,
    *,
    fallback: bool,
    listeners: Listeners | None = None,
) -> CallbackServer | None:
    """Bind the callback server when the plan says so; None when the login goes through pasting instead."""
    if not plan.serve:
        return None
    server = CallbackServer(
        waiter, host=plan.host, port=plan.port, path=plan.path, ssl_context=ssl_context, listeners=listeners
    )
    try:
        return await stack.enter_async_context(server)
    except PortInUse as exc:
        # A callback the user chose on a privileged port (80/443 by default) is still usable: the provider
        # sends the browser there, and the user pastes the address. A port somebody else listens on is not.
        if not (fallback and isinstance(exc.__cause__, OSError) and exc.__cause__.errno == errno.EACCES):
            raise
        say(f"Port {plan.port} needs privileges to listen on, so nothing here will catch the callback.")
        return None


def _callback_for(plan: CallbackPlan, server: CallbackServer | None) -> str:
    if plan.url is not None:
        return plan.url
    assert server is not None  # only a served plan leaves the URL to the bound port
    return server.callback_url + (f"?{plan.query}" if plan.query else "")


def _paste_source(paste: bool | AsyncIterable[str], *, needed: bool) -> tuple[AsyncIterable[str] | None, bool]:
    """Where pasted lines come from, and whether a person is typing them (prompts only make sense then)."""
    if not isinstance(paste, bool):
        return paste, False
    if (paste or needed) and stdin_readable():
        return stdin_lines(), stdin_is_tty()
    return None, False


async def _read_pastes(lines: AsyncIterable[str], waiter: Waiter, say: Say) -> None:
    """Offer each non-empty line to the waiter until one completes the login. EOF changes nothing."""
    async for line in lines:
        if not line.strip():
            continue
        match = waiter.offer_pasted(line)
        if not isinstance(match, Rejected):
            return
        # The reason never repeats what was pasted: it may hold a verifier.
        say(f"That does not complete this login: {match.reason}. Still waiting; paste the whole address.")


def _announce_url(say: Say, lead: str, url: str) -> None:
    say(f"{lead} {url}")


async def _announce_server(
    server: CallbackServer, name: str, open_browser: Opener | bool, say: Say, launch: Launch | None = None
) -> None:
    ssh = os.environ.get("SSH_CONNECTION", "").split()
    if len(ssh) == 4:
        # The browser is on the machine we were reached from: a tunnel makes the automatic path work there.
        target = "127.0.0.1" if "127.0.0.1" in server.bound_hosts else host_literal(server.bound_hosts[0])
        ssh_port = f" -p {ssh[3]}" if ssh[3] != "22" else ""
        say(f"Over SSH? On the machine with the browser, run this, then open {server.start_url} there:")
        say(f"  ssh -N -L {server.port}:{target}:{server.port}{ssh_port} {_user()}@{ssh[2]}")
    if open_browser is False:
        say(f"Open this URL in a browser to log in: {server.start_url} (it forwards to {name}'s authorize page)")
        return
    if launch is not None:
        # Already opening since before the server existed (and announced then).
        opened = await launch.opened()
    else:
        opener = open_in_thread if open_browser is True else open_browser
        say(opening_message(server.start_url, name))
        opened = await opener(server.start_url)
    if not opened:
        say(f"No browser could be opened. Open this URL to log in: {server.start_url}")


def _user() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "you"


async def _announce_direct(
    fetch: asyncio.Task[RequestToken],
    waiter: Waiter,
    plan: CallbackPlan,
    callback: str,
    name: str,
    open_browser: Opener | bool,
    say: Say,
    interactive: bool,
) -> None:
    """Without a server of ours the browser goes straight to the provider, once its URL is known."""
    await fetch
    url = waiter.authorize_url.result()
    if open_browser is False:
        say(f"Open this URL in a browser to log in: {url}")
    else:
        opener = open_in_thread if open_browser is True else open_browser
        say(f"Opening {name}'s authorize page in your browser.")
        if await opener(url):
            say(f"If the browser did not open, visit: {url}")
        else:
            say(f"No browser could be opened. Open this URL to log in: {url}")
    if plan.oob:
        say(f"After you authorize, {name} shows a PIN: type it here and press Enter.")
    else:
        why = plan.why_not or f"port {plan.port} needs privileges"
        say(f"After you authorize, the browser goes to {callback}; nothing here listens there ({why}).")
        say(
            "That page may not load: copy the whole address from the browser's address bar, paste it here, press Enter."
        )
    if interactive:
        print("PIN: " if plan.oob else "Address: ", end="", file=sys.stderr, flush=True)


def _error_page(exc: LoopAuthError) -> Page:
    if isinstance(exc, AuthorizationDenied):
        return page(
            200,
            "denied",
            "Access denied",
            str(exc),
            next_step="Nothing was saved. You can close this tab and return to your terminal.",
        )
    return page(
        502,
        "error",
        "Login failed",
        "The login could not be completed.",
        detail=str(exc),
        next_step="You can close this tab and return to your terminal, which shows what went wrong.",
    )


def _left(deadline: float) -> float:
    return max(0.1, min(REQUEST_TIMEOUT, deadline - time.monotonic()))


async def _start(
    client: ProviderClient,
    callback: str,
    waiter: Waiter,
    deadline: float,
    extra: Mapping[str, str] | None,
    request_token_params: Mapping[str, str] | None,
    announce: Say | None,
) -> RequestToken:
    try:
        token = await client.fetch_request_token(callback, timeout=_left(deadline), params=request_token_params)
    except BaseException as exc:
        waiter.fail_start(exc)
        raise
    url = authorize_url(client.provider, token.oauth_token, extra)
    waiter.expect(token.oauth_token, url)
    if announce is not None:
        announce(url)
    return token


async def _wait(
    fetch: asyncio.Task[RequestToken], waiter: Waiter, deadline: float, timeout: float, waiting_for: str
) -> Verified | Denied:
    """The first valid callback, or the request-token failure, or LoginTimeout at the deadline."""
    pending: set[asyncio.Future[object]] = {fetch, waiter.result}  # type: ignore[arg-type]
    while not waiter.result.done():
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        done, _ = await asyncio.wait(pending, timeout=remaining, return_when=asyncio.FIRST_COMPLETED)
        if fetch in done:
            fetch.result()  # raises the request-token failure
            pending.discard(fetch)
    if not fetch.done():
        # Nobody could have come back: the provider never gave us a request token to send them with.
        raise ProviderError(f"the provider did not answer the request-token call within {timeout:g} s")
    if not waiter.result.done():
        started = waiter.authorize_url
        url = started.result() if started.done() and started.exception() is None else None
        raise LoginTimeout(
            f"timed out after {timeout:g} s waiting for {waiting_for}" + (f"; the login URL was {url}" if url else "")
        )
    return waiter.result.result()


# --- the manual flow ------------------------------------------------------------------------------------------


class Flow:
    """The seed's manual 3-legged flow, with python-twitter-v2's vocabulary.

    ``url = await flow.get_authorize_url()``, let the user open it, then
    ``tokens = await flow.generate_access_token(response=redirect_url)``: the
    URL the browser landed on, or just the verifier / PIN.
    """

    def __init__(
        self,
        consumer_key: str,
        consumer_secret: str,
        *,
        provider: Provider | str = "twitter",
        callback_uri: str = "https://localhost/",
        authorize_params: Mapping[str, str] | None = None,
        signature_method: str | None = None,
        rsa_key_file: str | None = None,
    ) -> None:
        self.provider = resolve_provider(provider)
        self.consumer = resolve_consumer(
            consumer_key,
            consumer_secret,
            signature_method=signature_method or self.provider.signature_method,
            rsa_key_file=rsa_key_file,
        )
        self.callback_uri = callback_uri
        self.authorize_params = dict(authorize_params or {})
        self.request_token: RequestToken | None = None
        self.auth_user_id: str | None = None
        self.screen_name: str | None = None

    async def get_authorize_url(self) -> str:
        """Fetch a request token and return the provider's authorize URL for it."""
        async with new_session() as session:
            client = ProviderClient(session, self.provider, self.consumer)
            self.request_token = await client.fetch_request_token(self.callback_uri)
        return authorize_url(self.provider, self.request_token.oauth_token, self.authorize_params)

    async def generate_access_token(self, response: str) -> dict[str, str]:
        """Exchange the redirect URL (or bare verifier) for the access token.

        Returns ``oauth_token``, ``oauth_token_secret``, ``user_id`` and ``screen_name``.
        """
        if self.request_token is None:
            raise UsageError("call get_authorize_url() first: there is no request token to exchange")
        params = parse_pasted(response)
        if "oauth_token" in params or "denied" in params:
            match = match_callback(params, self.request_token.oauth_token)
            if isinstance(match, Denied):
                raise AuthorizationDenied("login denied: access was refused on the provider's page")
            if isinstance(match, Rejected):
                raise UsageError(f"that URL does not complete this login: {match.reason}")
            verifier = match.verifier
        elif params.get("oauth_verifier"):
            verifier = params["oauth_verifier"]
        else:
            raise UsageError("no oauth_verifier in the response: paste the whole URL the browser landed on")
        async with new_session() as session:
            client = ProviderClient(session, self.provider, self.consumer)
            fields = await client.fetch_access_token(self.request_token, verifier)
        tokens = {
            "oauth_token": fields["oauth_token"],
            "oauth_token_secret": fields["oauth_token_secret"],
            "user_id": fields.get("user_id") or user_id_from_token(fields["oauth_token"]) or "",
            "screen_name": fields.get("screen_name", ""),
        }
        self.auth_user_id = tokens["user_id"] or None
        self.screen_name = tokens["screen_name"] or None
        self.request_token = None  # a request token is good for one exchange
        return tokens

    def credentials(self, tokens: Mapping[str, str], *, profile: str = "default") -> Credentials:
        """The :class:`Credentials` for tokens from :meth:`generate_access_token`, ready to ``save``."""
        return build_credentials(validate_profile_name(profile), self.provider, self.consumer, tokens)


class SyncFlow:
    """:class:`Flow` for a REPL or a script without an event loop: the same methods, blocking."""

    def __init__(self, consumer_key: str, consumer_secret: str, **kwargs: Any) -> None:
        self._flow = Flow(consumer_key, consumer_secret, **kwargs)

    @property
    def auth_user_id(self) -> str | None:
        return self._flow.auth_user_id

    def get_authorize_url(self) -> str:
        return asyncio.run(self._flow.get_authorize_url())

    def generate_access_token(self, response: str) -> dict[str, str]:
        return asyncio.run(self._flow.generate_access_token(response))

    def credentials(self, tokens: Mapping[str, str], *, profile: str = "default") -> Credentials:
        return self._flow.credentials(tokens, profile=profile)


def _blocking(fn: Callable[P, Coroutine[Any, Any, T]]) -> Callable[P, T]:
    @functools.wraps(fn)
    def run(*args: P.args, **kwargs: P.kwargs) -> T:
        return asyncio.run(fn(*args, **kwargs))

    return run


login = _blocking(login_async)
"""The same as :func:`login_async`, for code without an event loop."""
