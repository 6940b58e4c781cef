"""The OAuth 1.0a client side of RFC 5849 as pure functions: no I/O, no event loop.

Signing is delegated to ``oauthlib.oauth1.Client``; everything else here is
parsing and deciding: what a token response means, what a callback means,
which URL the user must visit.
"""

from __future__ import annotations

import hmac
import html
import json
import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from ipaddress import ip_address
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from .errors import ProviderError, UsageError
from .models import SIGNATURE_METHODS, Provider

FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"


class _DropSigningDetails(logging.Filter):
    """oauthlib's client logs the signed parameters (token, verifier) and the signature at DEBUG.
    Whatever the application's logging level, those records never leave."""

    PREFIXES = ("Collected params", "Normalized params", "Normalized URI", "Signing:", "Signature:")

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(self.PREFIXES)


_SIGNING_LOGGER = logging.getLogger("oauthlib.oauth1.rfc5849")
_SIGNING_LOGGER.addFilter(_DropSigningDetails())

Params = Sequence[tuple[str, str]]


@dataclass(frozen=True)
class SignedRequest:
    """What to send: the URL (with any query), the headers and the encoded body."""

    method: str
    url: str
    headers: dict[str, str]
    body: str | None


def sign(
    method: str,
    url: str,
    *,
    consumer_key: str,
    consumer_secret: str,
    token: str | None = None,
    token_secret: str | None = None,
    callback: str | None = None,
    verifier: str | None = None,
    form: Params | None = None,
    signature_method: str = "HMAC-SHA1",
    rsa_key: str | None = None,
    nonce: str | None = None,
    timestamp: str | None = None,
) -> SignedRequest:
    """Sign one request with an ``Authorization: OAuth`` header (RFC 5849 §3.5.1).

    ``form`` parameters go in an ``application/x-www-form-urlencoded`` body and
    take part in the signature (§3.4.1.3.1); query parameters in ``url`` do too.
    ``nonce`` and ``timestamp`` are for golden tests only.
    """
    from oauthlib.oauth1 import Client

    method = method.upper()
    if signature_method not in SIGNATURE_METHODS:
        raise UsageError(f"unknown signature method {signature_method!r} (choose from {', '.join(SIGNATURE_METHODS)})")
    if signature_method == "PLAINTEXT" and not _is_secure_or_loopback(url):
        # §3.4.4: PLAINTEXT sends the secrets as they are; only TLS may carry them.
        raise UsageError("PLAINTEXT signatures need https (plain http is allowed only to loopback)")
    if signature_method == "RSA-SHA1" and not rsa_key:
        raise UsageError("RSA-SHA1 needs a private key (--rsa-key FILE)")
    client = Client(
        consumer_key,
        client_secret=consumer_secret,
        resource_owner_key=token,
        resource_owner_secret=token_secret,
        callback_uri=callback,
        verifier=verifier,
        signature_method=signature_method,
        rsa_key=rsa_key,
        nonce=nonce,
        timestamp=timestamp,
    )
    headers: dict[str, str] = {}
    body: str | None = None
    if form:
        if method in ("GET", "HEAD"):
            raise UsageError(f"{method} requests cannot carry form parameters; put them in the URL's query")
        headers["Content-Type"] = FORM_CONTENT_TYPE
        body = form_encode(form)
    try:
        signed_url, signed_headers, signed_body = client.sign(url, http_method=method, body=body, headers=headers)
    except ImportError as exc:
        raise UsageError(
            "RSA-SHA1 signing needs the 'cryptography' and 'PyJWT' packages: pip install 'loopauth[rsa]'"
        ) from exc
    except ValueError as exc:
        raise UsageError(f"cannot sign this request: {exc}") from exc
    if method in ("POST", "PUT", "PATCH") and signed_body is None:
        # Some providers insist on a Content-Type even for an empty form body.
        signed_headers["Content-Type"] = FORM_CONTENT_TYPE
        signed_body = ""
    return SignedRequest(method, str(signed_url), dict(signed_headers), signed_body)


def form_encode(params: Params) -> str:
    """``application/x-www-form-urlencoded`` with RFC 3986 percent-encoding (spaces as %20, as §3.6 does)."""
    return "&".join(f"{quote(k, safe='~')}={quote(v, safe='~')}" for k, v in params)


