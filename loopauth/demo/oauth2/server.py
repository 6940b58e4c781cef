"""The OAuth 2.0 demo provider's server: its endpoints, and the aiohttp glue around oauthlib's.

Nothing here logs a token: the aiohttp access log is off (the callback redirect carries the code), and
oauthlib's server modules, which log codes and tokens at DEBUG, are held to warnings once a provider starts.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, ClassVar
from urllib.parse import parse_qsl, urlencode

from aiohttp import web
from oauthlib.oauth2 import (
    AuthorizationCodeGrant,
    AuthorizationEndpoint,
    BearerToken,
    FatalClientError,
    InvalidRequestError,
    OAuth2Error,
    RefreshTokenGrant,
    ResourceEndpoint,
    RevocationEndpoint,
    TokenEndpoint,
)
from oauthlib.oauth2.rfc6749.errors import AccessDeniedError

from ...models import OAuth2Provider
from ..base import DemoServer, params_object
from ..constants import ACCESS_TOKEN_LIFETIME, DEMO_OAUTH2_PUBLIC_CLIENT_ID
from ..device import GRANT_TYPE as DEVICE_GRANT_TYPE
from ..device import DemoDeviceFlow
from .pages import (
    AUTHORIZE_PARAMS,
    authorize_page,
    bearer_refusal,
    error_page,
    form_text,
    oauth_error,
    oauthlib_answer,
    page,
)
from .validator import (
    CODE_LIFETIME,
    DEFAULT_REDIRECT_URIS,
    DEMO_OAUTH2_CONFIDENTIAL_CLIENT_ID,
    DEMO_OAUTH2_CONFIDENTIAL_CLIENT_SECRET,
    DEMO_USER,
    OFFLINE_ACCESS,
    SUPPORTED_SCOPES,
    USERS_ME_SCOPES,
    Client,
    User,
    Validator,
    new_token,
    quiet_oauthlib_server_logs,
    s256_only,
    verifier_format,
    x_token_shape,
)

AUTHORIZE_PATH = "/i/oauth2/authorize"
TOKEN_PATH = "/2/oauth2/token"
REVOKE_PATH = "/2/oauth2/revoke"
USERS_ME_PATH = "/2/users/me"
ECHO_PATH = "/2/echo"

# Endpoints that answer programs; the authorize pages are for a person, so the simulated
# round trip (``delay``) does not apply to them.
_API_ENDPOINTS = frozenset({"token", "revoke", "users_me", "echo"})
FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"


@dataclass(frozen=True)
class OAuth2Endpoints:
    """Where a client finds the demo's endpoints."""

    authorize_url: str
    token_url: str
    revoke_url: str
    users_me_url: str
    echo_url: str


