"""The embedded OAuth 2.0 demo provider: authorization code + PKCE on loopback, shaped like X's.

``loopauth demo --oauth2`` logs into it and the OAuth 2.0 tests use it as their provider, so it is
strict where X is strict and where the RFCs say a server MUST or SHOULD, to catch client mistakes
before a real provider does:

- PKCE is required and only ``S256`` is accepted (RFC 7636, RFC 8252 §8.1, RFC 9700 §2.1.1);
  ``state`` comes back unchanged, and a denial redirects with ``error=access_denied`` (RFC 6749 §4.1.2.1).
- A registered loopback redirect URI without a port (``http://127.0.0.1/callback``) matches any port
  (RFC 8252 §7.3); every other registered URI, including a loopback one with a port (X's rule), must
  match exactly. The token request must repeat the authorization request's ``redirect_uri`` exactly.
- Codes are single-use and short-lived; replaying one kills what it was exchanged for (RFC 6749 §4.1.2).
- Confidential clients authenticate with HTTP Basic, id and secret form-url-encoded before base64
  (RFC 6749 §2.3.1), or with ``client_secret_post``; public clients send only ``client_id``.
- Refresh tokens come only with ``offline.access`` (as on X) and rotate: each refresh returns a new one,
  and presenting a rotated one again revokes the whole family, access tokens included (RFC 9700 §4.14.2).

The protocol work is oauthlib's OAuth 2.0 server (its grant types and endpoints); this module supplies
the in-memory storage behind its ``RequestValidator``, the authorize page, and the aiohttp glue. All
state lives in memory and is only touched from the event loop: oauthlib's endpoints are synchronous, so
each check-and-update of a code or token runs without interleaving and needs no lock.

Nothing here logs a token: the aiohttp access log is off (the callback redirect carries the code), and
oauthlib's server modules, which log codes and tokens at DEBUG, are held to warnings once a provider starts.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import logging
import re
import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from html import escape
from typing import Any
from urllib.parse import parse_qsl, unquote_plus, urlencode, urlsplit

from aiohttp import web
from oauthlib.oauth2 import (
    AuthorizationCodeGrant,
    AuthorizationEndpoint,
    BearerToken,
    FatalClientError,
    InvalidGrantError,
    InvalidRequestError,
    OAuth2Error,
    RefreshTokenGrant,
    RequestValidator,
    ResourceEndpoint,
    RevocationEndpoint,
    TokenEndpoint,
)
from oauthlib.oauth2.rfc6749.errors import AccessDeniedError, UnsupportedCodeChallengeMethodError

from ..models import OAuth2Provider
from .base import DemoServer, params_object
from .constants import ACCESS_TOKEN_LIFETIME, DEMO_OAUTH2_PUBLIC_CLIENT_ID, DEMO_SCREEN_NAME, DEMO_USER_ID
from .pages import SECURITY_HEADERS, render

__all__ = [
    "ACCESS_TOKEN_LIFETIME",
    "CODE_LIFETIME",
    "DEFAULT_REDIRECT_URIS",
    "DEMO_OAUTH2_CONFIDENTIAL_CLIENT_ID",
    "DEMO_OAUTH2_CONFIDENTIAL_CLIENT_SECRET",
    "DEMO_OAUTH2_NAME",
    "DEMO_OAUTH2_PUBLIC_CLIENT_ID",
    "SUPPORTED_SCOPES",
    "USERS_ME_SCOPES",
    "DemoOAuth2Provider",
    "OAuth2Endpoints",
    "redirect_uri_matches",
]

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
_OFFLINE_ACCESS = "offline.access"

AUTHORIZE_PATH = "/i/oauth2/authorize"
TOKEN_PATH = "/2/oauth2/token"
REVOKE_PATH = "/2/oauth2/revoke"
USERS_ME_PATH = "/2/users/me"
ECHO_PATH = "/2/echo"

# Endpoints that answer programs; the authorize pages are for a person, so the simulated
# round trip (``delay``) does not apply to them.
_API_ENDPOINTS = frozenset({"token", "revoke", "users_me", "echo"})
# The authorization request's own parameters: the authorize page carries exactly these to the decision.
_AUTHORIZE_PARAMS = (
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "code_challenge",
    "code_challenge_method",
)
_FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"
# RFC 7636 §4.1 and §4.2: a verifier is 43-128 unreserved characters; an S256 challenge is 43 base64url ones.
_VERIFIER = re.compile(r"[A-Za-z0-9\-._~]{43,128}")
_S256_CHALLENGE = re.compile(r"[A-Za-z0-9\-_]{43}")
# oauthlib's server-side modules; at DEBUG they log authorization codes and refresh tokens.
_OAUTHLIB_SERVER_LOGGERS = (
    "oauthlib.oauth2.rfc6749.endpoints",
    "oauthlib.oauth2.rfc6749.grant_types",
    "oauthlib.oauth2.rfc6749.request_validator",
)


@dataclass(frozen=True)
class OAuth2Endpoints:
    """Where a client finds the demo's endpoints."""

    authorize_url: str
    token_url: str
    revoke_url: str
    users_me_url: str
    echo_url: str


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
class _User:
    id: str
    name: str
    username: str


