"""The one HTTP client loopauth talks to providers with: the standard library's ``http.client``, blocking.

Every call to a provider goes through :class:`Client`: the login's request-token and access-token
calls, ``header``/``request``/``verify``/``logout --revoke``, and (for OAuth 2.0) token refreshes. So
there is one behaviour for errors, timeouts and redirects:

- a failure is a :class:`ProviderError` with one line naming the URL (port included) and what went wrong;
- ``timeout`` bounds the whole call, connecting and reading included, not each read: a provider
  that trickles its answer is cut off at the deadline like one that never answers;
- an answer larger than ``max_body`` (1 MiB) is refused, not buffered, and one cut short (fewer bytes than
  its ``Content-Length``, a chunked body without its last chunk) is an error, never a shorter answer;
- redirects are never followed (a token endpoint that redirects is misconfigured, and a signed
  request must not be replayed elsewhere);
- connections are kept alive per origin, so a login's second call skips the TCP and TLS handshakes.

Why not aiohttp's client: the login fetches its request token while aiohttp itself is still being
imported (about a fifth of a second), and ``loopauth header``/``request`` then need neither asyncio
nor aiohttp at all. The event loop runs these calls in a daemon thread (``loopauth.loopback.runner``).
"""

from __future__ import annotations

import contextlib
import errno
import os
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from ._version import __version__
from .errors import ProviderError
from .models import Value, frozen_map

if TYPE_CHECKING:
    # Imported where a request is sent (http.client with email, about 15 ms; socket and threading): `loopauth
    # header` builds a Request and sends none.
    import http.client
    import socket
    import ssl

USER_AGENT = f"loopauth/{__version__}"
REQUEST_TIMEOUT = 30.0
"""The longest one call to a provider may take, unless the caller says otherwise."""
MAX_BODY = 1 << 20
"""The largest answer read from a provider: token answers are a few hundred bytes, API answers rarely more."""
_CHUNK = 65536

Trace = Callable[["Request", "Response | None", float, "str | None"], None]
"""Called after each exchange: the request, the response (None when it failed), seconds taken, the error."""


# Request and Response are written out by hand (models.Value), not with @dataclass: a due OAuth 2.0 refresh
# loads this module inside `loopauth token`, and importing dataclasses (with inspect) took ~10 of the ~50 ms
# a refresh may add to the provider's round trip (scripts/bench.py, the refresh rows).


class Request(Value):
    """One request as it goes on the wire: the URL is sent exactly as given (see ``urls.normalize_url``)."""

    _fields = ("method", "url", "headers", "body")
    _unhashed = frozenset({"headers"})

    method: str
    url: str
    headers: Mapping[str, str]
    body: bytes | None

    def __init__(
        self, method: str, url: str, headers: Mapping[str, str] | None = None, body: bytes | None = None
    ) -> None:
        self._init(method=method, url=url, headers=frozen_map(headers), body=body)


class Response(Value):
    """A provider's answer as received: the body stays bytes."""

    _fields = ("status", "reason", "version", "headers", "body", "request")
    _hidden = frozenset({"request"})
    _unhashed = frozenset({"request"})

    status: int
    reason: str
    version: str
    headers: tuple[tuple[str, str], ...]
    body: bytes
    request: Request | None
    """What was sent to get this answer: an error quoting the answer leaves out the secrets it carried."""

    def __init__(
        self,
        status: int,
        reason: str,
        version: str,
        headers: tuple[tuple[str, str], ...],
        body: bytes,
        request: Request | None = None,
    ) -> None:
        self._init(status=status, reason=reason, version=version, headers=headers, body=body, request=request)

    def header(self, name: str) -> str | None:
        name = name.lower()
        return next((value for key, value in self.headers if key.lower() == name), None)

    @property
    def content_type(self) -> str:
        """The media type alone, lower-case (``application/json``), or ``""``."""
        return (self.header("Content-Type") or "").split(";")[0].strip().lower()

    @property
    def charset(self) -> str | None:
        for param in (self.header("Content-Type") or "").split(";")[1:]:
            key, _, value = param.partition("=")
            if key.strip().lower() == "charset":
                return value.strip().strip('"') or None
        return None

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def text(self) -> str:
        try:
            return self.body.decode(self.charset or "utf-8", errors="replace")
        except LookupError:  # a charset Python does not know: the provider's words are still mostly readable
            return self.body.decode("utf-8", errors="replace")


_tls_context: ssl.SSLContext | None = None


def _tls() -> ssl.SSLContext:
    # Built once, on the first https call: loading the system's CA certificates takes about 20 ms.
    global _tls_context
    if _tls_context is None:
        import ssl

        _tls_context = ssl.create_default_context()
    return _tls_context