class DemoOAuth2Provider(DemoServer):
    """The OAuth 2.0 demo provider, served on ``host:port`` (port 0 picks a free one) once started.

    ``delay`` seconds are added to the API endpoints (``token``, ``revoke``, ``users_me``, ``echo``; not the
    authorize pages); ``access_token_lifetime`` applies to what is issued next.
    """

    API_ENDPOINTS = _API_ENDPOINTS
    validator_class: ClassVar[type[Validator]] = Validator
    """What holds the provider's state and applies oauthlib's rules; a subclass may extend it."""

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
        self._validator = self.validator_class(code_lifetime)
        redirect_uris = tuple(redirect_uris)
        self.register_client(DEMO_OAUTH2_PUBLIC_CLIENT_ID, redirect_uris=redirect_uris)
        self.register_client(
            DEMO_OAUTH2_CONFIDENTIAL_CLIENT_ID, DEMO_OAUTH2_CONFIDENTIAL_CLIENT_SECRET, redirect_uris=redirect_uris
        )
        bearer = BearerToken(
            self._validator,
            token_generator=new_token,
            refresh_token_generator=new_token,
            expires_in=lambda request: self.access_token_lifetime,
        )
        code_grant = AuthorizationCodeGrant(self._validator, pre_auth=[s256_only], pre_token=[verifier_format])
        refresh_grant = RefreshTokenGrant(self._validator, issue_new_refresh_tokens=True)
        for grant in (code_grant, refresh_grant):
            grant.register_token_modifier(x_token_shape)
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
        self.device = DemoDeviceFlow(
            base_url=lambda: self.base_url,
            known_client=lambda client_id: client_id in self._validator.clients,
            supported_scopes=SUPPORTED_SCOPES,
            user=DEMO_USER,
            save_code=lambda client_id, code, request: self._validator.save_authorization_code(
                client_id, {"code": code}, request
            ),
            exchange=self._exchange_form,
        )

    def app(self) -> web.Application:
        quiet_oauthlib_server_logs()
        app = web.Application()
        app.router.add_get(AUTHORIZE_PATH, self._handle_authorize_page)
        app.router.add_post(AUTHORIZE_PATH, self._handle_authorize_decision)
        app.router.add_post(TOKEN_PATH, self._handle_token)
        app.router.add_post(REVOKE_PATH, self._handle_revoke)
        app.router.add_get(USERS_ME_PATH, self._handle_users_me)
        app.router.add_route("*", ECHO_PATH, self._handle_echo)
        self.device.routes(app)
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
            scopes=(*USERS_ME_SCOPES, OFFLINE_ACCESS),
            device_authorization_url=self.device.device_authorization_url,
        )

    def register_client(
        self, client_id: str, secret: str | None = None, *, redirect_uris: Iterable[str] = DEFAULT_REDIRECT_URIS
    ) -> None:
        """Add (or replace) a client: public without a secret, confidential with one."""
        if not client_id:
            raise ValueError("a client id must not be empty")
        if secret == "":
            raise ValueError("a confidential client's secret must not be empty; a public client has None")
        self._validator.clients[client_id] = Client(client_id, secret, tuple(redirect_uris))

    # -- shared preamble

    def _authorize_uri(self, pairs: Iterable[tuple[str, str]]) -> str:
        return f"{self.base_url}{AUTHORIZE_PATH}?{form_text(pairs)}"

    async def _form_request(self, request: web.Request) -> tuple[str, str, dict[str, str]] | web.Response:
        """The uri, body and headers oauthlib gets for a form POST, or the refusal of anything else."""
        if request.content_type != FORM_CONTENT_TYPE:
            error = InvalidRequestError(description=f"the body must be {FORM_CONTENT_TYPE}")
            return oauth_error(error)
        body = form_text(parse_qsl(await request.text(), keep_blank_values=True))
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
            return error_page(error.description)
        except OAuth2Error as error:
            return page(302, location=error.in_uri(error.redirect_uri))
        return authorize_page(request.query.items(), scopes, AUTHORIZE_PATH)

    async def _handle_authorize_decision(self, request: web.Request) -> web.Response:
        early = await self._enter("authorize_decision", request)
        if early is not None:
            return early
        form = await request.post()
        action = form.get("action")
        if action not in ("approve", "deny"):
            return error_page("The authorization form was incomplete.")
        # No session or CSRF token: the demo has a single, always signed-in user and no real account.
        # The request is validated again from the form, so a decision needs everything the page needed.
        uri = self._authorize_uri((k, v) for k, v in form.items() if k in AUTHORIZE_PARAMS and isinstance(v, str))
        try:
            if action == "deny":
                _scopes, info = self._authorization_endpoint.validate_authorization_request(uri)
                denied = AccessDeniedError(description="The user denied the request.", request=info["request"])
                return page(302, location=denied.in_uri(denied.redirect_uri))
            headers, _body, _status = self._authorization_endpoint.create_authorization_response(
                uri, credentials={"user": DEMO_USER}
            )
        except FatalClientError as error:
            return error_page(error.description)
        except OAuth2Error as error:
            return page(302, location=error.in_uri(error.redirect_uri))
        return page(302, location=headers["Location"])

    async def _handle_token(self, request: web.Request) -> web.Response:
        early = await self._enter("token", request)
        if early is not None:
            return early
        parts = await self._form_request(request)
        if isinstance(parts, web.Response):
            return parts
        uri, body, headers = parts
        form = parse_qsl(body, keep_blank_values=True)
        if ("grant_type", DEVICE_GRANT_TYPE) in form:
            return self.device.token(form, headers)
        try:
            return oauthlib_answer(*self._token_endpoint.create_token_response(uri, "POST", body, headers))
        except OAuth2Error as error:  # raised, not answered, for a bad method or a query on the POST
            return oauth_error(error)
        except ValueError:  # oauthlib's word for a query it cannot decode
            return oauth_error(InvalidRequestError(description="the request could not be decoded"))

    def _exchange_form(self, form: list[tuple[str, str]], headers: dict[str, str]) -> web.Response:
        """The token endpoint's answer to ``form`` (the device grant's own code exchange, see demo/device.py)."""
        kept = {k: v for k, v in headers.items() if k.lower() == "authorization"}
        return oauthlib_answer(
            *self._token_endpoint.create_token_response(
                self.base_url + TOKEN_PATH, "POST", urlencode(form), {**kept, "Content-Type": FORM_CONTENT_TYPE}
            )
        )

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
            return oauth_error(error)
        except ValueError:
            return oauth_error(InvalidRequestError(description="the request could not be decoded"))
        if status != 200:
            return oauthlib_answer(headers, text, status)
        return web.json_response({"revoked": True})  # X's answer; RFC 7009 only asks for the 200

    async def _bearer(self, name: str, request: web.Request) -> web.Response | Any:
        """Check the bearer token (from the Authorization header only, as on X): a Response is the refusal."""
        early = await self._enter(name, request)
        if early is not None:
            return early
        header = request.headers.get("Authorization", "")
        if not header.lower().startswith("bearer "):
            return bearer_refusal(401, None)
        # Only the header goes to oauthlib, so a token in the query or body is never looked at.
        valid, checked = self._resource_endpoint.verify_request(
            f"{self.base_url}{request.path}", request.method, None, {"Authorization": header}
        )
        if not valid:
            return bearer_refusal(401, "invalid_token")
        return checked

    async def _handle_users_me(self, request: web.Request) -> web.Response:
        checked = await self._bearer("users_me", request)
        if isinstance(checked, web.Response):
            return checked
        if not set(USERS_ME_SCOPES) <= set(checked.token_scopes):
            return bearer_refusal(403, "insufficient_scope")
        user: User = checked.user
        return web.json_response({"data": {"id": user.id, "name": user.name, "username": user.username}})

    async def _handle_echo(self, request: web.Request) -> web.Response:
        checked = await self._bearer("echo", request)
        if isinstance(checked, web.Response):
            return checked
        raw = await request.read()
        form: list[tuple[str, str]] = []
        body: Any = None
        if request.content_type == FORM_CONTENT_TYPE:
            form = parse_qsl(raw.decode("utf-8", errors="replace"), keep_blank_values=True)
        elif request.content_type == "application/json" and raw:
            try:
                body = json.loads(raw)
            except ValueError:
                return web.json_response({"title": "Invalid Request", "status": 400}, status=400)
        user: User = checked.user
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
