"""OAuth 1.0a request signing (RFC 5849 §3), delegated to ``oauthlib.oauth1.Client``. Pure: no I/O.

oauthlib is imported on the first signature, never at import time, so the login can check its
arguments and open the browser before paying for it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from ..errors import UsageError
from ..http import Request
from ..models import SIGNATURE_METHODS
from ..urls import is_secure_or_loopback

FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
RSA_EXTRA = "RSA-SHA1 signing needs the 'cryptography' and 'PyJWT' packages: pip install 'loopauth[rsa]'"


class _DropSigningDetails(logging.Filter):
    """oauthlib's client logs the signed parameters (token, verifier) and the signature at DEBUG.
    Whatever the application's logging level, those records never leave."""

    PREFIXES = ("Collected params", "Normalized params", "Normalized URI", "Signing:", "Signature:")

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(self.PREFIXES)


logging.getLogger("oauthlib.oauth1.rfc5849").addFilter(_DropSigningDetails())

Params = Sequence[tuple[str, str]]


@dataclass(frozen=True)
class Consumer:
    """The app's identity and how it signs: key, secret, signature method and, for RSA-SHA1, the key."""

    key: str
    secret: str
    signature_method: str = "HMAC-SHA1"
    rsa_key: str | None = None
    rsa_key_file: str | None = None
    """The absolute path the key was read from: stored with the profile, so later calls can sign."""


def consumer_for(
    key: str | None, secret: str | None, *, signature_method: str, rsa_key_file: str | None = None
) -> Consumer:
    """Check and assemble a consumer; UsageError for a missing key or secret, or an unusable RSA key."""
    if not key:
        raise UsageError("no consumer key: give {arg}", argument="consumer_key")
    if signature_method not in SIGNATURE_METHODS:
        raise UsageError(
            f"unknown signature method {signature_method!r} (choose from {', '.join(SIGNATURE_METHODS)})",
            argument="signature_method",
        )
    if signature_method != "RSA-SHA1":
        if secret is None:
            raise UsageError("no consumer secret: give {arg}", argument="consumer_secret")
        return Consumer(key, secret, signature_method)
    if not rsa_key_file:
        raise UsageError("RSA-SHA1 needs the consumer's private key: {arg} (a PEM file)", argument="rsa_key_file")
    require_rsa_support()
    path = Path(rsa_key_file).expanduser()
    try:
        pem = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot read RSA key {rsa_key_file}: {exc.strerror or exc}") from exc
    except UnicodeDecodeError:
        raise UsageError(f"RSA key {rsa_key_file} is not a PEM file") from None
    return Consumer(key, secret or "", signature_method, pem, str(path.resolve()))


def require_rsa_support() -> None:
    """Fail before any browser opens when RSA-SHA1 cannot be signed here."""
    try:
        # What oauthlib's RSA-SHA1 signer imports (PyJWT's algorithms pull in cryptography).
        import jwt.algorithms  # noqa: F401
    except ImportError:
        raise UsageError(RSA_EXTRA) from None


def sign(
    method: str,
    url: str,
    consumer: Consumer,
    *,
    token: str | None = None,
    token_secret: str | None = None,
    callback: str | None = None,
    verifier: str | None = None,
    form: Params | None = None,
    headers: dict[str, str] | None = None,
    nonce: str | None = None,
    timestamp: str | None = None,
) -> Request:
    """Sign one request with an ``Authorization: OAuth`` header (RFC 5849 §3.5.1).

    ``form`` parameters go in an ``application/x-www-form-urlencoded`` body and take part in the
    signature (§3.4.1.3.1); query parameters in ``url`` do too. ``url`` must already be encoded as it
    will be sent (``urls.normalize_url``). ``nonce`` and ``timestamp`` are for golden tests only.
    """
    from oauthlib.oauth1 import Client

    method = method.upper()
    if consumer.signature_method == "PLAINTEXT" and not is_secure_or_loopback(url):
        # §3.4.4: PLAINTEXT sends the secrets as they are; only TLS may carry them.
        raise UsageError("PLAINTEXT signatures need https (plain http is allowed only to loopback)")
    if consumer.signature_method == "RSA-SHA1" and not consumer.rsa_key:
        raise UsageError("RSA-SHA1 needs a private key: {arg}", argument="rsa_key_file")
    client = Client(
        consumer.key,
        client_secret=consumer.secret,
        resource_owner_key=token,
        resource_owner_secret=token_secret,
        callback_uri=callback,
        verifier=verifier,
        signature_method=consumer.signature_method,
        rsa_key=consumer.rsa_key,
        nonce=nonce,
        timestamp=timestamp,
    )
    headers = dict(headers or {})
    body: str | None = None
    if form:
        if method in ("GET", "HEAD"):
            raise UsageError(f"{method} requests cannot carry form parameters; put them in the URL's query")
        headers["Content-Type"] = FORM_CONTENT_TYPE
        body = form_encode(form)
    try:
        signed_url, signed_headers, signed_body = client.sign(url, http_method=method, body=body, headers=headers)
    except ImportError as exc:
        raise UsageError(RSA_EXTRA) from exc
    except ValueError as exc:
        raise UsageError(f"cannot sign this request: {exc}") from exc
    has_type = any(name.lower() == "content-type" for name in signed_headers)
    if method in ("POST", "PUT", "PATCH") and signed_body is None and not has_type:
        # Some providers insist on a Content-Type even for an empty form body.
        signed_headers["Content-Type"] = FORM_CONTENT_TYPE
        signed_body = ""
    return Request(
        method, str(signed_url), dict(signed_headers), None if signed_body is None else signed_body.encode("utf-8")
    )


def form_encode(params: Params) -> str:
    """``application/x-www-form-urlencoded`` with RFC 3986 percent-encoding (spaces as %20, as §3.6 does)."""
    return "&".join(f"{quote(k, safe='~')}={quote(v, safe='~')}" for k, v in params)