class Client:
    """Blocking calls to providers over kept-alive connections; ``with Client() as client: client.send(...)``.

    One thread at a time uses a client; :meth:`abort` may be called from any other thread to make a
    call in progress fail at once (the login does that when it is interrupted).
    """

    def __init__(
        self,
        *,
        max_body: int = MAX_BODY,
        user_agent: str = USER_AGENT,
        trace: Trace | None = None,
        tls_context: ssl.SSLContext | None = None,
    ) -> None:
        self.max_body = max_body
        self.user_agent = user_agent
        self.trace = trace
        self.tls_context = tls_context
        """Whom https providers must prove themselves to (default: the system's CAs); the demo's own certificate."""
        self._connections: dict[tuple[str, str, int], http.client.HTTPConnection] = {}
        self._active: _Watchdog | None = None
        self._aborted = False

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        for conn in self._connections.values():
            conn.close()
        self._connections.clear()

    def abort(self) -> None:
        """Make the call in progress (in another thread) fail now, and every later one."""
        self._aborted = True
        active = self._active
        if active is not None:
            active.shut()

    def send(self, request: Request, *, timeout: float = REQUEST_TIMEOUT) -> Response:
        """Send ``request`` and read the whole answer, whatever its status; ProviderError if there is none."""
        started = time.monotonic()
        try:
            response = self._send(request, timeout)
        except ProviderError as exc:
            if self.trace is not None:
                self.trace(request, None, time.monotonic() - started, exc.message)
            raise
        if self.trace is not None:
            self.trace(request, response, time.monotonic() - started, None)
        return response

    def _send(self, request: Request, timeout: float) -> Response:
        import http.client

        parts = urlsplit(request.url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ProviderError(f"cannot send a request to {request.url!r}: not an http(s) URL", url=request.url)
        where = _where(parts.scheme, parts.hostname, parts.port, parts.path)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        key = (parts.scheme, parts.hostname, port)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        headers = {"User-Agent": self.user_agent, **request.headers}
        deadline = time.monotonic() + max(timeout, 0.1)
        for attempt in range(2):
            conn = self._connections.get(key)
            reused = conn is not None
            if conn is None:
                conn = self._connect(key, deadline)
            watchdog = _Watchdog(conn, deadline)
            self._active = watchdog
            sent = False
            try:
                if self._aborted:
                    raise ProviderError(f"the request to {where} was cancelled", url=where, sent=False)
                conn.timeout = watchdog.left()
                if conn.sock is None:
                    conn.connect()  # here rather than in request(): a failure now means nothing was sent
                else:
                    conn.sock.settimeout(conn.timeout)
                sent = True
                conn.request(request.method, target, body=request.body, headers=headers)
                # http.client lets go of the socket (conn.sock = None) as soon as an answer says the connection
                # closes after it (HTTP/1.0, `Connection: close`), yet still reads that answer from it: keep it
                # from here on, so the read timeout and the watchdog reach it whatever the answer says.
                sock = watchdog.hold(conn.sock)
                raw = conn.getresponse()
                body = self._read_body(raw, where, sock, deadline)
                if watchdog.fired or self._aborted:
                    # The watchdog's shutdown reads as the end of a close-delimited answer: that is no answer.
                    raise TimeoutError
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError) as exc:
                self._drop(key)
                if reused and attempt == 0 and not watchdog.fired:
                    continue  # the provider closed an idle kept-alive connection: one fresh try, as browsers do
                raise _failure(exc, where, timeout, watchdog.fired or self._aborted, sent) from exc
            except ProviderError:
                self._drop(key)
                raise
            except (OSError, http.client.HTTPException, ValueError) as exc:
                self._drop(key)
                raise _failure(exc, where, timeout, watchdog.fired or self._aborted, sent) from exc
            finally:
                watchdog.cancel()
                self._active = None
            if raw.will_close:
                self._drop(key)
            else:
                self._connections[key] = conn
            return Response(
                status=raw.status,
                reason=raw.reason or "",
                version="HTTP/1.1" if raw.version == 11 else "HTTP/1.0",
                headers=tuple(raw.getheaders()),
                body=body,
                request=request,
            )
        raise AssertionError("unreachable: the loop above returns or raises")

    def _connect(self, key: tuple[str, str, int], deadline: float) -> http.client.HTTPConnection:
        import http.client

        scheme, hostname, port = key
        left = max(deadline - time.monotonic(), 0.1)
        if scheme == "https":
            return http.client.HTTPSConnection(hostname, port, timeout=left, context=self.tls_context or _tls())
        return http.client.HTTPConnection(hostname, port, timeout=left)

    def _read_body(
        self, raw: http.client.HTTPResponse, where: str, sock: socket.socket | None, deadline: float
    ) -> bytes:
        import http.client  # loaded already by the call that got ``raw``

        declared = raw.getheader("Content-Length")
        if declared is not None and declared.strip().isdigit() and int(declared) > self.max_body:
            raise ProviderError(
                f"{where} sent an answer of {int(declared):,} bytes; loopauth reads at most {_mib(self)}", url=where
            )
        chunks: list[bytes] = []
        size = 0
        while True:
            if sock is not None:
                sock.settimeout(max(deadline - time.monotonic(), 0.001))
            chunk = raw.read1(_CHUNK)
            if not chunk:
                # http.client ends a body cut short by a close without a word (a chunked one raises IncompleteRead).
                if raw.length:
                    raise http.client.IncompleteRead(b"", raw.length)
                # Done with it: a kept-alive connection takes the next request only once the answer is closed.
                raw.close()
                return b"".join(chunks)
            size += len(chunk)
            if size > self.max_body:
                raise ProviderError(
                    f"{where} sent an answer larger than {_mib(self)}; loopauth reads no more", url=where
                )
            chunks.append(chunk)

    def _drop(self, key: tuple[str, str, int]) -> None:
        conn = self._connections.pop(key, None)
        if conn is not None:
            conn.close()


