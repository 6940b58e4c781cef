"""A trace of each HTTP exchange with a provider that is safe to paste into a bug report (``-v``, like ``curl -v``).

:class:`Tracer` is a :data:`loopauth.http.Trace`: give it to ``Client(trace=...)`` or to
``loopauth.calls.request/verify/revoke(trace=...)``. For each exchange it writes the method and URL,
the request's headers and body, the status, how long it took, the response's headers and its body
cut at 2 kB. Everything secret is redacted *here*, in one place:

- ``Authorization`` is cut down to its scheme and parameter names (plus the few values that are
  never secret and help with a bug: the signature method, the version and the timestamp, whose
  skew is Twitter's error 135);
- in a query, a form body, a JSON body or a ``Location``, every value whose name says it is secret
  (``oauth_token``, ``oauth_token_secret``, ``oauth_verifier``, ``*_key``, ``access_token``, a
  ``password``…) is ``[redacted]``, whatever the ``Content-Type`` claims (Twitter sends its token
  answers as ``text/html``);
- each value redacted once is remembered and redacted wherever it shows up again, as are the
  ``secrets`` the caller names (a profile's own);
- cookies are redacted, binary bodies are summarised, and control characters are replaced.
"""

from __future__ import annotations

import base64
import json
import re
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import quote, unquote, unquote_plus, urlsplit, urlunsplit

from .http import Request, Response
from .text import clean, parse_json

REDACTED = "[redacted]"
BODY_LIMIT = 2048
"""How much of a body is shown (in characters, after redaction)."""

_SECRET_WORDS = ("token", "secret", "verifier", "password", "passwd", "signature", "credential", "cookie")
_SECRET_NAMES = frozenset({"code", "pin", "key", "oauth_nonce"})
_SHOWN_OAUTH = frozenset({"oauth_signature_method", "oauth_version", "oauth_timestamp"})
"""Authorization parameters whose values are never secret, and help to read a failure."""
_NEVER_SECRET = _SHOWN_OAUTH | {"oauth_callback_confirmed", "token_type"}
_MIN_REMEMBERED = 4
"""Shorter values are not searched for elsewhere: "1" or "abc" would redact half a page."""


def is_secret_name(name: str) -> bool:
    """Whether a parameter, field or header called ``name`` carries a secret (or a credential's public half)."""
    lower = name.lower().strip()
    if lower in _NEVER_SECRET:
        return False
    return lower in _SECRET_NAMES or lower.endswith("key") or any(word in lower for word in _SECRET_WORDS)


