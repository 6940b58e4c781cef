"""OAuth 1.0a request signing (RFC 5849 §3), delegated to ``oauthlib.oauth1.Client``. Pure: no I/O.

oauthlib is imported on the first signature, never at import time, so the login can check its
arguments and open the browser before paying for it. The consumer (and its RSA key, read from a file)
comes from :mod:`.consumer`.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..errors import UsageError
from ..http import Request
from ..urls import FORM_CONTENT_TYPE, form_encode, is_secure_or_loopback
from .consumer import RSA_EXTRA, Consumer
from .quiet import oauthlib_client

__all__ = ["FORM_CONTENT_TYPE", "Consumer", "Params", "form_encode", "sign"]

Params = Sequence[tuple[str, str]]


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
    Client = oauthlib_client()
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
