"""The OAuth 2.0 demo provider's state and its rules: oauthlib's RequestValidator over plain dictionaries, and
the hooks that make oauthlib as strict as X (S256 only, the verifier's format, X's token answer).

All state lives in memory and is only touched from the event loop: oauthlib's endpoints are synchronous, so
each check-and-update of a code or token runs without interleaving and needs no lock.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import logging
import re
import secrets
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote_plus, urlsplit

from oauthlib.oauth2 import InvalidGrantError, InvalidRequestError, RequestValidator
from oauthlib.oauth2.rfc6749.errors import UnsupportedCodeChallengeMethodError

from ..constants import DEMO_SCREEN_NAME, DEMO_USER_ID

# Public on purpose, like the OAuth 1.0a demo's consumer key: ``loopauth demo --oauth2`` prints them.
DEMO_OAUTH2_CONFIDENTIAL_CLIENT_ID = "loopauth-demo-confidential-client"
# RFC 6749 §2.3.1: Basic carries the id and secret form-url-encoded before base64. "+" would decode to a
# space and "%2B" to "+", and "é" must become "%C3%A9", so a client that skips the encoding fails here.
DEMO_OAUTH2_CONFIDENTIAL_CLIENT_SECRET = "loopauth+demo/secret&not=secret%2B-é"
DEMO_OAUTH2_NAME = "loopauth demo"
DEMO_APP_NAME = "loopauth demo app"

# Any port on either loopback literal (RFC 8252 §7.3), at loopauth's default callback path.
DEFAULT_REDIRECT_URIS = ("http://127.0.0.1/callback", "http://[::1]/callback")

CODE_LIFETIME = 30.0  # X's codes are good for 30 seconds

# X's OAuth 2.0 scopes; anything else is refused with invalid_scope, as X does.
SUPPORTED_SCOPES = frozenset(
    {
        "tweet.read",
        "tweet.write",
        "tweet.moderate.write",
        "users.email",
        "users.read",
        "follows.read",
        "follows.write",
        "offline.access",
        "space.read",
        "mute.read",
        "mute.write",
        "like.read",
        "like.write",
        "list.read",
        "list.write",
        "block.read",
        "block.write",
        "bookmark.read",
        "bookmark.write",
        "dm.read",
        "dm.write",
        "media.write",
    }
)
# What X asks of a token for GET /2/users/me.
USERS_ME_SCOPES = ("tweet.read", "users.read")
OFFLINE_ACCESS = "offline.access"

# RFC 7636 §4.1 and §4.2: a verifier is 43-128 unreserved characters; an S256 challenge is 43 base64url ones.
_VERIFIER = re.compile(r"[A-Za-z0-9\-._~]{43,128}")
_S256_CHALLENGE = re.compile(r"[A-Za-z0-9\-_]{43}")
# oauthlib's server-side modules; at DEBUG they log authorization codes and refresh tokens.
_OAUTHLIB_SERVER_LOGGERS = (
    "oauthlib.oauth2.rfc6749.endpoints",
    "oauthlib.oauth2.rfc6749.grant_types",
    "oauthlib.oauth2.rfc6749.request_validator",
)


def redirect_uri_matches(registered: str, requested: str) -> bool:
    """RFC 8252 §7.3: a registered ``http://127.0.0.1/…`` or ``http://[::1]/…`` without a port admits any
    port, because a native app binds whatever port is free; everything else must match exactly."""
    if requested == registered:
        return True
    reg = urlsplit(registered)
    if reg.scheme != "http" or reg.netloc not in ("127.0.0.1", "[::1]"):
        return False
    req = urlsplit(requested)
    host, colon, port = req.netloc.rpartition(":")
    return (
        (req.scheme, host, req.path, req.query, req.fragment) == (reg.scheme, reg.netloc, reg.path, reg.query, "")
        and colon == ":"
        and port.isdigit()
        and 0 < int(port) < 65536
    )


# --- the in-memory store behind oauthlib ------------------------------------------------------------------------


@dataclass(frozen=True)
class User:
    id: str
    name: str
    username: str


DEMO_USER = User(DEMO_USER_ID, DEMO_OAUTH2_NAME, DEMO_SCREEN_NAME)


@dataclass
class Client:
    client_id: str
    secret: str | None = field(repr=False)
    redirect_uris: tuple[str, ...]


@dataclass
class _Family:
    """Everything one authorization code led to: its access tokens and its chain of refresh tokens."""

    client_id: str
    user: User
    access_tokens: list[str] = field(default_factory=list, repr=False)
    refresh_tokens: list[str] = field(default_factory=list, repr=False)
    # The one refresh token that may be used next; any earlier one is rotated out.
    current_refresh_token: str | None = field(default=None, repr=False)
    revoked: bool = False


@dataclass
class _Code:
    client_id: str
    redirect_uri: str
    scopes: list[str]
    challenge: str = field(repr=False)
    user: User
    expires_at: float
    used: bool = False
    # Set when the code is exchanged, so that a replay can revoke what it produced.
    family: _Family | None = None


@dataclass
class _AccessToken:
    family: _Family
    scopes: list[str]
    expires_at: float
    revoked: bool = False

    def usable(self) -> bool:
        return not self.revoked and not self.family.revoked and time.monotonic() < self.expires_at


@dataclass
class _RefreshToken:
    family: _Family
    scopes: list[str]


def new_token(request: Any) -> str:
    return secrets.token_urlsafe(32)


def _basic_credentials(header: str) -> tuple[str, str] | None:
    """RFC 6749 §2.3.1: base64 of ``urlencode(id):urlencode(secret)``, each decoded as a form value."""
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    client_id, colon, secret = decoded.partition(":")
    if not colon:
        return None
    return unquote_plus(client_id), unquote_plus(secret)


class Validator(RequestValidator):  # type: ignore[misc]  # oauthlib is untyped
    """oauthlib's OAuth 2.0 RequestValidator over plain dictionaries."""

    def __init__(self, code_lifetime: float) -> None:
        super().__init__()
        self.code_lifetime = code_lifetime
        self.clients: dict[str, Client] = {}
        self.codes: dict[str, _Code] = {}
        self.access_tokens: dict[str, _AccessToken] = {}
        self.refresh_tokens: dict[str, _RefreshToken] = {}
        # Compared against when the client is unknown, so a wrong id costs what a wrong secret does.
        self._dummy_secret = secrets.token_urlsafe(32)

    # -- revocation, shared by /revoke, code replay and refresh token reuse

    def revoke_access_token(self, token: str) -> None:
        self.access_tokens[token].revoked = True

    def revoke_family(self, family: _Family) -> None:
        family.revoked = True
        family.current_refresh_token = None
        for token in family.access_tokens:
            self.revoke_access_token(token)

    # -- clients

    def client_authentication_required(self, request: Any, *args: Any, **kwargs: Any) -> bool:
        # Whoever sends credentials is held to them; otherwise the client's type decides.
        if "Authorization" in request.headers or request.client_secret is not None:
            return True
        client = self.clients.get(request.client_id or "")
        return client is not None and client.secret is not None

    def authenticate_client(self, request: Any, *args: Any, **kwargs: Any) -> bool:
        header = request.headers.get("Authorization")
        if header is not None:
            if request.client_secret is not None:
                return False  # RFC 6749 §2.3: one authentication method per request
            credentials = _basic_credentials(header)
            if credentials is None:
                return False
            client_id, secret = credentials
        else:
            client_id, secret = request.client_id, request.client_secret
        if request.client_id is not None and request.client_id != client_id:
            return False
        client = self.clients.get(client_id or "")
        expected = client.secret if client is not None and client.secret is not None else self._dummy_secret
        matches = hmac.compare_digest((secret or "").encode(), expected.encode())
        if not matches or client is None or client.secret is None:
            return False
        request.client = client
        return True

    def authenticate_client_id(self, client_id: str, request: Any, *args: Any, **kwargs: Any) -> bool:
        client = self.clients.get(client_id or "")
        if client is None or client.secret is not None:
            return False
        request.client = client
        return True

    def validate_client_id(self, client_id: str, request: Any, *args: Any, **kwargs: Any) -> bool:
        return client_id in self.clients

    def validate_response_type(
        self, client_id: str, response_type: str, client: Any, request: Any, *args: Any, **kwargs: Any
    ) -> bool:
        return response_type == "code"

    def validate_grant_type(
        self, client_id: str, grant_type: str, client: Any, request: Any, *args: Any, **kwargs: Any
    ) -> bool:
        return grant_type in ("authorization_code", "refresh_token")

    # -- redirect URIs

    def validate_redirect_uri(self, client_id: str, redirect_uri: str, request: Any, *args: Any, **kwargs: Any) -> bool:
        client = self.clients.get(client_id)
        return client is not None and any(redirect_uri_matches(r, redirect_uri) for r in client.redirect_uris)

    def get_default_redirect_uri(self, client_id: str, request: Any, *args: Any, **kwargs: Any) -> str | None:
        return None  # as on X: every authorization request names its redirect_uri

    def confirm_redirect_uri(
        self, client_id: str, code: str, redirect_uri: str, client: Any, request: Any, *args: Any, **kwargs: Any
    ) -> bool:
        if self.codes[code].redirect_uri != redirect_uri:
            # RFC 6749 §5.2 names this invalid_grant; oauthlib's own answer would be invalid_request.
            raise InvalidGrantError(
                description="redirect_uri differs from the one in the authorization request", request=request
            )
        return True

    # -- scopes

    def get_default_scopes(self, client_id: str, request: Any, *args: Any, **kwargs: Any) -> list[str]:
        return []  # no scope asked for is an invalid_scope, as on X

    def validate_scopes(
        self, client_id: str, scopes: list[str], client: Any, request: Any, *args: Any, **kwargs: Any
    ) -> bool:
        return bool(scopes) and set(scopes) <= SUPPORTED_SCOPES

    def get_original_scopes(self, refresh_token: str, request: Any, *args: Any, **kwargs: Any) -> list[str]:
        return list(self.refresh_tokens[refresh_token].scopes)

    # -- PKCE

    def is_pkce_required(self, client_id: str, request: Any) -> bool:
        return True

    def get_code_challenge(self, code: str, request: Any) -> str:
        return self.codes[code].challenge

    def get_code_challenge_method(self, code: str, request: Any) -> str:
        return "S256"  # nothing else is ever stored: see s256_only

    # -- authorization codes

    def save_authorization_code(
        self, client_id: str, code: dict[str, str], request: Any, *args: Any, **kwargs: Any
    ) -> None:
        self.codes[code["code"]] = _Code(
            client_id=client_id,
            redirect_uri=request.redirect_uri,
            scopes=list(request.scopes),
            challenge=request.code_challenge,
            user=request.user,
            expires_at=time.monotonic() + self.code_lifetime,
        )

    def validate_code(self, client_id: str, code: str, client: Any, request: Any, *args: Any, **kwargs: Any) -> bool:
        record = self.codes.get(code)
        if record is None or record.client_id != client_id:
            return False
        if record.used:
            # RFC 6749 §4.1.2: deny, and revoke the tokens issued for it; the code may have been stolen.
            if record.family is not None:
                self.revoke_family(record.family)
            return False
        if time.monotonic() >= record.expires_at:
            return False
        request.user = record.user
        request.scopes = list(record.scopes)
        return True

    def invalidate_authorization_code(self, client_id: str, code: str, request: Any, *args: Any, **kwargs: Any) -> None:
        # Kept, marked used, rather than deleted: a replay must be told apart from a made-up code.
        self.codes[code].used = True

    # -- tokens

    def save_bearer_token(self, token: dict[str, Any], request: Any, *args: Any, **kwargs: Any) -> None:
        if request.grant_type == "refresh_token":
            family = self.refresh_tokens[request.refresh_token].family
        else:
            family = _Family(client_id=request.client_id, user=request.user)
            self.codes[request.code].family = family
        scopes = list(request.scopes)
        access = token["access_token"]
        self.access_tokens[access] = _AccessToken(family, scopes, time.monotonic() + token["expires_in"])
        family.access_tokens.append(access)
        # Rotation: the new refresh token (or none) replaces the presented one, which is now spent.
        refresh = token.get("refresh_token")
        family.current_refresh_token = refresh
        if refresh is not None:
            self.refresh_tokens[refresh] = _RefreshToken(family, scopes)
            family.refresh_tokens.append(refresh)

    def validate_refresh_token(self, refresh_token: str, client: Any, request: Any, *args: Any, **kwargs: Any) -> bool:
        record = self.refresh_tokens.get(refresh_token)
        if record is None or record.family.client_id != client.client_id or record.family.revoked:
            return False
        if record.family.current_refresh_token != refresh_token:
            # RFC 9700 §4.14.2: a rotated refresh token came back, so two parties hold this login and the
            # server cannot tell which is the thief. End the family: the newer refresh token and every
            # access token.
            self.revoke_family(record.family)
            raise InvalidGrantError(
                description="refresh token was already used; the authorization is revoked", request=request
            )
        request.user = record.family.user
        return True

    def revoke_token(self, token: str, token_type_hint: str | None, request: Any, *args: Any, **kwargs: Any) -> None:
        access = self.access_tokens.get(token)
        refresh = self.refresh_tokens.get(token)
        family = access.family if access is not None else refresh.family if refresh is not None else None
        if family is None:
            return  # RFC 7009 §2.2: an unknown token is answered 200 all the same
        if family.client_id != request.client.client_id:
            # RFC 7009 §2.1: a client may only revoke its own tokens.
            raise InvalidGrantError(description="the token was issued to another client", request=request)
        if refresh is not None:
            self.revoke_family(family)  # RFC 7009 §2.1: its access tokens go with it
        else:
            self.revoke_access_token(token)

    def validate_bearer_token(self, token: str | None, scopes: list[str] | None, request: Any) -> bool:
        record = self.access_tokens.get(token or "")
        if record is None or not record.usable():
            return False
        request.user = record.family.user
        request.client_id = record.family.client_id
        request.token_scopes = record.scopes
        return True


