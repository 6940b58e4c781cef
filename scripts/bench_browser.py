"""A timing stand-in for the user's browser, run through ``BROWSER`` by scripts/bench.py for loopauth and for the
hand-written baseline alike, so neither side gets a different browser.

    BENCH_BROWSER_OUT=marks.json BROWSER="python -I -S scripts/bench_browser.py [--record-only|--no-detach] %s"

Like a desktop browser handed a URL, the launched process returns at once (it forks; the parent exits 0) and
the page loads in the background: ``webbrowser.open`` waits for the launcher to exit, so a launcher that
stayed until the login ended would deadlock a program that opens the browser before serving its callback.
The child then plays the user with the standard library only: GET the URL following redirects to the
authorize page, submit "approve", follow the provider's redirect to the callback. Connections are kept alive
per host:port, as a browser does. It writes ``time.monotonic()`` marks (system-wide on Linux, so comparable
with the bench's own clock) as JSON to ``$BENCH_BROWSER_OUT``:

    launched            first line of this script (the interpreter has started; the same cost for both sides)
    authorize_shown     the authorize page (status 200, with its form) has been read
    callback_sent       right before the request to the callback is written
    callback_answered   the callback's response has been read (with callback_status)
    url                 the URL this browser was given
    error               what went wrong, if anything did

``--record-only`` writes ``launched`` and ``url`` and exits (the bench plays the user itself later);
``--no-detach`` plays in the foreground. Only loopback http URLs are ever fetched.
"""

from __future__ import annotations

import time

LAUNCHED = time.monotonic()

import http.client  # noqa: E402  - the clock above must be read before any import
import json  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
from html.parser import HTMLParser  # noqa: E402
from urllib.parse import urlencode, urljoin, urlsplit  # noqa: E402

LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
MAX_REDIRECTS = 10
TIMEOUT = 30.0


class BrowserError(RuntimeError):
    pass


class _Form:
    def __init__(self, action: str, method: str) -> None:
        self.action = action
        self.method = method
        self.fields: list[tuple[str, str]] = []
        self.buttons: list[tuple[str, str]] = []


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[_Form] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {name: value or "" for name, value in attrs}
        if tag == "form":
            self.forms.append(_Form(a.get("action", ""), a.get("method", "get").lower()))
        elif self.forms and tag == "input" and a.get("type", "").lower() == "hidden":
            self.forms[-1].fields.append((a.get("name", ""), a.get("value", "")))
        elif self.forms and tag == "button" and "name" in a:
            self.forms[-1].buttons.append((a["name"], a.get("value", "")))


class Browser:
    """Just enough of a browser: keep-alive connections per origin, redirects, one form."""

    def __init__(self) -> None:
        self._conns: dict[tuple[str, int], http.client.HTTPConnection] = {}

    def close(self) -> None:
        for conn in self._conns.values():
            conn.close()
        self._conns.clear()

    def fetch(self, method: str, url: str, body: bytes | None = None) -> tuple[int, str | None, bytes]:
        """One request: (status, Location, body). A kept-alive connection the server dropped is retried once."""
        parts = urlsplit(url)
        host = parts.hostname or ""
        if parts.scheme != "http" or host not in LOOPBACK:
            raise BrowserError(f"refusing to leave loopback http: {parts.scheme}://{host}")
        port = parts.port or 80
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        headers = {"Accept": "text/html", "User-Agent": "loopauth-bench-browser"}
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        key = (host, port)
        for attempt in (1, 2):
            conn = self._conns.get(key)
            reused = conn is not None
            if conn is None:
                conn = self._conns[key] = http.client.HTTPConnection(host, port, timeout=TIMEOUT)
            try:
                conn.request(method, target, body=body, headers=headers)
                response = conn.getresponse()
                data = response.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                conn.close()
                del self._conns[key]
                if reused and attempt == 1:
                    continue
                raise
            if response.will_close:
                conn.close()
                del self._conns[key]
            return response.status, response.getheader("Location"), data
        raise AssertionError("unreachable")


def _write(path: str, marks: dict[str, object]) -> None:
    tmp = f"{path}.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(marks, f)
    os.replace(tmp, path)  # the bench polls for the file: it must never see half of it


def play(url: str, marks: dict[str, object]) -> None:
    browser = Browser()
    try:
        # GET the URL, following redirects, to the authorize page.
        for _ in range(MAX_REDIRECTS):
            status, location, data = browser.fetch("GET", url)
            if status in (301, 302, 303, 307, 308) and location:
                url = urljoin(url, location)
                continue
            break
        if status != 200:
            raise BrowserError(f"the authorize page answered {status}: {data[:200]!r}")
        parser = _FormParser()
        parser.feed(data.decode("utf-8", "replace"))
        parser.close()
        chosen = [(f, b) for f in parser.forms for b in f.buttons if b[1] == "approve" and f.method == "post"]
        if not chosen:
            raise BrowserError("no form with an approve button on the authorize page")
        marks["authorize_shown"] = time.monotonic()
        form, button = chosen[0]
        target = urljoin(url, form.action)
        status, location, data = browser.fetch("POST", target, urlencode([*form.fields, button]).encode())
        if status not in (301, 302, 303, 307, 308) or not location:
            raise BrowserError(f"approving answered {status}: {data[:200]!r}")
        callback = urljoin(target, location)
        marks["callback_sent"] = time.monotonic()
        status, _, _ = browser.fetch("GET", callback)
        marks["callback_answered"] = time.monotonic()
        marks["callback_status"] = status
    finally:
        browser.close()


def main() -> int:
    args = sys.argv[1:]
    record_only = "--record-only" in args
    detach = "--no-detach" not in args
    urls = [a for a in args if not a.startswith("--")]
    out = os.environ.get("BENCH_BROWSER_OUT")
    if len(urls) != 1 or not out:
        print("usage: BENCH_BROWSER_OUT=FILE bench_browser.py [--record-only|--no-detach] URL", file=sys.stderr)
        return 2
    marks: dict[str, object] = {"launched": LAUNCHED, "url": urls[0]}
    if record_only:
        _write(out, marks)
        return 0
    if detach and os.fork() != 0:
        os._exit(0)  # the launcher's job is done; the "page" loads in the child
    if detach:
        os.setsid()
        devnull = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(devnull, fd)  # let go of the opener's stdout/stderr, as a desktop browser does
    try:
        play(urls[0], marks)
    except Exception as exc:
        marks["error"] = f"{exc.__class__.__name__}: {exc}"
    _write(out, marks)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
