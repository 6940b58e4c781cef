"""The embedded demo provider: a real OAuth 1.0a server on loopback.

It imitates Twitter's endpoints and answers (see PROVIDERS.md) on top of
oauthlib's server endpoints, so every signature is really verified (RFC 5849
§3.4). ``loopauth demo`` logs into it, the test suite uses it as the provider
fixture, and the benchmark drives it. All state lives in memory and is only
touched from the event loop: oauthlib's endpoints are synchronous, so each
check-and-update of a token runs without interleaving and needs no lock.

Nothing here logs; the aiohttp access log is off because the authorize URL
carries the request token in its query.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import functools
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from html import escape
from html.parser import HTMLParser
from typing import Any, Self
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit, urlunsplit

import aiohttp
from aiohttp import web
from oauthlib.common import UNICODE_ASCII_CHARACTER_SET, generate_token, safe_string_equals
from oauthlib.oauth1 import (
    AccessTokenEndpoint,
    AuthorizationEndpoint,
    OAuth1Error,
    RequestTokenEndpoint,
    RequestValidator,
    ResourceEndpoint,
)
from oauthlib.oauth1.rfc5849.signature import collect_parameters
from yarl import URL

from .models import Provider
from .pages import SECURITY_HEADERS, render

__all__ = [
    "DEMO_CONSUMER_KEY",
    "DEMO_CONSUMER_SECRET",
    "DEMO_SCREEN_NAME",
    "DEMO_USER_ID",
    "DemoProvider",
    "Failure",
    "PlayUserError",
    "play_user",
]

# Public on purpose: the demo app's credentials are printed by ``loopauth demo``.
DEMO_CONSUMER_KEY = "loopauth-demo-consumer-key"
DEMO_CONSUMER_SECRET = "loopauth-demo-consumer-secret-not-secret"
DEMO_USER_ID = "1234567890"
DEMO_SCREEN_NAME = "loopauth_demo"
DEMO_APP_NAME = "loopauth demo app"

# Requests whose timestamp is further than this from the server clock are refused
# (Twitter's code 135); it also bounds how long a nonce must be remembered.
TIMESTAMP_LIFETIME = 600

REQUEST_TOKEN_PATH = "/oauth/request_token"
AUTHORIZE_PATH = "/oauth/authorize"
ACCESS_TOKEN_PATH = "/oauth/access_token"
VERIFY_PATH = "/1.1/account/verify_credentials.json"
REVOKE_PATH = "/1.1/oauth/invalidate_token"
ECHO_PATH = "/1.1/echo"

# Endpoints that answer programs; the HTML authorize pages are for a person, so
# the simulated round trip (``delay``) does not apply to them.
_API_ENDPOINTS = frozenset({"request_token", "access_token", "verify", "revoke", "echo"})

_FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"

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


@dataclass
class Failure:
    """A canned misbehaviour: answer this instead of doing the real work."""

    status: int
    body: str
    content_type: str = "text/plain"


class PlayUserError(RuntimeError):
    """The scripted browser met something a person would not expect to see."""


# --- the in-memory store behind oauthlib ------------------------------------------------------------------------


@dataclass
class _Client:
    secret: str = field(repr=False)
    rsa_public_key: str | None = None


@dataclass
class _RequestToken:
    client_key: str
    secret: str = field(repr=False)
    callback: str
    verifier: str | None = field(default=None, repr=False)


@dataclass
class _AccessToken:
    token: str = field(repr=False)
    client_key: str
    secret: str = field(repr=False)
    user_id: str
    screen_name: str
    revoked: bool = False


class _Validator(RequestValidator):  # type: ignore[misc]  # oauthlib is untyped
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
        self.clients: dict[str, _Client] = {}
        self.request_tokens: dict[str, _RequestToken] = {}
        self.access_tokens: dict[str, _AccessToken] = {}
        self.issued_access_tokens: list[str] = []
        self.revoked_access_tokens: set[str] = set()
        # (client key, timestamp, nonce, token) -> timestamp, per RFC 5849 §3.3.
        self._nonces: dict[tuple[str, str, str, str], int] = {}
        self._prune_at = 10_000
        self._dummy_client = _Client(secret=generate_token(), rsa_public_key=_DUMMY_RSA_PUBLIC_KEY)
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
        self.request_tokens[token["oauth_token"]] = _RequestToken(
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
        self.access_tokens[token["oauth_token"]] = _AccessToken(
            token=token["oauth_token"],
            client_key=request.client_key,
            secret=token["oauth_token_secret"],
            user_id=token["user_id"],
            screen_name=token["screen_name"],
        )
        self.issued_access_tokens.append(token["oauth_token"])

    def validate_access_token(self, client_key: str, token: str, request: Any) -> bool:
        record = self.access_tokens.get(token)
        return record is not None and record.client_key == client_key and not record.revoked

    def get_access_token_secret(self, client_key: str, token: str, request: Any) -> str:
        record = self.access_tokens.get(token)
        return record.secret if record is not None and record.client_key == client_key else self._dummy_secret


# --- responses --------------------------------------------------------------------------------------------------


def _twitter_error(code: int, message: str, status: int = 401) -> web.Response:
    return web.json_response({"errors": [{"code": code, "message": message}]}, status=status)


def _not_authenticated() -> web.Response:
    return _twitter_error(32, "Could not authenticate you.")


def _page(status: int, html_text: str, extra_headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(status=status, body=html_text.encode(), headers={**SECURITY_HEADERS, **(extra_headers or {})})


def _redirect(location: str) -> web.Response:
    return web.Response(status=302, headers={**SECURITY_HEADERS, "Location": location})


def _append_query(url: str, name: str, value: str) -> str:
    """Add one parameter, leaving the callback's own query exactly as the client wrote it."""
    parts = urlsplit(url)
    extra = urlencode({name: value})
    query = f"{parts.query}&{extra}" if parts.query else extra
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