# --- oauthlib hooks ---------------------------------------------------------------------------------------------


def s256_only(request: Any) -> dict[str, str]:
    """Refuse ``plain`` (and no method, which RFC 7636 §4.3 makes ``plain``) before oauthlib accepts it."""
    if request.code_challenge is None:
        return {}  # is_pkce_required makes that an error of its own
    if request.code_challenge_method != "S256":
        raise UnsupportedCodeChallengeMethodError(description="code_challenge_method must be S256", request=request)
    if not _S256_CHALLENGE.fullmatch(request.code_challenge):
        raise InvalidRequestError(description="code_challenge is not a base64url SHA-256 digest", request=request)
    return {}


def verifier_format(request: Any) -> None:
    """RFC 7636 §4.1: catch clients whose verifier would match its challenge but is too short or odd."""
    if request.code_verifier is not None and not _VERIFIER.fullmatch(request.code_verifier):
        raise InvalidRequestError(description="code_verifier must be 43-128 unreserved characters", request=request)


def x_token_shape(token: dict[str, Any], token_handler: Any, request: Any) -> dict[str, Any]:
    """X's answer: ``token_type`` in lower case, and a refresh token only for ``offline.access``."""
    token["token_type"] = "bearer"
    if OFFLINE_ACCESS not in (request.scopes or ()):
        token.pop("refresh_token", None)
    return token


class _ServerDebugFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.WARNING


_SERVER_DEBUG_FILTER = _ServerDebugFilter()


def quiet_oauthlib_server_logs() -> None:
    """Drop DEBUG and INFO records of oauthlib's server modules, which carry codes and tokens.

    Only those modules' loggers are touched: oauthlib's client side, which loopauth itself uses,
    keeps its logging as it is. Adding the filter again is a no-op.
    """
    for name in list(logging.root.manager.loggerDict):
        if name.startswith(_OAUTHLIB_SERVER_LOGGERS):
            logging.getLogger(name).addFilter(_SERVER_DEBUG_FILTER)