_DEMO_USER = _User(DEMO_USER_ID, DEMO_OAUTH2_NAME, DEMO_SCREEN_NAME)


@dataclass
class _Client:
    client_id: str
    secret: str | None = field(repr=False)
    redirect_uris: tuple[str, ...]


@dataclass
class _Family:
    """Everything one authorization code led to: its access tokens and its chain of refresh tokens."""

    client_id: str
    user: _User
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
    user: _User
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


def _new_token(request: Any) -> str:
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


class _Validator(RequestValidator):  # type: ignore[misc]  # oauthlib is untyped
    """oauthlib's OAuth 2.0 RequestValidator over plain dictionaries."""

    def __init__(self, code_lifetime: float) -> None:
        super().__init__()
        self.code_lifetime = code_lifetime
        self.clients: dict[str, _Client] = {}
        self.codes: dict[str, _Code] = {}
        self.access_tokens: dict[str, _AccessToken] = {}
        self.refresh_tokens: dict[str, _RefreshToken] = {}
        self.issued_access_tokens: list[str] = []
        self.issued_refresh_tokens: list[str] = []
        self.revoked_access_tokens: set[str] = set()
        self.revoked_refresh_tokens: set[str] = set()
        self.client_auth_methods: list[str] = []
        self.refreshes = 0
        self.refresh_token_reuses = 0
        self.code_reuses = 0
        # Compared against when the client is unknown, so a wrong id costs what a wrong secret does.
        self._dummy_secret = secrets.token_urlsafe(32)

    # -- revocation, shared by /revoke, code replay and refresh token reuse

    def revoke_access_token(self, token: str) -> None:
        self.access_tokens[token].revoked = True
        self.revoked_access_tokens.add(token)

    def revoke_family(self, family: _Family) -> None:
        family.revoked = True
        family.current_refresh_token = None
        for token in family.access_tokens:
            self.revoke_access_token(token)
        self.revoked_refresh_tokens.update(family.refresh_tokens)

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
            method = "client_secret_basic"
        else:
            client_id, secret = request.client_id, request.client_secret
            method = "client_secret_post"
        if request.client_id is not None and request.client_id != client_id:
            return False
        client = self.clients.get(client_id or "")
        expected = client.secret if client is not None and client.secret is not None else self._dummy_secret
        matches = hmac.compare_digest((secret or "").encode(), expected.encode())
        if not matches or client is None or client.secret is None:
            return False
        request.client = client
        self.client_auth_methods.append(method)
        return True

    def authenticate_client_id(self, client_id: str, request: Any, *args: Any, **kwargs: Any) -> bool:
        client = self.clients.get(client_id or "")
        if client is None or client.secret is not None:
            return False
        request.client = client
        self.client_auth_methods.append("none")
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
        return "S256"  # nothing else is ever stored: see _s256_only

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
            self.code_reuses += 1
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
            self.refreshes += 1
        else:
            family = _Family(client_id=request.client_id, user=request.user)
            self.codes[request.code].family = family
        scopes = list(request.scopes)
        access = token["access_token"]
        self.access_tokens[access] = _AccessToken(family, scopes, time.monotonic() + token["expires_in"])
        family.access_tokens.append(access)
        self.issued_access_tokens.append(access)
        # Rotation: the new refresh token (or none) replaces the presented one, which is now spent.
        refresh = token.get("refresh_token")
        family.current_refresh_token = refresh
        if refresh is not None:
            self.refresh_tokens[refresh] = _RefreshToken(family, scopes)
            family.refresh_tokens.append(refresh)
            self.issued_refresh_tokens.append(refresh)

    def validate_refresh_token(self, refresh_token: str, client: Any, request: Any, *args: Any, **kwargs: Any) -> bool:
        record = self.refresh_tokens.get(refresh_token)
        if record is None or record.family.client_id != client.client_id or record.family.revoked:
            return False
        if record.family.current_refresh_token != refresh_token:
            # RFC 9700 §4.14.2: a rotated refresh token came back, so two parties hold this login and the
            # server cannot tell which is the thief. End the family: the newer refresh token and every
            # access token.
            self.refresh_token_reuses += 1
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