def _json_params(pairs: list[tuple[str, str]]) -> dict[str, str | list[str]]:
    """Decoded parameters as a JSON object; a repeated name keeps all its values."""
    out: dict[str, str | list[str]] = {}
    for name, value in pairs:
        if name.startswith("oauth_"):
            continue
        previous = out.get(name)
        if previous is None:
            out[name] = value
        elif isinstance(previous, list):
            previous.append(value)
        else:
            out[name] = [previous, value]
    return out


@dataclass(frozen=True)
class _Signed:
    """A request exactly as the client sent it, which is what RFC 5849 §3.4.1 signs."""

    uri: str
    method: str
    body: str
    headers: dict[str, str]

    @property
    def is_form(self) -> bool:
        content_type = {k.lower(): v for k, v in self.headers.items()}.get("content-type", "")
        return content_type.split(";")[0].strip().lower() == _FORM_CONTENT_TYPE

    def timestamp_out_of_bounds(self) -> bool:
        try:
            params = collect_parameters(
                uri_query=urlsplit(self.uri).query, body=self.body if self.is_form else None, headers=self.headers
            )
        except ValueError:
            return False  # malformed: oauthlib will refuse it with the generic error
        timestamp = dict(params).get("oauth_timestamp", "")
        return timestamp.isdigit() and abs(time.time() - int(timestamp)) > TIMESTAMP_LIFETIME


async def _signed(request: web.Request) -> _Signed:
    # raw_path is the request target byte for byte; request.url would be re-quoted
    # by yarl and could then differ from what the client signed.
    raw = await request.read()
    return _Signed(
        uri=f"{request.scheme}://{request.host}{request.raw_path}",
        method=request.method,
        body=raw.decode("utf-8", errors="replace"),
        headers=dict(request.headers),
    )


# --- the server -------------------------------------------------------------------------------------------------