def _mib(client: Client) -> str:
    return f"{client.max_body / (1 << 20):g} MiB" if client.max_body >= 1 << 20 else f"{client.max_body:,} bytes"


class _Watchdog:
    """Ends a call at its deadline, however the provider trickles its bytes (a socket timeout is per read)."""

    def __init__(self, conn: http.client.HTTPConnection, deadline: float) -> None:
        self.conn = conn
        self.deadline = deadline
        self.fired = False
        self._sock: socket.socket | None = None
        import threading  # with the first call sent: `loopauth header` only builds a Request

        self._timer = threading.Timer(max(deadline - time.monotonic(), 0.0), self._fire)
        self._timer.daemon = True
        self._timer.start()

    def left(self) -> float:
        return max(self.deadline - time.monotonic(), 0.001)

    def hold(self, sock: socket.socket | None) -> socket.socket | None:
        """Watch ``sock`` itself from now on, even once the connection has let go of it; returns it."""
        self._sock = sock
        if self.fired and sock is not None:
            _shutdown(sock)
        return sock

    def shut(self) -> None:
        """Wake the call blocked on this connection's socket (the one held, else the connection's)."""
        sock = self._sock or self.conn.sock
        if sock is not None:
            _shutdown(sock)

    def _fire(self) -> None:
        self.fired = True
        self.shut()

    def cancel(self) -> None:
        self._timer.cancel()


def _shutdown(sock: socket.socket) -> None:
    import socket  # loaded with the connection already

    # shutdown, not close: it wakes a recv() blocked in another thread, and the owner still closes the socket.
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


def _where(scheme: str, hostname: str, port: int | None, path: str) -> str:
    """The URL a call went to, as errors name it: with its port, without userinfo, query or fragment."""
    host = f"[{hostname}]" if ":" in hostname else hostname
    return f"{scheme}://{host}{f':{port}' if port else ''}{path or '/'}"


def _failure(exc: BaseException, where: str, timeout: float, cut_off: bool, sent: bool) -> ProviderError:
    """One line for a call to ``where`` that got no usable answer (``sent``: the request may have reached it)."""
    error = _failure_line(exc, where, timeout, cut_off)
    error.sent = sent
    return error


def _failure_line(exc: BaseException, where: str, timeout: float, cut_off: bool) -> ProviderError:
    """One line for a call to ``where`` that got no usable answer."""
    import http.client
    import ssl

    if cut_off or isinstance(exc, TimeoutError):
        return ProviderError(f"{where} did not answer within {timeout:g} s", url=where)
    import socket

    if isinstance(exc, socket.gaierror):
        return ProviderError(f"cannot reach {where}: name lookup failed ({exc.strerror or exc})", url=where)
    if isinstance(exc, ssl.SSLCertVerificationError):
        return ProviderError(
            f"cannot reach {where}: its TLS certificate is not trusted ({exc.verify_message})", url=where
        )
    if isinstance(exc, ssl.SSLError):
        return ProviderError(f"cannot reach {where}: TLS failed ({exc.reason or exc})", url=where)
    if isinstance(exc, http.client.RemoteDisconnected):
        return ProviderError(f"{where} closed the connection without answering", url=where)
    if isinstance(exc, http.client.IncompleteRead):
        # curl's exit 18: what came may be any prefix of the answer, so none of it is used.
        return ProviderError(f"{where} closed the connection before the end of its answer", url=where)
    if isinstance(exc, ConnectionRefusedError | ConnectionResetError | BrokenPipeError) or (
        isinstance(exc, OSError) and exc.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH, errno.ECONNABORTED)
    ):
        assert isinstance(exc, OSError)
        return ProviderError(f"cannot reach {where}: {os.strerror(exc.errno or 0).lower()}", url=where)
    if isinstance(exc, http.client.HTTPException):
        return ProviderError(f"{where} sent an answer that is not valid HTTP ({exc.__class__.__name__})", url=where)
    return ProviderError(f"request to {where} failed: {exc.__class__.__name__}: {exc}", url=where)