def _s256_only(request: Any) -> dict[str, str]:
    """Refuse ``plain`` (and no method, which RFC 7636 §4.3 makes ``plain``) before oauthlib accepts it."""
    if request.code_challenge is None:
        return {}  # is_pkce_required makes that an error of its own
    if request.code_challenge_method != "S256":
        raise UnsupportedCodeChallengeMethodError(description="code_challenge_method must be S256", request=request)
    if not _S256_CHALLENGE.fullmatch(request.code_challenge):
        raise InvalidRequestError(description="code_challenge is not a base64url SHA-256 digest", request=request)
    return {}


def _verifier_format(request: Any) -> None:
    """RFC 7636 §4.1: catch clients whose verifier would match its challenge but is too short or odd."""
    if request.code_verifier is not None and not _VERIFIER.fullmatch(request.code_verifier):
        raise InvalidRequestError(description="code_verifier must be 43-128 unreserved characters", request=request)


def _x_token_shape(token: dict[str, Any], token_handler: Any, request: Any) -> dict[str, Any]:
    """X's answer: ``token_type`` in lower case, and a refresh token only for ``offline.access``."""
    token["token_type"] = "bearer"
    if _OFFLINE_ACCESS not in (request.scopes or ()):
        token.pop("refresh_token", None)
    return token


class _ServerDebugFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.WARNING


_SERVER_DEBUG_FILTER = _ServerDebugFilter()


def _quiet_oauthlib_server_logs() -> None:
    """Drop DEBUG and INFO records of oauthlib's server modules, which carry codes and tokens.

    Only those modules' loggers are touched: oauthlib's client side, which loopauth itself uses,
    keeps its logging as it is. Adding the filter again is a no-op.
    """
    for name in list(logging.root.manager.loggerDict):
        if name.startswith(_OAUTHLIB_SERVER_LOGGERS):
            logging.getLogger(name).addFilter(_SERVER_DEBUG_FILTER)


# --- responses --------------------------------------------------------------------------------------------------
# The browser-facing pages are the only users of loopauth.pages here, all in this section.


def _page(status: int, html_text: str = "", location: str | None = None) -> web.Response:
    """Every response a browser sees: a page, or a redirect (``no-referrer`` keeps the code out of Referer)."""
    headers = {**SECURITY_HEADERS, **({"Location": location} if location is not None else {})}
    return web.Response(status=status, body=html_text.encode(), headers=headers)


