"""The embedded demo provider: a real OAuth 1.0a server on loopback, imitating Twitter's endpoints and answers.

It is built on oauthlib's server endpoints (:mod:`.validator` holds its state), so every signature
is really verified (RFC 5849 §3.4). ``loopauth demo`` logs into it, the test suite uses it as the
provider fixture, and the benchmark drives it.

Nothing here logs; the aiohttp access log is off because the authorize URL carries the request
token in its query.
"""

from __future__ import annotations

import functools
import secrets
import ssl
import time
from collections.abc import Awaitable, Callable
from html import escape
from typing import ClassVar
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
from . import api
from .api import Signed, twitter_error
from .base import DemoServer
from .constants import DEMO_APP_NAME, DEMO_CONSUMER_KEY, DEMO_CONSUMER_SECRET, DEMO_SCREEN_NAME, DEMO_USER_ID
from .pages import SECURITY_HEADERS, render
from .validator import TIMESTAMP_LIFETIME, AccessTokenRecord, ClientRecord, Validator

REQUEST_TOKEN_PATH = "/oauth/request_token"
AUTHORIZE_PATH = "/oauth/authorize"
AUTHENTICATE_PATH = "/oauth/authenticate"
ACCESS_TOKEN_PATH = "/oauth/access_token"
VERIFY_PATH = "/1.1/account/verify_credentials.json"
REVOKE_PATH = "/1.1/oauth/invalidate_token"
ECHO_PATH = "/1.1/echo"

# Endpoints that answer programs; the HTML authorize pages are for a person, so
# the simulated round trip (``delay``) does not apply to them.
_API_ENDPOINTS = frozenset({"request_token", "access_token", "verify", "revoke"} | {r[2] for r in api.ROUTES})
_HTML_PATHS = frozenset({AUTHORIZE_PATH, AUTHENTICATE_PATH})

_FORM_CONTENT_TYPE = api.FORM_CONTENT_TYPE
CALLBACK_NOT_APPROVED = (
    "Callback URL not approved for this client application. "
    "Approved callback URLs can be adjusted in your application settings"
)


# --- responses --------------------------------------------------------------------------------------------------


def _twitter_error(code: int, message: str, status: int = 401) -> web.Response:
    return twitter_error(code, message, status)


def _not_authenticated() -> web.Response:
    return _twitter_error(32, "Could not authenticate you.")


