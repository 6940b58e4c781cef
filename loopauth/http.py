"""The one HTTP client loopauth talks to providers with: the standard library's ``http.client``, blocking.

Every call to a provider goes through :class:`Client`: the login's request-token and access-token
calls, ``header``/``request``/``verify``/``logout --revoke``, and (for OAuth 2.0) token refreshes. So
there is one behaviour for errors, timeouts and redirects:

- a failure is a :class:`ProviderError` with one line naming the host and what went wrong;
- ``timeout`` bounds the whole call, connecting and reading included, not each read: a provider
  that trickles its answer is cut off at the deadline like one that never answers;
- an answer larger than ``max_body`` (1 MiB) is refused, not buffered;
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
import socket
import threading
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from ._version import __version__
from .errors import ProviderError
from .models import _Value

if TYPE_CHECKING:
    # Imported where a request is sent (with email, about 15 ms): `loopauth header` builds a Request and sends none.
    import http.client
    import ssl

USER_AGENT = f"loopauth/{__version__}"
REQUEST_TIMEOUT = 30.0
"""The longest one call to a provider may take, unless the caller says otherwise."""
MAX_BODY = 1 << 20
"""The largest answer read from a provider: token answers are a few hundred bytes, API answers rarely more."""
_CHUNK = 65536

Trace = Callable[["Request", "Response | None", float, "str | None"], None]
"""Called after each exchange: the request, the response (None when it failed), seconds taken, the error."""


# Request and Response are written out by hand (models._Value), not with @dataclass: a due OAuth 2.0 refresh
# loads this module inside `loopauth token`, and importing dataclasses (with inspect) took ~10 of the ~50 ms
# a refresh may add to the provider's round trip (scripts/bench.py, the refresh rows).


class Request(_Value):
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
        self._init(method=method, url=url, headers={} if headers is None else headers, body=body)


class Response(_Value):
    """A provider's answer as received: the body stays bytes."""

    _fields = ("status", "reason", "version", "headers", "body")

    status: int
    reason: str
    version: str
    headers: tuple[tuple[str, str], ...]
    body: bytes

    def __init__(
        self, status: int, reason: str, version: str, headers: tuple[tuple[str, str], ...], body: bytes
    ) -> None:
        self._init(status=status, reason=reason, version=version, headers=headers, body=body)

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
        self._active: http.client.HTTPConnection | None = None
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
        conn = self._active
        if conn is not None and conn.sock is not None:
            _shutdown(conn.sock)

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
        host = parts.hostname or "?"
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ProviderError(f"cannot send a request to {request.url!r}: not an http(s) URL")
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
            self._active = conn
            try:
                if self._aborted:
                    raise ProviderError(f"the request to {host} was cancelled")
                conn.timeout = watchdog.left()
                if conn.sock is not None:
                    conn.sock.settimeout(conn.timeout)
                conn.request(request.method, target, body=request.body, headers=headers)
                raw = conn.getresponse()
                body = self._read_body(raw, host, conn, deadline)
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError) as exc:
                self._drop(key)
                if reused and attempt == 0 and not watchdog.fired:
                    continue  # the provider closed an idle kept-alive connection: one fresh try, as browsers do
                raise _failure(exc, host, timeout, watchdog.fired or self._aborted) from exc
            except ProviderError:
                self._drop(key)
                raise
            except (OSError, http.client.HTTPException, ValueError) as exc:
                self._drop(key)
                raise _failure(exc, host, timeout, watchdog.fired or self._aborted) from exc
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
        self, raw: http.client.HTTPResponse, host: str, conn: http.client.HTTPConnection, deadline: float
    ) -> bytes:
        declared = raw.getheader("Content-Length")
        if declared is not None and declared.strip().isdigit() and int(declared) > self.max_body:
            raise ProviderError(
                f"{host} sent an answer of {int(declared):,} bytes; loopauth reads at most {_mib(self)}"
            )
        chunks: list[bytes] = []
        size = 0
        while True:
            if conn.sock is not None:
                conn.sock.settimeout(max(deadline - time.monotonic(), 0.001))
            chunk = raw.read1(_CHUNK)
            if not chunk:
                # Done with it: a kept-alive connection takes the next request only once the answer is closed.
                raw.close()
                return b"".join(chunks)
            size += len(chunk)
            if size > self.max_body:
                raise ProviderError(f"{host} sent an answer larger than {_mib(self)}; loopauth reads no more")
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
        self._timer = threading.Timer(max(deadline - time.monotonic(), 0.0), self._fire)
        self._timer.daemon = True
        self._timer.start()

    def left(self) -> float:
        return max(self.deadline - time.monotonic(), 0.001)

    def _fire(self) -> None:
        self.fired = True
        if self.conn.sock is not None:
            _shutdown(self.conn.sock)

    def cancel(self) -> None:
        self._timer.cancel()


def _shutdown(sock: socket.socket) -> None:
    # shutdown, not close: it wakes a recv() blocked in another thread, and the owner still closes the socket.
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)


def _failure(exc: BaseException, host: str, timeout: float, cut_off: bool) -> ProviderError:
    """One line for a call that got no usable answer."""
    import http.client
    import ssl

    if cut_off or isinstance(exc, TimeoutError):
        return ProviderError(f"{host} did not answer within {timeout:.0f} s")
    if isinstance(exc, socket.gaierror):
        return ProviderError(f"cannot reach {host}: name lookup failed ({exc.strerror or exc})")
    if isinstance(exc, ssl.SSLCertVerificationError):
        return ProviderError(f"cannot reach {host}: its TLS certificate is not trusted ({exc.verify_message})")
    if isinstance(exc, ssl.SSLError):
        return ProviderError(f"cannot reach {host}: TLS failed ({exc.reason or exc})")
    if isinstance(exc, http.client.RemoteDisconnected):
        return ProviderError(f"{host} closed the connection without answering")
    if isinstance(exc, ConnectionRefusedError | ConnectionResetError | BrokenPipeError) or (
        isinstance(exc, OSError) and exc.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH, errno.ECONNABORTED)
    ):
        assert isinstance(exc, OSError)
        return ProviderError(f"cannot reach {host}: {os.strerror(exc.errno or 0).lower()}")
    if isinstance(exc, http.client.HTTPException):
        return ProviderError(f"{host} sent an answer that is not valid HTTP ({exc.__class__.__name__})")
    return ProviderError(f"request to {host} failed: {exc.__class__.__name__}: {exc}")