class DemoProvider:
    """The demo provider, served on ``host:port`` (port 0 picks a free one) once started."""

    def __init__(
        self, *, host: str = "127.0.0.1", port: int = 0, delay: float = 0.0, rsa_public_key: str | None = None
    ) -> None:
        self.host = host
        self.port = port
        self.delay = delay
        self.consumer_key = DEMO_CONSUMER_KEY
        self.consumer_secret = DEMO_CONSUMER_SECRET
        self.failures: dict[str, Failure] = {}
        self.callback_confirmed: str | None = "true"
        self.hang: set[str] = set()
        self.calls: collections.Counter[str] = collections.Counter()
        self.last_request_headers: dict[str, dict[str, str]] = {}
        # Decoded query parameters of the last hit per endpoint, so tests can see what a client asked for.
        self.last_request_queries: dict[str, dict[str, str]] = {}
        self._validator = _Validator()
        self.register_client(DEMO_CONSUMER_KEY, DEMO_CONSUMER_SECRET, rsa_public_key=rsa_public_key)
        self._signature_method = "RSA-SHA1" if rsa_public_key else "HMAC-SHA1"
        self._request_token_endpoint = RequestTokenEndpoint(self._validator)
        self._authorization_endpoint = AuthorizationEndpoint(self._validator)
        self._access_token_endpoint = AccessTokenEndpoint(self._validator)
        self._resource_endpoint = ResourceEndpoint(self._validator)
        self._runner: web.AppRunner | None = None
        self._base_url: str | None = None
        self._closing = asyncio.Event()

    # -- lifecycle

    async def start(self) -> None:
        if self._runner is not None:
            raise RuntimeError("the demo provider is already running")
        self._closing = asyncio.Event()
        app = web.Application()
        app.router.add_post(REQUEST_TOKEN_PATH, self._handle_request_token)
        app.router.add_get(AUTHORIZE_PATH, self._handle_authorize_page)
        app.router.add_post(AUTHORIZE_PATH, self._handle_authorize_decision)
        app.router.add_post(ACCESS_TOKEN_PATH, self._handle_access_token)
        app.router.add_get(VERIFY_PATH, self._handle_verify)
        app.router.add_post(REVOKE_PATH, self._handle_revoke)
        app.router.add_route("*", ECHO_PATH, self._handle_echo)
        # No access log: it would print the request token from the authorize URL.
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=5.0)
        await runner.setup()
        try:
            await web.TCPSite(runner, self.host, self.port).start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        port = runner.addresses[0][1]
        host = f"[{self.host}]" if ":" in self.host else self.host
        self._base_url = f"http://{host}:{port}"

    async def close(self) -> None:
        # Release hanging and delayed handlers first, so shutdown does not wait on them.
        self._closing.set()
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    # -- what clients need

    @property
    def base_url(self) -> str:
        if self._base_url is None:
            raise RuntimeError("the demo provider has not been started")
        return self._base_url

    @property
    def provider(self) -> Provider:
        base = self.base_url
        return Provider(
            name="demo",
            request_token_url=base + REQUEST_TOKEN_PATH,
            authorize_url=base + AUTHORIZE_PATH,
            access_token_url=base + ACCESS_TOKEN_PATH,
            verify_url=base + VERIFY_PATH,
            revoke_url=base + REVOKE_PATH,
            signature_method=self._signature_method,
        )

    @property
    def echo_url(self) -> str:
        return self.base_url + ECHO_PATH

    def register_client(self, key: str, secret: str, *, rsa_public_key: str | None = None) -> None:
        """Add (or replace) a consumer; RSA-SHA1 consumers also give their PEM public key."""
        if not self._validator.check_client_key(key):
            raise ValueError("a consumer key must be 8 to 64 letters, digits or '-._~'")
        self._validator.clients[key] = _Client(secret=secret, rsa_public_key=rsa_public_key)

    # -- observation for tests

    @property
    def issued_access_tokens(self) -> list[str]:
        """Every access token handed out, oldest first."""
        return list(self._validator.issued_access_tokens)

    @property
    def revoked_access_tokens(self) -> set[str]:
        return set(self._validator.revoked_access_tokens)

    # -- shared preamble

    async def _enter(self, name: str, request: web.Request) -> web.Response | None:
        """Count and record the hit, then misbehave as configured; None means carry on."""
        self.calls[name] += 1
        self.last_request_headers[name] = dict(request.headers)
        self.last_request_queries[name] = dict(request.query)
        if name in self.hang:
            await self._closing.wait()
            return web.Response(status=503, text="the demo provider is shutting down")
        if name in _API_ENDPOINTS and self.delay > 0:
            # Cut short by close(), so a slow test server never delays teardown.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closing.wait(), self.delay)
        failure = self.failures.get(name)
        if failure is not None:
            return web.Response(
                status=failure.status, body=failure.body.encode(), headers={"Content-Type": failure.content_type}
            )
        return None

    async def _token_response(
        self, name: str, request: web.Request, create: Callable[..., tuple[dict[str, str], str | None, int]]
    ) -> tuple[web.Response | None, list[tuple[str, str]]]:
        """Run one of oauthlib's token endpoints; a Response is an early answer, else the token's fields."""
        early = await self._enter(name, request)
        if early is not None:
            return early, []
        signed = await _signed(request)
        if signed.timestamp_out_of_bounds():
            return _twitter_error(135, "Timestamp out of bounds."), []
        try:
            _headers, body, status = create(signed.uri, signed.method, signed.body, signed.headers)
        except ValueError:
            # oauthlib lets a plain ValueError out for bad percent-encoding or base64.
            return _not_authenticated(), []
        if status == 401 or body is None:
            return _not_authenticated(), []
        if status != 200:
            return web.Response(status=status, text=body, content_type=_FORM_CONTENT_TYPE), []
        return None, parse_qsl(body, keep_blank_values=True)

    # -- handlers

    async def _handle_request_token(self, request: web.Request) -> web.Response:
        early, fields = await self._token_response(
            "request_token", request, self._request_token_endpoint.create_request_token_response
        )
        if early is not None:
            return early
        fields = [(k, v) for k, v in fields if k != "oauth_callback_confirmed"]
        if self.callback_confirmed is not None:
            fields.append(("oauth_callback_confirmed", self.callback_confirmed))
        return web.Response(text=urlencode(fields), content_type=_FORM_CONTENT_TYPE)

    async def _handle_access_token(self, request: web.Request) -> web.Response:
        # Twitter's access token starts with the user id; extra credentials end up
        # both in the response and in save_access_token.
        credentials = {
            "oauth_token": f"{DEMO_USER_ID}-{generate_token()}",
            "user_id": DEMO_USER_ID,
            "screen_name": DEMO_SCREEN_NAME,
        }

        create = functools.partial(self._access_token_endpoint.create_access_token_response, credentials=credentials)
        early, fields = await self._token_response("access_token", request, create)
        if early is not None:
            return early
        # oauthlib adds an OAuth 2 style realms field that Twitter never sends.
        fields = [(k, v) for k, v in fields if k != "oauth_authorized_realms"]
        return web.Response(text=urlencode(fields), content_type=_FORM_CONTENT_TYPE)

    async def _handle_authorize_page(self, request: web.Request) -> web.Response:
        early = await self._enter("authorize", request)
        if early is not None:
            return early
        # Extra parameters (force_login, screen_name, ...) are accepted and ignored.
        token = request.query.get("oauth_token", "")
        if not self._validator.verify_request_token(token, None):
            return _invalid_token_page()
        app = escape(DEMO_APP_NAME)
        form = (
            f"<p>If you authorize it, {app} will be able to:</p>"
            "<ul><li>read your profile</li><li>act for you</li></ul>"
            f'<form method="post" action="{AUTHORIZE_PATH}">'
            f'<input type="hidden" name="oauth_token" value="{escape(token, quote=True)}">'
            '<button type="submit" name="action" value="approve" class="primary">Authorize app</button>'
            '<button type="submit" name="action" value="deny">Deny</button>'
            "</form>"
            # Say where each button leads, so neither choice is a step into the unknown.
            '<p class="muted">Either choice takes you back to loopauth, which finishes the login.</p>'
        )
        page = render(
            "info",
            f"Authorize {DEMO_APP_NAME}?",
            f"{DEMO_APP_NAME} wants to use your account @{DEMO_SCREEN_NAME} on the demo provider.",
            body_html=form,
            footer="loopauth demo provider: it runs on your machine, and no real account is involved.",
        )
        return _page(200, page)

    async def _handle_authorize_decision(self, request: web.Request) -> web.Response:
        early = await self._enter("authorize_decision", request)
        if early is not None:
            return early
        form = await request.post()
        token = form.get("oauth_token")
        action = form.get("action")
        # No session or CSRF token: the demo has a single, always signed-in user.
        if not isinstance(token, str) or action not in ("approve", "deny"):
            return _page(400, render("error", "Bad request", "The authorization form was incomplete."))
        if not self._validator.verify_request_token(token, None):
            return _invalid_token_page()
        callback = self._validator.request_tokens[token].callback
        if action == "deny":
            # Twitter kills the request token and sends the user back with ?denied=.
            self._validator.invalidate_request_token("", token, None)
            if callback == "oob":
                return _page(200, render("denied", "Authorization denied", f"{DEMO_APP_NAME} was not given access."))
            return _redirect(_append_query(callback, "denied", token))
        # For oob the verifier is a PIN the person types, so make it Twitter's 7 digits.
        credentials = {"oauth_verifier": f"{secrets.randbelow(10**7):07d}"} if callback == "oob" else {}
        uri = f"{request.scheme}://{request.host}{AUTHORIZE_PATH}?{urlencode({'oauth_token': token})}"
        try:
            headers, body, status = self._authorization_endpoint.create_authorization_response(
                uri, http_method="GET", credentials=credentials
            )
        except (OAuth1Error, ValueError):
            return _invalid_token_page()
        if status == 302:
            return _redirect(headers["Location"])
        verifier = dict(parse_qsl(body))["oauth_verifier"]
        page = render(
            "success",
            f"You authorized {DEMO_APP_NAME}",
            f"Enter this PIN in {DEMO_APP_NAME} to finish logging in.",
            detail=verifier,
        )
        return _page(200, page)

    async def _authenticate(self, name: str, request: web.Request) -> web.Response | tuple[_AccessToken, _Signed]:
        """Check a signed API call: a Response is the refusal, else whose token it was and the request."""
        early = await self._enter(name, request)
        if early is not None:
            return early
        signed = await _signed(request)
        if signed.timestamp_out_of_bounds():
            return _twitter_error(135, "Timestamp out of bounds.")
        try:
            valid, checked = self._resource_endpoint.validate_protected_resource_request(
                signed.uri, signed.method, signed.body, signed.headers
            )
        except ValueError:
            valid = False
        if not valid:
            return _not_authenticated()
        return self._validator.access_tokens[checked.resource_owner_key], signed

    async def _handle_verify(self, request: web.Request) -> web.Response:
        checked = await self._authenticate("verify", request)
        if isinstance(checked, web.Response):
            return checked
        user, _ = checked
        return web.json_response(
            {"id": int(user.user_id), "id_str": user.user_id, "screen_name": user.screen_name, "name": "loopauth demo"}
        )

    async def _handle_revoke(self, request: web.Request) -> web.Response:
        checked = await self._authenticate("revoke", request)
        if isinstance(checked, web.Response):
            return checked
        user, _ = checked
        user.revoked = True
        self._validator.revoked_access_tokens.add(user.token)
        return web.json_response({"access_token": user.token})

    async def _handle_echo(self, request: web.Request) -> web.Response:
        checked = await self._authenticate("echo", request)
        if isinstance(checked, web.Response):
            return checked
        user, signed = checked
        query = parse_qsl(urlsplit(signed.uri).query, keep_blank_values=True)
        form = parse_qsl(signed.body, keep_blank_values=True) if signed.is_form else []
        return web.json_response(
            {
                "method": signed.method,
                "query": _json_params(query),
                "form": _json_params(form),
                "user_id": user.user_id,
                "screen_name": user.screen_name,
            }
        )