def _page(status: int, html_text: str, extra_headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(status=status, body=html_text.encode(), headers={**SECURITY_HEADERS, **(extra_headers or {})})


def _redirect(location: str) -> web.Response:
    return web.Response(status=302, headers={**SECURITY_HEADERS, "Location": location})


def _timestamp_out_of_bounds(signed: Signed) -> bool:
    try:
        params = collect_parameters(
            uri_query=urlsplit(signed.uri).query, body=signed.body if signed.is_form else None, headers=signed.headers
        )
    except ValueError:
        return False  # malformed: oauthlib will refuse it with the generic error
    timestamp = dict(params).get("oauth_timestamp", "")
    return timestamp.isdigit() and abs(time.time() - int(timestamp)) > TIMESTAMP_LIFETIME


def _oauth_callback(signed: Signed) -> str | None:
    try:
        params = collect_parameters(
            uri_query=urlsplit(signed.uri).query, body=signed.form or None, headers=signed.headers
        )
    except ValueError:
        return None
    return dict(params).get("oauth_callback")


@web.middleware
async def _json_errors(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """Unknown paths and methods answer as Twitter's API does, in JSON (the authorize pages stay HTML)."""
    try:
        return await handler(request)
    except web.HTTPNotFound:
        if request.path in _HTML_PATHS:
            raise
        return _twitter_error(34, "Sorry, that page does not exist.", 404)
    except web.HTTPMethodNotAllowed as exc:
        if request.path in _HTML_PATHS:
            raise
        response = _twitter_error(405, f"{request.method} is not allowed here.", 405)
        response.headers["Allow"] = ", ".join(sorted(exc.allowed_methods))
        return response


async def _signed(request: web.Request) -> Signed:
    # raw_path is the request target byte for byte; request.url would be re-quoted
    # by yarl and could then differ from what the client signed.
    raw = await request.read()
    return Signed(
        uri=f"{request.scheme}://{request.host}{request.raw_path}",
        method=request.method,
        body=raw.decode("utf-8", errors="replace"),
        headers=dict(request.headers),
        raw=raw,
    )


# --- the server -------------------------------------------------------------------------------------------------


class DemoProvider(DemoServer):
    """The OAuth 1.0a demo provider, served on ``host:port`` (port 0 picks a free one) once started."""

    API_ENDPOINTS = _API_ENDPOINTS
    validator_class: ClassVar[type[Validator]] = Validator
    """What holds the provider's state and applies oauthlib's rules; a subclass may extend it."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        delay: float = 0.0,
        rsa_public_key: str | None = None,
        ssl_context: ssl.SSLContext | None = None,
        registered_callback: str | None = None,
    ) -> None:
        # ssl_context: serve https (``loopauth demo --serve --https``: a throwaway certificate).
        super().__init__(host=host, port=port, delay=delay, ssl_context=ssl_context)
        self.registered_callback = registered_callback
        """Like an app's registered callback on Twitter: any other (but ``oob``) gets 403 with error 415."""
        self.api_state = api.State()
        self._approved_clients: set[str] = set()
        self.consumer_key = DEMO_CONSUMER_KEY
        self.consumer_secret = DEMO_CONSUMER_SECRET
        self.screen_name = DEMO_SCREEN_NAME
        """What the access-token answer (and so verify) calls the user; tests make it hostile."""
        self._validator = self.validator_class()
        self.register_client(DEMO_CONSUMER_KEY, DEMO_CONSUMER_SECRET, rsa_public_key=rsa_public_key)
        self._signature_method = "RSA-SHA1" if rsa_public_key else "HMAC-SHA1"
        self._request_token_endpoint = RequestTokenEndpoint(self._validator)
        self._authorization_endpoint = AuthorizationEndpoint(self._validator)
        self._access_token_endpoint = AccessTokenEndpoint(self._validator)
        self._resource_endpoint = ResourceEndpoint(self._validator)

    def app(self) -> web.Application:
        app = web.Application(middlewares=[_json_errors])
        app.router.add_post(REQUEST_TOKEN_PATH, self._handle_request_token)
        app.router.add_get(AUTHORIZE_PATH, self._handle_authorize_page)
        app.router.add_post(AUTHORIZE_PATH, self._handle_authorize_decision)
        app.router.add_get(AUTHENTICATE_PATH, self._handle_authenticate)
        app.router.add_post(ACCESS_TOKEN_PATH, self._handle_access_token)
        app.router.add_get(VERIFY_PATH, self._handle_verify)
        app.router.add_post(REVOKE_PATH, self._handle_revoke)
        for method, path, name, handler in api.ROUTES:
            app.router.add_route(method, path, functools.partial(self._handle_api, name, handler))
        return app

    # -- what clients need

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

    @property
    def authenticate_url(self) -> str:
        """Sign in with Twitter: like the authorize page, but an app the user approved before is let through."""
        return self.base_url + AUTHENTICATE_PATH

    def register_client(self, key: str, secret: str, *, rsa_public_key: str | None = None) -> None:
        """Add (or replace) a consumer; RSA-SHA1 consumers also give their PEM public key."""
        if not self._validator.check_client_key(key):
            raise ValueError("a consumer key must be 8 to 64 letters, digits or '-._~'")
        self._validator.clients[key] = ClientRecord(secret=secret, rsa_public_key=rsa_public_key)

    # -- shared preamble

    async def _token_response(
        self, name: str, request: web.Request, create: Callable[..., tuple[dict[str, str], str | None, int]]
    ) -> tuple[web.Response | None, list[tuple[str, str]]]:
        """Run one of oauthlib's token endpoints; a Response is an early answer, else the token's fields."""
        early = await self._enter(name, request)
        if early is not None:
            return early, []
        signed = await _signed(request)
        if _timestamp_out_of_bounds(signed):
            return _twitter_error(135, "Timestamp out of bounds."), []
        if name == "request_token" and self.registered_callback is not None:
            callback = _oauth_callback(signed)
            if callback not in (self.registered_callback, "oob", None):
                return _twitter_error(415, CALLBACK_NOT_APPROVED, 403), []
        try:
            _headers, body, status = create(signed.uri, signed.method, signed.body, signed.headers)
        except ValueError:
            # oauthlib lets a plain ValueError out for bad percent-encoding or base64.
            return _not_authenticated(), []
        if status == 401 or body is None:
            return _not_authenticated(), []
        if status != 200:
            # oauthlib says what was wrong as a form (error=invalid_request&error_description=…); Twitter in JSON.
            problem = dict(parse_qsl(body)).get("error_description") or dict(parse_qsl(body)).get("error", "")
            return _twitter_error(215, f"Bad Authentication data: {problem}".rstrip(": "), status), []
        return None, parse_qsl(body, keep_blank_values=True)

    # -- handlers

    async def _handle_request_token(self, request: web.Request) -> web.Response:
        early, fields = await self._token_response(
            "request_token", request, self._request_token_endpoint.create_request_token_response
        )
        if early is not None:
            return early
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

    async def _handle_authorize_page(self, request: web.Request, *, counted: bool = False) -> web.Response:
        early = None if counted else await self._enter("authorize", request)
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
        return self._approve(request, token)

    async def _handle_authenticate(self, request: web.Request) -> web.Response:
        """Sign in with Twitter: an app this user has approved before goes straight back, with no page."""
        early = await self._enter("authenticate", request)
        if early is not None:
            return early
        token = request.query.get("oauth_token", "")
        record = self._validator.request_tokens.get(token)
        if record is not None and record.verifier is None and record.client_key in self._approved_clients:
            return self._approve(request, token)
        return await self._handle_authorize_page(request, counted=True)

    def _approve(self, request: web.Request, token: str) -> web.Response:
        """The user approved ``token``: back to the callback with a verifier, or the PIN page for oob."""
        record = self._validator.request_tokens[token]
        self._approved_clients.add(record.client_key)
        callback = record.callback
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

    async def _authenticate(self, name: str, request: web.Request) -> web.Response | tuple[AccessTokenRecord, Signed]:
        """Check a signed API call: a Response is the refusal, else whose token it was and the request."""
        early = await self._enter(name, request)
        if early is not None:
            return early
        signed = await _signed(request)
        if _timestamp_out_of_bounds(signed):
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
        return web.json_response({"access_token": user.token})

    async def _handle_api(self, name: str, handler: api.Handler, request: web.Request) -> web.Response:
        checked = await self._authenticate(name, request)
        if isinstance(checked, web.Response):
            return checked
        user, signed = checked
        return await handler(request, user, signed, self.api_state)


def _invalid_token_page() -> web.Response:
    page = render(
        "error",
        "This authorization link is no longer valid",
        "The request token is unknown, was already used, or was denied.",
        next_step="Start the login again from the app.",
    )
    return _page(400, page)
