"""The embedded demo provider: a real OAuth 1.0a server on loopback, imitating Twitter's endpoints and answers.

It is built on oauthlib's server endpoints (:mod:`.validator` holds its state), so every signature
is really verified (RFC 5849 §3.4). ``loopauth demo`` logs into it, the test suite uses it as the
provider fixture, and the benchmark drives it.

Nothing here logs; the aiohttp access log is off because the authorize URL carries the request
token in its query.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import functools
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from html import escape
from typing import Self
from urllib.parse import parse_qsl, urlencode, urlsplit

from aiohttp import web
from oauthlib.common import generate_token
from oauthlib.oauth1 import (
    AccessTokenEndpoint,
    AuthorizationEndpoint,
    OAuth1Error,
    RequestTokenEndpoint,
    ResourceEndpoint,
)
from oauthlib.oauth1.rfc5849.signature import collect_parameters

from ..models import Provider
from ..urls import with_query
from .pages import SECURITY_HEADERS, render
from .validator import TIMESTAMP_LIFETIME, AccessTokenRecord, ClientRecord, Validator

# Public on purpose: the demo app's credentials are printed by ``loopauth demo``.
DEMO_CONSUMER_KEY = "loopauth-demo-consumer-key"
DEMO_CONSUMER_SECRET = "loopauth-demo-consumer-secret-not-secret"
DEMO_USER_ID = "1234567890"
DEMO_SCREEN_NAME = "loopauth_demo"
DEMO_APP_NAME = "loopauth demo app"

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


@dataclass
class Failure:
    """A canned misbehaviour: answer this instead of doing the real work."""

    status: int
    body: str
    content_type: str = "text/plain"


# --- responses --------------------------------------------------------------------------------------------------


def _twitter_error(code: int, message: str, status: int = 401) -> web.Response:
    return web.json_response({"errors": [{"code": code, "message": message}]}, status=status)


def _not_authenticated() -> web.Response:
    return _twitter_error(32, "Could not authenticate you.")


def _page(status: int, html_text: str, extra_headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(status=status, body=html_text.encode(), headers={**SECURITY_HEADERS, **(extra_headers or {})})


def _redirect(location: str) -> web.Response:
    return web.Response(status=302, headers={**SECURITY_HEADERS, "Location": location})


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
        self.screen_name = DEMO_SCREEN_NAME
        """What the access-token answer (and so verify) calls the user; tests make it hostile."""
        self.hang: set[str] = set()
        self.calls: collections.Counter[str] = collections.Counter()
        self.last_request_headers: dict[str, dict[str, str]] = {}
        # Decoded query parameters of the last hit per endpoint, so tests can see what a client asked for.
        self.last_request_queries: dict[str, dict[str, str]] = {}
        self._validator = Validator()
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
        self._validator.clients[key] = ClientRecord(secret=secret, rsa_public_key=rsa_public_key)

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
            "screen_name": self.screen_name,
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
            return _redirect(with_query(callback, {"denied": token}))
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

    async def _authenticate(self, name: str, request: web.Request) -> web.Response | tuple[AccessTokenRecord, _Signed]:
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