def _is_secure_or_loopback(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme == "https" or (parts.scheme == "http" and is_loopback_host(parts.hostname or ""))


def is_loopback_host(host: str) -> bool:
    """True for ``localhost`` and literal loopback addresses (127.0.0.0/8, ::1)."""
    host = host.strip("[]")
    if host.lower() == "localhost":
        return True
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return False


def check_endpoint(url: str, what: str) -> str:
    """Reject endpoints a login must never talk to: non-http(s), or plain http off loopback."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"{what} must be an http(s) URL, got {url!r}")
    if parts.scheme == "http" and not is_loopback_host(parts.hostname):
        raise UsageError(f"{what} must use https (plain http is allowed only to loopback, for testing): {url}")
    return url


def authorize_url(provider: Provider, request_token: str, extra: Mapping[str, str] | None = None) -> str:
    """The provider page the user must visit (RFC 5849 §2.2), with any extra parameters."""
    parts = urlsplit(provider.authorize_url)
    query = [*parse_qsl(parts.query, keep_blank_values=True)]
    params = {**provider.authorize_params, **(extra or {})}
    query += [(k, v) for k, v in params.items() if k != "oauth_token"]
    query.append(("oauth_token", request_token))
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), ""))


# --- token responses ------------------------------------------------------------------------------------------


def parse_token_response(
    status: int,
    content_type: str,
    text: str,
    *,
    step: str,
    require_callback_confirmed: bool = False,
) -> dict[str, str]:
    """Parse a request-token or access-token response (RFC 5849 §2.1, §2.3).

    Raises :class:`ProviderError` carrying the status and the provider's own
    message for anything that is not a 2xx form-encoded body with
    ``oauth_token`` and ``oauth_token_secret``.
    """
    if not 200 <= status < 300:
        raise ProviderError(
            f"{step} failed: provider answered {status}: {provider_message(content_type, text)}",
            status=status,
            body=text,
        )
    try:
        fields = dict(parse_qsl(text.strip(), keep_blank_values=True, strict_parsing=True))
    except ValueError:
        fields = {}
    if not fields.get("oauth_token") or not fields.get("oauth_token_secret"):
        raise ProviderError(
            f"{step} failed: provider answered {status} without oauth_token and oauth_token_secret: "
            f"{provider_message(content_type, text)}",
            status=status,
            body=text,
        )
    if require_callback_confirmed and fields.get("oauth_callback_confirmed", "").lower() != "true":
        # RFC 5849 §2.1: MUST be present and "true". Without it the provider speaks OAuth 1.0,
        # whose callbacks are open to session fixation; refuse rather than downgrade.
        raise ProviderError(
            f"{step} failed: the provider did not confirm the callback (oauth_callback_confirmed is "
            f"{fields.get('oauth_callback_confirmed', 'missing')!r}); refusing an OAuth 1.0 downgrade",
            status=status,
            body=text,
        )
    return fields


_TAG = re.compile(r"<[^>]+>")
_SPACE = re.compile(r"\s+")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
MAX_MESSAGE = 200


def provider_message(content_type: str, text: str) -> str:
    """The provider's own words from an error body, as one short printable line.

    Understands Twitter's JSON (``{"errors":[{"code":32,"message":...}]}``),
    ``{"error": ...}`` objects, form-encoded ``oauth_problem``, XML and HTML.
    """
    text = text.strip()
    message = ""
    if text.startswith(("{", "[")):
        message = _json_message(text)
    if not message and "oauth_problem=" in text and "<" not in text:
        fields = dict(parse_qsl(text, keep_blank_values=True))
        message = " ".join(f"{k}={v}" for k, v in fields.items() if k.startswith("oauth_problem"))
    if not message and "<" in text:
        title = re.search(r"<(?:title|h1|error|message)[^>]*>(.*?)</", text, re.IGNORECASE | re.DOTALL)
        message = html.unescape(_TAG.sub(" ", title.group(1) if title else text))
    if not message:
        message = text or "(empty body)"
    return _one_line(message)


def _json_message(text: str) -> str:
    try:
        data: Any = json.loads(text)
    except ValueError:
        return ""
    if isinstance(data, dict):
        errors = data.get("errors")
        if isinstance(errors, list) and errors:
            parts = []
            for err in errors:
                if isinstance(err, dict):
                    msg = str(err.get("message", "")).strip()
                    parts.append(f"{msg} (code {err['code']})" if "code" in err else msg)
            return "; ".join(p for p in parts if p)
        for key in ("error_description", "message", "error", "detail", "title"):
            if isinstance(data.get(key), str | int):
                return str(data[key])
    return ""


def _one_line(message: str) -> str:
    message = _SPACE.sub(" ", _CONTROL.sub(" ", message)).strip()
    if len(message) > MAX_MESSAGE:
        message = message[: MAX_MESSAGE - 1] + "…"
    return message


def twitter_error_codes(text: str) -> set[int]:
    """The numeric codes of a Twitter-shaped JSON error body."""
    try:
        data: Any = json.loads(text)
    except ValueError:
        return set()
    errors = data.get("errors") if isinstance(data, dict) else None
    if not isinstance(errors, list):
        return set()
    return {e["code"] for e in errors if isinstance(e, dict) and isinstance(e.get("code"), int)}


def hint_for(error: ProviderError, *, callback: str | None) -> str:
    """A next step for a provider error, or ``""``: which callback to register, clock skew..."""
    codes = twitter_error_codes(error.body)
    if 415 in codes or "callback url not approved" in error.body.lower():
        return f"register this exact callback URL in the app's settings: {callback}" if callback else ""
    if 135 in codes:
        return "this machine's clock is off; sync it (timestamp out of bounds)"
    if error.status == 401 or 32 in codes:
        return "check the consumer key and secret, and that this machine's clock is right"
    return ""


# --- callbacks ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Verified:
    """The provider sent the user back with a verifier for our request token."""

    verifier: str


@dataclass(frozen=True)
class Denied:
    """The user refused (Twitter's ``denied=<our token>``)."""


@dataclass(frozen=True)
class Rejected:
    """Not a callback for this login; the wait goes on."""

    reason: str


CallbackMatch = Verified | Denied | Rejected


def match_callback(params: Mapping[str, str], request_token: str) -> CallbackMatch:
    """Decide what a callback's query means for the login waiting on ``request_token``.

    Only our own token counts (compared in constant time, RFC 5849 §2.2 and
    OAuth Security Advisory 2009.1); anything else is :class:`Rejected`.
    """
    denied = params.get("denied")
    if denied is not None:
        if _same(denied, request_token):
            return Denied()
        return Rejected("this denial is for another login")
    token = params.get("oauth_token")
    if token is None:
        if "oauth_problem" in params or "error" in params:
            # Some providers report a refusal with oauth_problem=user_refused and no token.
            problem = params.get("oauth_problem") or params.get("error") or ""
            if "refuse" in problem or "denied" in problem:
                return Rejected("the provider reported a refusal without naming the request token")
        return Rejected("no oauth_token in the callback")
    if not _same(token, request_token):
        return Rejected("this callback is for another login (oauth_token does not match)")
    verifier = params.get("oauth_verifier")
    if not verifier:
        return Rejected("the callback has no oauth_verifier")
    return Verified(verifier)


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode("utf-8", "surrogatepass"), b.encode("utf-8", "surrogatepass"))


def parse_pasted(text: str) -> dict[str, str]:
    """Read what a user pasted: a whole redirect URL, a query string or a bare verifier (or PIN).

    A bare value comes back as ``{"oauth_verifier": value}`` with no token.
    """
    text = text.strip().strip("'\"<>")
    if not text:
        return {}
    parts = urlsplit(text)
    if parts.scheme and parts.netloc:
        query = parts.query or parts.fragment
        return dict(parse_qsl(query, keep_blank_values=True))
    if "=" in text:
        return dict(parse_qsl(text.lstrip("?"), keep_blank_values=True))
    return {"oauth_verifier": text}


def user_id_from_token(access_token: str) -> str | None:
    """Twitter's user id is the part of the access token before the first ``-``."""
    head, sep, _ = access_token.partition("-")
    return head if sep and head.isdigit() else None


# --- where the provider sends the browser back ----------------------------------------------------------------


@dataclass(frozen=True)
class CallbackPlan:
    """The ``oauth_callback`` to send and whether a loopback server of ours can catch it.

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

    @property
    def oob(self) -> bool:
        return self.url == "oob"


def plan_callback(callback_url: str | None, *, oob: bool, host: str, port: int, path: str, tls: bool) -> CallbackPlan:
    """Decide from the user's options where the callback goes and whether we serve it (no I/O)."""
    if oob or callback_url == "oob":
        if tls:
            raise UsageError("--oob uses no callback server, so the TLS options do not apply")
        return CallbackPlan("oob", serve=False, why_not="the PIN flow has no callback")
    if callback_url is None:
        return CallbackPlan(None, serve=True, host=host, port=port, path=path)
    parts = urlsplit(callback_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UsageError(f"--callback-url must be an http(s) URL or 'oob', got {callback_url!r}")
    try:
        given_port = parts.port
    except ValueError as exc:
        raise UsageError(f"--callback-url has an invalid port: {callback_url!r}") from exc
    if parts.fragment:
        raise UsageError(f"--callback-url cannot have a #fragment (browsers never send it): {callback_url!r}")
    https = parts.scheme == "https"
    if tls and not https:
        raise UsageError("the TLS options serve https, but --callback-url is http; make it https://")
    if not is_loopback_host(parts.hostname):
        return CallbackPlan(callback_url, serve=False, why_not=f"{parts.hostname} is not this machine")
    if https and not tls:
        return CallbackPlan(
            callback_url,
            serve=False,
            why_not="it is https and no certificate was given: see --tls-cert/--tls-key or --tls-self-signed",
        )
    bind_port = given_port if given_port is not None else (443 if https else 80)
    return CallbackPlan(
        # Sent exactly as written (providers match it byte for byte), unless port 0 must first become a real port.
        callback_url if bind_port != 0 else None,
        serve=True,
        host=parts.hostname,
        port=bind_port,
        path=parts.path or "/",
        query=parts.query,
    )