def _error_page(message: str) -> web.Response:
    page = render(
        "error",
        "This authorization request is not valid",
        message,
        next_step="Start the login again from the app.",
    )
    return _page(400, page)


def _authorize_page(query: Iterable[tuple[str, str]], scopes: list[str]) -> web.Response:
    """The consent page: the authorization request in hidden fields, and Authorize / Deny buttons that post it,
    the same form as the OAuth 1.0a demo's, so ``loopauth.demo.play_user`` drives both."""
    hidden = "".join(
        f'<input type="hidden" name="{name}" value="{escape(value, quote=True)}">'
        for name, value in query
        if name in _AUTHORIZE_PARAMS
    )
    items = "".join(f"<li><code>{escape(scope)}</code></li>" for scope in scopes)
    form = (
        f"<p>If you authorize it, {escape(DEMO_APP_NAME)} will be able to use these scopes:</p>"
        f"<ul>{items}</ul>"
        f'<form method="post" action="{AUTHORIZE_PATH}">{hidden}'
        '<button type="submit" name="action" value="approve" class="primary">Authorize app</button>'
        '<button type="submit" name="action" value="deny">Deny</button>'
        "</form>"
        '<p class="muted">Either choice takes you back to the app, which finishes the login.</p>'
    )
    page = render(
        "info",
        f"Authorize {DEMO_APP_NAME}?",
        f"{DEMO_APP_NAME} wants to use your account @{DEMO_SCREEN_NAME} on the demo provider.",
        body_html=form,
    )
    return _page(200, page)


def _oauthlib_answer(headers: dict[str, str], body: str | None, status: int) -> web.Response:
    """oauthlib's JSON answer as it made it, except the challenge of a 401: RFC 6749 §5.2 wants the scheme
    the client authenticated with (Basic), where oauthlib offers Bearer's."""
    if status == 401:
        headers = {**headers, "WWW-Authenticate": f'Basic realm="{DEMO_OAUTH2_NAME}"'}
    return web.Response(status=status, text=body or "", headers=headers)


def _oauth_error(error: OAuth2Error) -> web.Response:
    """RFC 6749 §5.2's JSON error for what oauthlib raised instead of answering."""
    headers = {"Content-Type": "application/json", "Cache-Control": "no-store", "Pragma": "no-cache"}
    return _oauthlib_answer(headers, error.json, error.status_code)


def _bearer_refusal(status: int, error: str | None) -> web.Response:
    """X's problem-details body, with RFC 6750 §3's challenge (no error code when no token came)."""
    title = "Unauthorized" if status == 401 else "Forbidden"
    challenge = f'Bearer realm="{DEMO_OAUTH2_NAME}"' + (f', error="{error}"' if error else "")
    return web.json_response(
        {"title": title, "type": "about:blank", "status": status, "detail": title},
        status=status,
        headers={"WWW-Authenticate": challenge},
    )


def _form_text(pairs: Iterable[tuple[str, str]]) -> str:
    # Re-encoded from aiohttp's lenient parse: oauthlib refuses raw characters a browser may leave in
    # (the brackets of http://[::1]:port/), and the values it decodes are exactly the ones sent.
    return urlencode(list(pairs))


# --- the server -------------------------------------------------------------------------------------------------


