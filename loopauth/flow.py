"""The login: the only place that composes the provider client, the callback server, the browser and the store.

``login_async`` is the one-command flow; :class:`Flow` is the seed's manual
flow (``get_authorize_url`` then ``generate_access_token(response=...)``) with
python-twitter-v2's vocabulary, and :class:`SyncFlow` the same for a REPL.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import sys
import time
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ParamSpec, TypeVar
from urllib.parse import urlsplit

import aiohttp

from . import __version__
from .browser import Opener, open_in_thread
from .callback import CallbackServer, Page, Waiter, page
from .defaults import DEFAULT_CALLBACK_PATH, DEFAULT_PORT, DEFAULT_TIMEOUT  # re-exported
from .errors import AuthorizationDenied, LoginTimeout, LoopAuthError, ProviderError, UsageError
from .models import Credentials, Provider, RequestToken
from .protocol import (
    Denied,
    Rejected,
    SignedRequest,
    Verified,
    authorize_url,
    check_endpoint,
    hint_for,
    match_callback,
    parse_pasted,
    parse_token_response,
    sign,
    user_id_from_token,
)
from .providers import resolve
from .store import CredentialStore, config_dir, validate_profile_name

REQUEST_TIMEOUT = 30.0
"""The longest one call to the provider may take; never longer than what is left of ``timeout``."""
START_PAGE_GRACE = 5.0
"""After a request-token failure, how long the start page stays up for a browser that is still starting."""
USER_AGENT = f"loopauth/{__version__}"

Say = Callable[[str], None]
P = ParamSpec("P")
T = TypeVar("T")


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


@dataclass(frozen=True)
class Consumer:
    """The app's identity and how it signs."""

    key: str
    secret: str
    signature_method: str = "HMAC-SHA1"
    rsa_key: str | None = None


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
                text = await response.text(errors="replace")
                return response.status, response.content_type, text, response.headers
        except TimeoutError as exc:
            raise ProviderError(f"{host} did not answer within {timeout:.0f} s") from exc
        except aiohttp.ClientConnectorError as exc:
            reason = exc.os_error.strerror if exc.os_error and exc.os_error.strerror else str(exc.os_error or exc)
            raise ProviderError(f"cannot reach {host}: {reason}") from exc
        except aiohttp.ClientError as exc:
            raise ProviderError(f"request to {host} failed: {exc.__class__.__name__}: {exc}") from exc

    async def fetch_request_token(self, callback: str, *, timeout: float = REQUEST_TIMEOUT) -> RequestToken:
        """RFC 5849 §2.1: temporary credentials, with the callback confirmed."""
        request = self.sign("POST", self.provider.request_token_url, callback=callback)
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


def _with_hint(error: ProviderError, callback: str | None) -> ProviderError:
    hint = hint_for(error, callback=callback)
    if not hint:
        return error
    return ProviderError(f"{error.message}; {hint}", status=error.status, body=error.body)


def new_session() -> aiohttp.ClientSession:
    # One session per login: the access-token call reuses the request-token call's connection.
    return aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=4, keepalive_timeout=60))


def resolve_provider(provider: Provider | str, config: Path | None = None) -> Provider:
    resolved = provider if isinstance(provider, Provider) else resolve(provider, config)
    for what in ("request_token_url", "authorize_url", "access_token_url"):
        check_endpoint(getattr(resolved, what), what)
    return resolved


