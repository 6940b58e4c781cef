"""Where the provider sends the browser back, and whether a loopback server of ours catches it.

Pure, but for the start page's random path, drawn when a plan is made.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from ..errors import UsageError
from ..urls import host_literal, is_loopback_host

_PATH = re.compile(r"/[A-Za-z0-9._~!$&'()*+,;=:@/-]*")


@dataclass(frozen=True)
class CallbackPlan:
    """The callback to send and whether a loopback server of ours can catch it.

    ``url`` is None when it is only known once the server is bound (port 0). When
    ``serve`` is False, ``why_not`` says why nothing here listens (for the user).
    """

    url: str | None
    serve: bool
    host: str = "127.0.0.1"
    port: int = 0
    path: str = "/callback"
    query: str = ""
    why_not: str = ""
    tls: bool = False
    start_token: str = field(default_factory=lambda: secrets.token_urlsafe(16), compare=False, repr=False)
    """The start page's path: 128 random bits, so only who was given the start URL (the browser, the terminal)
    can fetch it and read the ``state`` or request token in its redirect; "/" is never it."""

    @property
    def oob(self) -> bool:
        return self.url == "oob"

    @property
    def start_path(self) -> str:
        """The local start page's path, one of its own (served once: see the callback server)."""
        return f"/{self.start_token}"

    def origin(self, port: int) -> str:
        return f"{'https' if self.tls else 'http'}://{host_literal(self.host)}:{port}"

    def callback_for(self, port: int) -> str:
        """The callback URL once the server listens on ``port``: as the user wrote it, or built from the plan."""
        if self.url is not None:
            return self.url
        return self.origin(port) + self.path + (f"?{self.query}" if self.query else "")

    def start_url(self, port: int) -> str:
        return self.origin(port) + self.start_path


def check_host_and_path(host: str, path: str) -> None:
    """UsageError unless ``host`` is loopback and ``path`` is a callback path the server can match."""
    if not is_loopback_host(host):
        # Never a socket on the network: only this machine may deliver the verifier (RFC 8252 §8.3).
        raise UsageError(
            "{arg} must be a loopback address (127.0.0.1, ::1 or localhost), got " + repr(host), argument="host"
        )
    # Plain path characters only (RFC 3986 pchar without %-escapes): the router matches the decoded
    # path, so an escaped one would never match and the login would wait for nothing.
    if not _PATH.fullmatch(path):
        raise UsageError(
            "the callback path must start with '/' and use only letters, digits and -._~!$&'()*+,;=:@/ "
            f"(no query, no %-escapes): {path!r}"
        )


def plan_callback(callback_url: str | None, *, oob: bool, host: str, port: int, path: str, tls: bool) -> CallbackPlan:
    """Decide from the options where the callback goes and whether we serve it (no I/O)."""
    if oob or callback_url == "oob":
        if tls:
            raise UsageError("the PIN flow (oob) uses no callback server, so TLS does not apply")
        return CallbackPlan("oob", serve=False, why_not="the PIN flow has no callback")
    if callback_url is None:
        check_host_and_path(host, path)
        return CallbackPlan(None, serve=True, host=host, port=port, path=path, tls=tls)
    parts = urlsplit(callback_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError("{arg} must be an http(s) URL or 'oob', got " + repr(callback_url), argument="callback_url")
    try:
        given_port = parts.port
    except ValueError:
        raise UsageError("{arg} has an invalid port: " + repr(callback_url), argument="callback_url") from None
    if parts.fragment:
        raise UsageError(
            "{arg} cannot have a #fragment (browsers never send it): " + repr(callback_url), argument="callback_url"
        )
    https = parts.scheme == "https"
    if tls and not https:
        raise UsageError("TLS serves https, but {arg} is http; make it https://", argument="callback_url")
    if not is_loopback_host(parts.hostname):
        return CallbackPlan(callback_url, serve=False, why_not=f"{parts.hostname} is not this machine")
    if https and not tls:
        return CallbackPlan(
            callback_url,
            serve=False,
            why_not="it is https, and no certificate was given to serve it",
        )
    bind_port = given_port if given_port is not None else (443 if https else 80)
    check_host_and_path(parts.hostname, parts.path or "/")
    return CallbackPlan(
        # Sent exactly as written (providers match it byte for byte), unless port 0 must first become a real port.
        callback_url if bind_port != 0 else None,
        serve=True,
        host=parts.hostname,
        port=bind_port,
        path=parts.path or "/",
        query=parts.query,
        tls=tls,
    )
