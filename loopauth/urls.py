"""URL helpers every part shares: loopback checks, endpoint rules, query building, encoding. Pure, stdlib only."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from ipaddress import ip_address
from urllib.parse import quote, urlencode, urlsplit, urlunsplit

from .errors import UsageError

FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"


def form_encode(params: Sequence[tuple[str, str]]) -> str:
    """``application/x-www-form-urlencoded`` with RFC 3986 percent-encoding (spaces as %20, as RFC 5849 §3.6 does,
    which OAuth 2.0 providers read as well)."""
    return "&".join(f"{quote(k, safe='~')}={quote(v, safe='~')}" for k, v in params)


def is_loopback_host(host: str) -> bool:
    """True for ``localhost`` and literal loopback addresses (127.0.0.0/8, ::1)."""
    host = host.strip("[]")
    if host.lower() == "localhost":
        return True
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return False


def host_literal(host: str) -> str:
    """``host`` as it appears in a URL's authority (IPv6 in brackets)."""
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def is_secure_or_loopback(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme == "https" or (parts.scheme == "http" and is_loopback_host(parts.hostname or ""))


def check_endpoint(url: str, what: str) -> str:
    """Reject endpoints a login must never talk to: non-http(s), or plain http off loopback."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"{what} must be an http(s) URL, got {url!r}")
    if parts.scheme == "http" and not is_loopback_host(parts.hostname):
        raise UsageError(f"{what} must use https (plain http is allowed only to loopback, for testing): {url}")
    return url


def refuse_plain_http(url: str, what: str) -> None:
    """UsageError when ``what`` (a profile's credentials) would go to ``url`` over plain http off loopback.

    Anyone on the path would read a bearer token, or change what an OAuth 1.0a signature leaves unsigned (a
    JSON body, a file) and read the answer. Loopback stays open for tests, as for a login's endpoints.
    """
    parts = urlsplit(url)
    if parts.scheme.lower() == "http" and not is_loopback_host(parts.hostname or ""):
        raise UsageError(
            f"refusing to send {what} over plain http to {parts.hostname}: use https "
            "(plain http is allowed only to loopback, for testing)"
        )


def with_query(url: str, params: Mapping[str, str] | None) -> str:
    """``url`` with ``params`` appended to its query, its own query kept exactly as written."""
    if not params:
        return url
    parts = urlsplit(url)
    extra = urlencode(list(params.items()), quote_via=quote)
    query = f"{parts.query}&{extra}" if parts.query else extra
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


# What may stay as it is in a path or a query (RFC 3986 unreserved, sub-delims, ':', '@', '/', '?', and '%'
# when it starts a valid escape); everything else is percent-encoded as UTF-8.
_PATH_SAFE = "/:@!$&'()*+,;=-._~"
_QUERY_SAFE = _PATH_SAFE + "?"
_LONE_PERCENT = re.compile(r"%(?![0-9A-Fa-f]{2})")


def _encode(part: str, safe: str) -> str:
    return quote(_LONE_PERCENT.sub("%25", part), safe=safe + "%")


def normalize_url(url: str) -> str:
    """``url`` exactly as it will go on the wire, so a signature covers the bytes sent.

    Non-ASCII and other unsafe characters are percent-encoded here, once (an existing escape stays as it
    is); a space in the query becomes ``+``, which servers and oauthlib read back as a space. The host is
    IDNA-encoded. Raises UsageError for anything but an absolute http(s) URL.
    """
    parts = urlsplit(url.strip())
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise UsageError(f"the URL must be http(s)://host/…, got {url!r}")
    try:
        port = parts.port
    except ValueError as exc:
        raise UsageError(f"invalid URL {url!r}: {exc}") from None
    try:
        host = parts.hostname.encode("idna").decode("ascii")
    except UnicodeError:
        raise UsageError(f"invalid host name in URL {url!r}") from None
    netloc = host_literal(host) + (f":{port}" if port is not None else "")
    if parts.username is not None:
        raise UsageError(f"the URL must not carry a user name or password: {url!r}")
    path = _encode(parts.path or "/", _PATH_SAFE)
    query = _encode(parts.query.replace(" ", "+"), _QUERY_SAFE)
    return urlunsplit((parts.scheme.lower(), netloc, path, query, ""))


def where(url: str) -> str:
    """Scheme, host and path of a URL: enough to say which call failed, without a query that may hold values."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"