def resolve_consumer(
    consumer_key: str | None,
    consumer_secret: str | None,
    *,
    signature_method: str,
    rsa_key_file: str | None = None,
) -> Consumer:
    if not consumer_key:
        raise UsageError("no consumer key: pass --consumer-key or set LOOPAUTH_CONSUMER_KEY")
    rsa_key = None
    if signature_method == "RSA-SHA1":
        if not rsa_key_file:
            raise UsageError("RSA-SHA1 needs the consumer's private key: --rsa-key FILE (PEM)")
        try:
            rsa_key = Path(rsa_key_file).read_text(encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"cannot read RSA key {rsa_key_file}: {exc.strerror or exc}") from exc
    elif consumer_secret is None:
        raise UsageError("no consumer secret: pass --consumer-secret or set LOOPAUTH_CONSUMER_SECRET")
    return Consumer(consumer_key, consumer_secret or "", signature_method, rsa_key)


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
    signature_method: str | None = None,
    rsa_key_file: str | None = None,
    open_browser: Opener | bool = True,
    store: CredentialStore | None = None,
    say: Say = _stderr,
) -> Credentials:
    """Log in through a loopback callback and store the credentials under ``profile``.

    ``open_browser`` is True (the system browser), False (only print the URL),
    or an async callable given the URL to open (tests and the demo use it).
    Status lines (never a secret) go to ``say``, stderr by default.
    """
    if timeout <= 0:
        raise UsageError("--timeout must be a positive number of seconds")
    profile = validate_profile_name(profile)
    store = store or CredentialStore()
    resolved = resolve_provider(provider, store.root if store else config_dir())
    consumer = resolve_consumer(
        consumer_key,
        consumer_secret,
        signature_method=signature_method or resolved.signature_method,
        rsa_key_file=rsa_key_file,
    )
    if consumer.signature_method != resolved.signature_method:
        resolved = Provider(**{**resolved.__dict__, "signature_method": consumer.signature_method})
    # A config dir we cannot write must stop the login before a browser opens, not after the user consented.
    store.check_writable()
    deadline = time.monotonic() + timeout

    waiter = Waiter()
    async with CallbackServer(waiter, host=host, port=port, path=callback_path) as server, new_session() as session:
        client = ProviderClient(session, resolved, consumer)
        fetch = asyncio.create_task(_start(client, server, waiter, deadline, authorize_params, say))
        try:
            if open_browser is False:
                say(f"Open this URL in a browser to log in: {server.start_url}")
            else:
                opener = open_in_thread if open_browser is True else open_browser
                say(f"Opening {server.start_url} in your browser; it forwards to {resolved.name}'s authorize page.")
                if not await opener(server.start_url):
                    say(f"No browser could be opened. Open this URL to log in: {server.start_url}")
            match = await _wait(fetch, waiter, deadline, timeout, server.callback_url)
            if isinstance(match, Denied):
                waiter.finish(
                    page(
                        200,
                        "denied",
                        "Access denied",
                        f"You refused access to {resolved.name}.",
                        next_step="Nothing was saved. You can close this tab.",
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
            if open_browser is not False and fetch.done() and not fetch.cancelled() and fetch.exception():
                # The browser was sent to our start page before the request token failed: keep serving
                # a moment so it shows the error instead of "connection refused".
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(waiter.start_page_served.wait(), START_PAGE_GRACE)
            raise
        finally:
            fetch.cancel()
            with contextlib.suppress(BaseException):
                await fetch


def _error_page(exc: LoopAuthError) -> Page:
    if isinstance(exc, AuthorizationDenied):
        return page(200, "denied", "Access denied", str(exc), next_step="Nothing was saved. You can close this tab.")
    return page(
        502,
        "error",
        "Login failed",
        "The login could not be completed.",
        detail=str(exc),
        next_step="Return to your terminal for details.",
    )


def _left(deadline: float) -> float:
    return max(0.1, min(REQUEST_TIMEOUT, deadline - time.monotonic()))


async def _start(
    client: ProviderClient,
    server: CallbackServer,
    waiter: Waiter,
    deadline: float,
    extra: Mapping[str, str] | None,
    say: Say,
) -> RequestToken:
    try:
        token = await client.fetch_request_token(server.callback_url, timeout=_left(deadline))
    except BaseException as exc:
        waiter.fail_start(exc)
        raise
    url = authorize_url(client.provider, token.oauth_token, extra)
    waiter.expect(token.oauth_token, url)
    say(f"If the browser did not open, visit: {url}")
    return token


async def _wait(
    fetch: asyncio.Task[RequestToken], waiter: Waiter, deadline: float, timeout: float, callback: str
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
    if not waiter.result.done():
        started = waiter.authorize_url
        url = started.result() if started.done() and started.exception() is None else None
        raise LoginTimeout(
            f"timed out after {timeout:g} s waiting for the browser to come back to {callback}"
            + (f"; the login URL was {url}" if url else "")
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