def _invalid_token_page() -> web.Response:
    page = render(
        "error",
        "This authorization link is no longer valid",
        "The request token is unknown, was already used, or was denied.",
        next_step="Start the login again from the app.",
    )
    return _page(400, page)


# --- a scripted person ------------------------------------------------------------------------------------------


@dataclass
class _Form:
    action: str
    method: str
    fields: list[tuple[str, str]] = field(default_factory=list)
    buttons: list[tuple[str, str]] = field(default_factory=list)


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[_Form] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        if tag == "form":
            self.forms.append(_Form(action=attributes.get("action", ""), method=attributes.get("method", "get")))
        elif self.forms and tag == "input" and attributes.get("type", "").lower() == "hidden":
            self.forms[-1].fields.append((attributes.get("name", ""), attributes.get("value", "")))
        elif self.forms and tag == "button" and "name" in attributes:
            self.forms[-1].buttons.append((attributes["name"], attributes.get("value", "")))


def _no_query(url: URL) -> str:
    # Error messages may be printed; the query holds the request token and verifier.
    return str(url.with_query(None).with_fragment(None))


async def play_user(start_url: str, *, approve: bool = True) -> str:
    """Act as the person in the browser, with aiohttp.ClientSession: GET start_url following redirects (the
    client's own local start page may 302 to the provider's authorize page), find the form on the authorize
    page, submit Authorize or Deny, and follow the provider's redirect to the callback. Return the final
    callback response body text (for an ``oob`` callback: the provider's PIN or denied page). Raise
    PlayUserError if something unexpected happens."""
    choice = "approve" if approve else "deny"
    # A bounded wait, so a test whose server never answers fails instead of hanging;
    # callers wanting a shorter one wrap the call in asyncio.timeout().
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
        async with session.get(start_url) as page:
            text = await page.text()
            page_url = page.url
            if page.status != 200:
                raise PlayUserError(f"the authorize page at {_no_query(page_url)} answered {page.status}: {text[:300]}")
        parser = _FormParser()
        parser.feed(text)
        parser.close()
        chosen = [(form, button) for form in parser.forms for button in form.buttons if button[1] == choice]
        if not chosen:
            raise PlayUserError(f"no form with a {choice!r} button on the page at {_no_query(page_url)}")
        form, button = chosen[0]
        if form.method.lower() != "post":
            raise PlayUserError(f"the authorize form uses {form.method!r}, expected post")
        target = urljoin(str(page_url), form.action)
        async with session.post(target, data=[*form.fields, button], allow_redirects=False) as decision:
            text = await decision.text()
            location = decision.headers.get("Location")
            if decision.status == 200:
                return text  # out of band: the provider shows the PIN or the refusal itself
            if decision.status not in (301, 302, 303, 307, 308) or not location:
                raise PlayUserError(f"submitting {choice!r} answered {decision.status}: {text[:300]}")
        # The Location is already encoded; requoting it could change what the callback sees.
        async with session.get(URL(urljoin(target, location), encoded=True)) as callback:
            text = await callback.text()
            if callback.status >= 500:
                raise PlayUserError(
                    f"the callback {_no_query(callback.url)} failed with {callback.status}: {text[:300]}"
                )
            return text