class DemoOAuth2Provider(DemoServer):
    """The OAuth 2.0 demo provider, served on ``host:port`` (port 0 picks a free one) once started.

    Test hooks, all plain attributes: ``failures[name] = Failure(...)`` answers that instead,
    ``hang.add(name)`` never answers (until close), ``delay`` seconds are added to the API endpoints
    (``token``, ``revoke``, ``users_me``, ``echo``; not the authorize pages), and ``calls`` counts every
    hit, also ``authorize`` and ``authorize_decision``. ``access_token_lifetime`` and ``code_lifetime`` apply
    to what is issued next; ``expire_access_tokens()`` makes every access token due now.
    """

    API_ENDPOINTS = _API_ENDPOINTS

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        delay: float = 0.0,
        access_token_lifetime: int = ACCESS_TOKEN_LIFETIME,
        code_lifetime: float = CODE_LIFETIME,
        redirect_uris: Iterable[str] = DEFAULT_REDIRECT_URIS,
    ) -> None:
        super().__init__(host=host, port=port, delay=delay)
        self.access_token_lifetime = access_token_lifetime
        self.public_client_id = DEMO_OAUTH2_PUBLIC_CLIENT_ID
        self.confidential_client_id = DEMO_OAUTH2_CONFIDENTIAL_CLIENT_ID
        self.confidential_client_secret = DEMO_OAUTH2_CONFIDENTIAL_CLIENT_SECRET
        self._validator = _Validator(code_lifetime)
        redirect_uris = tuple(redirect_uris)
        self.register_client(DEMO_OAUTH2_PUBLIC_CLIENT_ID, redirect_uris=redirect_uris)
        self.register_client(
            DEMO_OAUTH2_CONFIDENTIAL_CLIENT_ID, DEMO_OAUTH2_CONFIDENTIAL_CLIENT_SECRET, redirect_uris=redirect_uris
        )
        bearer = BearerToken(
            self._validator,
            token_generator=_new_token,
            refresh_token_generator=_new_token,
            expires_in=lambda request: self.access_token_lifetime,
        )
        code_grant = AuthorizationCodeGrant(self._validator, pre_auth=[_s256_only], pre_token=[_verifier_format])
        refresh_grant = RefreshTokenGrant(self._validator, issue_new_refresh_tokens=True)
        for grant in (code_grant, refresh_grant):
            grant.register_token_modifier(_x_token_shape)
        self._authorization_endpoint = AuthorizationEndpoint(
            default_response_type="code", default_token_type=bearer, response_types={"code": code_grant}
        )
        self._token_endpoint = TokenEndpoint(
            default_grant_type="authorization_code",
            default_token_type=bearer,
            grant_types={"authorization_code": code_grant, "refresh_token": refresh_grant},
        )
        self._revocation_endpoint = RevocationEndpoint(self._validator)
        self._resource_endpoint = ResourceEndpoint(default_token="Bearer", token_types={"Bearer": bearer})

    def app(self) -> web.Application:
        _quiet_oauthlib_server_logs()
        app = web.Application()
        app.router.add_get(AUTHORIZE_PATH, self._handle_authorize_page)
        app.router.add_post(AUTHORIZE_PATH, self._handle_authorize_decision)
        app.router.add_post(TOKEN_PATH, self._handle_token)
        app.router.add_post(REVOKE_PATH, self._handle_revoke)
        app.router.add_get(USERS_ME_PATH, self._handle_users_me)
        app.router.add_route("*", ECHO_PATH, self._handle_echo)
        return app

    # -- what clients need

    @property
    def endpoints(self) -> OAuth2Endpoints:
        base = self.base_url
        return OAuth2Endpoints(
            authorize_url=base + AUTHORIZE_PATH,
            token_url=base + TOKEN_PATH,
            revoke_url=base + REVOKE_PATH,
            users_me_url=base + USERS_ME_PATH,
            echo_url=base + ECHO_PATH,
        )

    @property
    def provider(self) -> OAuth2Provider:
        """The demo as loopauth's client sees it (its default scopes let ``/2/users/me`` name the account)."""
        e = self.endpoints
        return OAuth2Provider(
            name="demo-oauth2",
            authorize_url=e.authorize_url,
            token_url=e.token_url,
            revoke_url=e.revoke_url,
            verify_url=e.users_me_url,
            scopes=(*USERS_ME_SCOPES, _OFFLINE_ACCESS),
        )

    def register_client(
        self, client_id: str, secret: str | None = None, *, redirect_uris: Iterable[str] = DEFAULT_REDIRECT_URIS
    ) -> None:
        """Add (or replace) a client: public without a secret, confidential with one."""
        if not client_id:
            raise ValueError("a client id must not be empty")
        if secret == "":
            raise ValueError("a confidential client's secret must not be empty; a public client has None")
        self._validator.clients[client_id] = _Client(client_id, secret, tuple(redirect_uris))

    @property
    def code_lifetime(self) -> float:
        return self._validator.code_lifetime

    @code_lifetime.setter
    def code_lifetime(self, seconds: float) -> None:
        self._validator.code_lifetime = seconds

    # -- observation for tests

    @property
    def refreshes(self) -> int:
        """Successful refresh-token grants."""
        return self._validator.refreshes

    @property
    def refresh_token_reuses(self) -> int:
        """Rotated refresh tokens presented again; each one revoked its family."""
        return self._validator.refresh_token_reuses

    @property
    def code_reuses(self) -> int:
        return self._validator.code_reuses

    @property
    def issued_access_tokens(self) -> list[str]:
        """Every access token handed out, oldest first."""
        return list(self._validator.issued_access_tokens)

    @property
    def issued_refresh_tokens(self) -> list[str]:
        return list(self._validator.issued_refresh_tokens)

    @property
    def revoked_access_tokens(self) -> set[str]:
        """Revoked by /revoke, by a code replay or by refresh token reuse (not those that merely expired)."""
        return set(self._validator.revoked_access_tokens)

    @property
    def revoked_refresh_tokens(self) -> set[str]:
        return set(self._validator.revoked_refresh_tokens)

    @property
    def client_auth_methods(self) -> list[str]:
        """How each successful client authentication was made: client_secret_basic, client_secret_post, none."""
        return list(self._validator.client_auth_methods)

    def access_token_is_valid(self, token: str) -> bool:
        record = self._validator.access_tokens.get(token)
        return record is not None and record.usable()

    def expire_access_tokens(self) -> None:
        """Make every access token issued so far due now, as if its lifetime had run out."""
        now = time.monotonic()
        for record in self._validator.access_tokens.values():
            record.expires_at = min(record.expires_at, now)

    # -- shared preamble

    def _authorize_uri(self, pairs: Iterable[tuple[str, str]]) -> str:
        return f"{self.base_url}{AUTHORIZE_PATH}?{_form_text(pairs)}"

    async def _form_request(self, request: web.Request) -> tuple[str, str, dict[str, str]] | web.Response:
        """The uri, body and headers oauthlib gets for a form POST, or the refusal of anything else."""
        if request.content_type != _FORM_CONTENT_TYPE:
            error = InvalidRequestError(description=f"the body must be {_FORM_CONTENT_TYPE}")
            return _oauth_error(error)
        body = _form_text(parse_qsl(await request.text(), keep_blank_values=True))
        # The query goes through as sent: oauthlib refuses parameters in the URL of a POST.
        return f"{self.base_url}{request.raw_path}", body, dict(request.headers)

    # -- handlers

    async def _handle_authorize_page(self, request: web.Request) -> web.Response:
        early = await self._enter("authorize", request)
        if early is not None:
            return early
        uri = self._authorize_uri(request.query.items())
        try:
            scopes, _info = self._authorization_endpoint.validate_authorization_request(uri)
        except FatalClientError as error:
            # RFC 6749 §4.1.2.1: with an unknown client or redirect URI, tell the person, never redirect.
            return _error_page(error.description)
        except OAuth2Error as error:
            return _page(302, location=error.in_uri(error.redirect_uri))
        return _authorize_page(request.query.items(), scopes)

    async def _handle_authorize_decision(self, request: web.Request) -> web.Response:
        early = await self._enter("authorize_decision", request)
        if early is not None:
            return early
        form = await request.post()
        action = form.get("action")
        if action not in ("approve", "deny"):
            return _error_page("The authorization form was incomplete.")
        # No session or CSRF token: the demo has a single, always signed-in user and no real account.
        # The request is validated again from the form, so a decision needs everything the page needed.
        uri = self._authorize_uri((k, v) for k, v in form.items() if k in _AUTHORIZE_PARAMS and isinstance(v, str))
        try:
            if action == "deny":
                _scopes, info = self._authorization_endpoint.validate_authorization_request(uri)
                denied = AccessDeniedError(description="The user denied the request.", request=info["request"])
                return _page(302, location=denied.in_uri(denied.redirect_uri))
            headers, _body, _status = self._authorization_endpoint.create_authorization_response(
                uri, credentials={"user": _DEMO_USER}
            )
        except FatalClientError as error:
            return _error_page(error.description)
        except OAuth2Error as error:
            return _page(302, location=error.in_uri(error.redirect_uri))
        return _page(302, location=headers["Location"])

    async def _handle_token(self, request: web.Request) -> web.Response:
        early = await self._enter("token", request)
        if early is not None:
            return early
        parts = await self._form_request(request)
        if isinstance(parts, web.Response):
            return parts
        uri, body, headers = parts
        try:
            return _oauthlib_answer(*self._token_endpoint.create_token_response(uri, "POST", body, headers))
        except OAuth2Error as error:  # raised, not answered, for a bad method or a query on the POST
            return _oauth_error(error)
        except ValueError:  # oauthlib's word for a query it cannot decode
            return _oauth_error(InvalidRequestError(description="the request could not be decoded"))

    async def _handle_revoke(self, request: web.Request) -> web.Response:
        early = await self._enter("revoke", request)
        if early is not None:
            return early
        parts = await self._form_request(request)
        if isinstance(parts, web.Response):
            return parts
        uri, body, headers = parts
        try:
            headers, text, status = self._revocation_endpoint.create_revocation_response(uri, "POST", body, headers)
        except OAuth2Error as error:  # also a token of another client, refused by revoke_token
            return _oauth_error(error)
        except ValueError:
            return _oauth_error(InvalidRequestError(description="the request could not be decoded"))
        if status != 200:
            return _oauthlib_answer(headers, text, status)
        return web.json_response({"revoked": True})  # X's answer; RFC 7009 only asks for the 200

    async def _bearer(self, name: str, request: web.Request) -> web.Response | Any:
        """Check the bearer token (from the Authorization header only, as on X): a Response is the refusal."""
        early = await self._enter(name, request)
        if early is not None:
            return early
        header = request.headers.get("Authorization", "")
        if not header.lower().startswith("bearer "):
            return _bearer_refusal(401, None)
        # Only the header goes to oauthlib, so a token in the query or body is never looked at.
        valid, checked = self._resource_endpoint.verify_request(
            f"{self.base_url}{request.path}", request.method, None, {"Authorization": header}
        )
        if not valid:
            return _bearer_refusal(401, "invalid_token")
        return checked

    async def _handle_users_me(self, request: web.Request) -> web.Response:
        checked = await self._bearer("users_me", request)
        if isinstance(checked, web.Response):
            return checked
        if not set(USERS_ME_SCOPES) <= set(checked.token_scopes):
            return _bearer_refusal(403, "insufficient_scope")
        user: _User = checked.user
        return web.json_response({"data": {"id": user.id, "name": user.name, "username": user.username}})

    async def _handle_echo(self, request: web.Request) -> web.Response:
        checked = await self._bearer("echo", request)
        if isinstance(checked, web.Response):
            return checked
        raw = await request.read()
        form: list[tuple[str, str]] = []
        body: Any = None
        if request.content_type == _FORM_CONTENT_TYPE:
            form = parse_qsl(raw.decode("utf-8", errors="replace"), keep_blank_values=True)
        elif request.content_type == "application/json" and raw:
            try:
                body = json.loads(raw)
            except ValueError:
                return web.json_response({"title": "Invalid Request", "status": 400}, status=400)
        user: _User = checked.user
        return web.json_response(
            {
                "method": request.method,
                "query": params_object(request.query.items()),
                "form": params_object(form),
                "json": body,
                "user": {"id": user.id, "username": user.username},
                "client_id": checked.client_id,
            }
        )