def stderr_writer(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


class Tracer:
    """Writes each exchange, redacted, with ``write`` (stderr by default); see the module docstring."""

    def __init__(self, write: Callable[[str], None] = stderr_writer, *, secrets: Iterable[str | None] = ()) -> None:
        self.write = write
        self._known: set[str] = set()
        for value in secrets:
            self._remember(value)

    def __call__(self, request: Request, response: Response | None, seconds: float, error: str | None) -> None:
        lines = self.request_lines(request)
        took = f"in {seconds * 1000:.0f} ms"
        if response is None:
            lines.append(f"< no answer {took}: {self._scrub(clean(error or 'failed'))}")
        else:
            lines += self.response_lines(response, took)
        self.write("\n".join(lines))

    # -- the two halves ------------------------------------------------------------------------------------------

    def request_lines(self, request: Request) -> list[str]:
        """The request as sent: method, URL, headers, body."""
        lines = [f"> {request.method} {self._url(request.url)}"]
        lines += [f"> {name}: {self._header(name, value)}" for name, value in request.headers.items()]
        if request.body:
            content_type = _header_value(request.headers.items(), "Content-Type")
            lines += [f"> {line}" for line in self._body(request.body, content_type)]
        return lines

    def response_lines(self, response: Response, took: str) -> list[str]:
        lines = [f"< {response.version} {response.status} {clean(response.reason)} {took}".replace("  ", " ")]
        lines += [f"< {name}: {self._header(name, value)}" for name, value in response.headers]
        body = self._body(response.body, response.header("Content-Type") or "")
        return lines + [f"< {line}" for line in body]

    # -- redaction -----------------------------------------------------------------------------------------------

    def _remember(self, value: object) -> None:
        if isinstance(value, str) and len(value) >= _MIN_REMEMBERED:
            self._known.add(value)

    def _redact_pairs(self, text: str) -> str:
        """``a=1&oauth_token=x`` (a query or a form) with the secret values redacted, the rest as written."""
        segments = []
        for segment in text.split("&"):
            raw_name, sep, raw_value = segment.partition("=")
            if sep and is_secret_name(unquote_plus(raw_name)):
                self._remember(raw_value)
                self._remember(unquote_plus(raw_value))
                segment = f"{raw_name}={REDACTED}"
            segments.append(segment)
        return "&".join(segments)

    def _scrub(self, text: str) -> str:
        """``text`` with every known secret value replaced, longest first (one may contain another)."""
        for value in sorted(self._known, key=len, reverse=True):
            for form in {value, quote(value, safe=""), quote(value, safe="~")}:
                text = text.replace(form, REDACTED)
        return text

    def _header(self, name: str, value: str) -> str:
        lower = name.lower()
        if lower in ("authorization", "proxy-authorization"):
            return self._authorization(value)
        if lower == "location":
            return self._scrub(self._url(value))
        if is_secret_name(lower.replace("-", "_")):
            self._remember(value)
            return REDACTED
        return self._scrub(clean(value))

    def _authorization(self, value: str) -> str:
        scheme, _, rest = value.strip().partition(" ")
        params = re.findall(r'([A-Za-z0-9_.~-]+)="([^"]*)"', rest)
        if not params:
            self._remember(rest)
            if scheme.lower() == "basic":
                self._remember_basic(rest)
            return f"{clean(scheme)} {REDACTED}"
        shown = []
        for name, raw in params:
            if name in _SHOWN_OAUTH:
                shown.append(f"{name}={clean(raw)}")
            else:
                self._remember(raw)
                # As the provider reads it; a PLAINTEXT signature is the two secrets themselves, "cs&ts".
                self._remember(unquote(raw))
                for part in unquote(raw).split("&"):
                    self._remember(unquote(part))
                shown.append(name)
        return f"{clean(scheme)} " + ", ".join(shown)

    def _remember_basic(self, credentials: str) -> None:
        """HTTP Basic's id and secret (each form-encoded, RFC 6749 §2.3.1) as a provider may echo them."""
        try:
            pair = base64.b64decode(credentials, validate=True).decode("utf-8")
        except ValueError:
            return
        _, _, secret = pair.partition(":")
        self._remember(secret)
        self._remember(unquote_plus(secret))

    def _url(self, url: str) -> str:
        parts = urlsplit(url)
        query = self._redact_pairs(parts.query)
        return self._scrub(clean(urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))))

    def _body(self, body: bytes, content_type: str) -> list[str]:
        media = content_type.split(";")[0].strip().lower()
        size = f"{len(body):,} byte{'s' if len(body) != 1 else ''}"
        if not body:
            return ["(empty body)"]
        if media.startswith("multipart/"):
            return [f"({size} of {media}, not shown)"]
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            return [f"({size} of {media or 'binary data'}, not shown)"]
        shown = self._scrub(self._structured(text))
        cut = len(shown) > BODY_LIMIT
        if cut:
            shown = shown[:BODY_LIMIT]
        lines = [clean(line) for line in shown.splitlines() or [""]]
        if cut:
            lines.append(f"(cut at {BODY_LIMIT:,} characters; {size} in all)")
        return lines

    def _structured(self, text: str) -> str:
        """A JSON or form body with its secret values redacted; any other text as it is (then scrubbed)."""
        stripped = text.strip()
        if stripped.startswith(("{", "[")):
            try:
                data: Any = parse_json(stripped)
            except ValueError:
                pass
            else:
                return json.dumps(self._json(data), ensure_ascii=False)
        if _FORM.fullmatch(stripped):
            return self._redact_pairs(stripped)
        return text

    def _json(self, data: Any, name: str = "") -> Any:
        if isinstance(data, Mapping):
            return {k: self._json(v, str(k)) for k, v in data.items()}
        if isinstance(data, list):
            return [self._json(v, name) for v in data]
        if isinstance(data, str) and name and is_secret_name(name):
            # Strings only: Twitter's error "code": 32 is a number worth seeing; OAuth 2.0's "code" is a string.
            self._remember(data)
            return REDACTED
        return data


_FORM = re.compile(r"[^\s=&]+=[^\s&]*(?:&[^\s=&]+=[^\s&]*)*")
"""A body that reads as ``name=value&…`` whatever its Content-Type says."""


def _header_value(headers: Iterable[tuple[str, str]], name: str) -> str:
    return next((v for k, v in headers if k.lower() == name.lower()), "")


def echo_free(response: Response) -> str:
    """``response``'s text without the secret values its request carried (refresh token, client secret, code,
    verifiers, token secret): a provider that echoes the request in its error shows ``[redacted]`` instead."""
    text = response.text()
    return text if response.request is None else without_sent(response.request, text)


def without_sent(request: Request, text: str) -> str:
    """``text`` (a provider's answer) with each secret value ``request`` carried replaced by ``[redacted]``: the
    values this module redacts from the request in a trace, wherever the answer repeats them."""
    tracer = Tracer(lambda _: None)
    tracer.request_lines(request)
    return tracer._scrub(text)


def trace_lines(request: Request, *, secrets: Sequence[str | None] = ()) -> list[str]:
    """What ``-v`` shows of a request that is only signed, not sent (``loopauth header -v``)."""
    return Tracer(lambda _: None, secrets=secrets).request_lines(request)
