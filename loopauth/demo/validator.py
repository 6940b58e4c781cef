"""The demo provider's state and its rules: oauthlib's RequestValidator over plain dictionaries.

All state lives in memory and is only touched from the event loop: oauthlib's endpoints are
synchronous, so each check-and-update of a token runs without interleaving and needs no lock.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from oauthlib.common import UNICODE_ASCII_CHARACTER_SET, generate_token, safe_string_equals
from oauthlib.oauth1 import RequestValidator

# Requests whose timestamp is further than this from the server clock are refused
# (Twitter's code 135); it also bounds how long a nonce must be remembered.
TIMESTAMP_LIFETIME = 600


# Never issued to anyone: substituted for unknown keys so a bad request costs the
# same work as a good one (oauthlib's constant-time design). Its private half was
# thrown away when it was made.
_DUMMY_RSA_PUBLIC_KEY = """-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAtrqXXVEde/KW6JKGK4NN
32DmnPnAk3Ry5kPc+m0AVkXGlQyGi1q4dGgMnGstX5TfYrQpml+/AeinqszSB7Po
TvbV7g+7rfVhxIk3YnkcQC3b2fVBKcg7HYxTAzppmUi+XUkujytEUl0F+clNh6Cq
kVBf05Ko1otVaDpZyBjMeyQcb2AUtYvMyfIUzK+CwqhI+wjq3nmMSpHrCxN7UKnd
ZjDWx1pY1ft8v0jfaPYL+6xrFqj1eioa1oYU16GXYZ51E/tQQP4IOgn5K44WSUvP
vhhuL9B5Rf37+HvFrVpLuTqmLdEytZc5w4oKh2CeaPqCEdnFTSiF1/GnfG7m3Xsc
RwIDAQAB
-----END PUBLIC KEY-----
"""


# --- the in-memory store behind oauthlib ------------------------------------------------------------------------


@dataclass
class ClientRecord:
    secret: str = field(repr=False)
    rsa_public_key: str | None = None


@dataclass
class RequestTokenRecord:
    client_key: str
    secret: str = field(repr=False)
    callback: str
    verifier: str | None = field(default=None, repr=False)


@dataclass
class AccessTokenRecord:
    token: str = field(repr=False)
    client_key: str
    secret: str = field(repr=False)
    user_id: str
    screen_name: str
    revoked: bool = False


class Validator(RequestValidator):  # type: ignore[misc]  # oauthlib is untyped
    """oauthlib's RequestValidator over plain dictionaries."""

    # Settings. Plain http is refused by default; this server only ever listens on
    # loopback, where nothing else can see the traffic.
    enforce_ssl = False
    allowed_signature_methods = ("HMAC-SHA1", "HMAC-SHA256", "PLAINTEXT", "RSA-SHA1")
    # RFC 3986's unreserved characters: the demo key has dashes, and other clients'
    # nonces are often base64url.
    safe_characters = frozenset(UNICODE_ASCII_CHARACTER_SET + "-._~")
    client_key_length = (8, 64)
    request_token_length = (20, 64)
    # Twitter-style access tokens are "<user id>-<random>".
    access_token_length = (20, 64)
    # The out-of-band PIN is 7 digits, as on Twitter.
    verifier_length = (7, 64)
    nonce_length = (8, 64)
    timestamp_lifetime = TIMESTAMP_LIFETIME
    dummy_client = "dummy-client-key-never-issued"
    dummy_request_token = "dummy-request-token-never-issued"
    dummy_access_token = "dummy-access-token-never-issued"

    def __init__(self) -> None:
        super().__init__()
        self.clients: dict[str, ClientRecord] = {}
        self.request_tokens: dict[str, RequestTokenRecord] = {}
        self.access_tokens: dict[str, AccessTokenRecord] = {}
        # (client key, timestamp, nonce, token) -> timestamp, per RFC 5849 §3.3.
        self._nonces: dict[tuple[str, str, str, str], int] = {}
        self._prune_at = 10_000
        self._dummy_client = ClientRecord(secret=generate_token(), rsa_public_key=_DUMMY_RSA_PUBLIC_KEY)
        self._dummy_secret = generate_token()

    def check_realms(self, realms: list[str]) -> bool:
        # Twitter ignores the realm; so does the demo, whatever the client names.
        return True

    # -- clients

    def validate_client_key(self, client_key: str, request: Any) -> bool:
        return client_key in self.clients

    def get_client_secret(self, client_key: str, request: Any) -> str:
        return self.clients.get(client_key, self._dummy_client).secret

    def get_rsa_key(self, client_key: str, request: Any) -> str:
        # A client registered without a public key still gets a real (dummy) key,
        # so an RSA-SHA1 request from it fails verification instead of crashing.
        key = self.clients.get(client_key, self._dummy_client).rsa_public_key
        return key or _DUMMY_RSA_PUBLIC_KEY

    def validate_timestamp_and_nonce(
        self,
        client_key: str,
        timestamp: str,
        nonce: str,
        request: Any,
        request_token: str | None = None,
        access_token: str | None = None,
    ) -> bool:
        key = (client_key, timestamp, nonce, request_token or access_token or "")
        if key in self._nonces:
            return False
        self._nonces[key] = int(timestamp)  # oauthlib has checked it is a 10-digit integer
        if len(self._nonces) >= self._prune_at:
            # Entries older than the lifetime can go: their timestamp alone now fails.
            horizon = time.time() - TIMESTAMP_LIFETIME
            self._nonces = {k: ts for k, ts in self._nonces.items() if ts >= horizon}
            self._prune_at = max(10_000, 2 * len(self._nonces))
        return True

    # -- callbacks and realms

    def validate_redirect_uri(self, client_key: str, redirect_uri: str, request: Any) -> bool:
        # A demo accepts any http(s) callback; real providers only accept URLs the
        # app registered beforehand (Twitter answers 403 / code 415 otherwise).
        if redirect_uri == "oob":
            return True
        parts = urlsplit(redirect_uri)
        return parts.scheme in ("http", "https") and bool(parts.netloc)

    def get_redirect_uri(self, token: str, request: Any) -> str:
        return self.request_tokens[token].callback

    def get_default_realms(self, client_key: str, request: Any) -> list[str]:
        return []

    def get_realms(self, token: str, request: Any) -> list[str]:
        return []

    def validate_requested_realms(self, client_key: str, realms: list[str], request: Any) -> bool:
        return True

    def validate_realms(
        self, client_key: str, token: str, request: Any, uri: str | None = None, realms: list[str] | None = None
    ) -> bool:
        return True

    def verify_realms(self, token: str, realms: list[str], request: Any) -> bool:
        return True

    # -- request tokens and verifiers

    def save_request_token(self, token: dict[str, str], request: Any) -> None:
        self.request_tokens[token["oauth_token"]] = RequestTokenRecord(
            client_key=request.client_key, secret=token["oauth_token_secret"], callback=request.redirect_uri
        )

    def verify_request_token(self, token: str, request: Any) -> bool:
        # The authorize page is good once per token: not after approval or denial.
        record = self.request_tokens.get(token)
        return record is not None and record.verifier is None

    def save_verifier(self, token: str, verifier: dict[str, str], request: Any) -> None:
        self.request_tokens[token].verifier = verifier["oauth_verifier"]

    def validate_request_token(self, client_key: str, token: str, request: Any) -> bool:
        record = self.request_tokens.get(token)
        return record is not None and record.client_key == client_key

    def get_request_token_secret(self, client_key: str, token: str, request: Any) -> str:
        record = self.request_tokens.get(token)
        return record.secret if record is not None and record.client_key == client_key else self._dummy_secret

    def validate_verifier(self, client_key: str, token: str, verifier: str, request: Any) -> bool:
        record = self.request_tokens.get(token)
        expected = record.verifier if record is not None and record.client_key == client_key else None
        # Compare even when there is nothing to match, to keep the timing flat.
        return safe_string_equals(verifier, expected or self._dummy_secret) and expected is not None

    def invalidate_request_token(self, client_key: str, request_token: str, request: Any) -> None:
        # RFC 5849 §2.3: temporary credentials are good for one exchange only.
        self.request_tokens.pop(request_token, None)

    # -- access tokens

    def save_access_token(self, token: dict[str, str], request: Any) -> None:
        self.access_tokens[token["oauth_token"]] = AccessTokenRecord(
            token=token["oauth_token"],
            client_key=request.client_key,
            secret=token["oauth_token_secret"],
            user_id=token["user_id"],
            screen_name=token["screen_name"],
        )

    def validate_access_token(self, client_key: str, token: str, request: Any) -> bool:
        record = self.access_tokens.get(token)
        return record is not None and record.client_key == client_key and not record.revoked

    def get_access_token_secret(self, client_key: str, token: str, request: Any) -> str:
        record = self.access_tokens.get(token)
        return record.secret if record is not None and record.client_key == client_key else self._dummy_secret
