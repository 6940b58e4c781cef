"""A test-only OAuth 2.0 provider built on Authlib: authorization code + PKCE that is not oauthlib.

loopauth's OAuth 2.0 client and its demo provider (loopauth/demo/oauth2/) both stand on oauthlib, so a
misreading of RFC 6749 or RFC 7636 shared by the two would pass every other test. Here Authlib's
framework-neutral ``AuthorizationServer`` does the protocol work: its ``AuthorizationCodeGrant`` with
``CodeChallenge``, its ``RefreshTokenGrant``, its RFC 7009 ``RevocationEndpoint``, its client
authentication (``client_secret_basic``, ``client_secret_post``, ``none``) and its ``ResourceProtector``.
This module supplies only what Authlib leaves to the application: in-memory storage, the user who
approves, the aiohttp glue (shaped like Authlib's Flask integration), and two policies Authlib does not
have:

- PKCE on every authorization request, S256 only. ``CodeChallenge(required=True)`` alone lets a request
  without a challenge through and only insists on a verifier from public clients; ``_S256Challenge`` refuses
  the authorization request itself, as the demo provider does.
- Refresh-token families (RFC 9700 §4.14.2). ``INCLUDE_NEW_REFRESH_TOKEN = True`` rotates; the grant's
  ``revoke_old_credential`` marks the presented token rotated, and its ``authenticate_refresh_token`` treats
  a rotated one coming back as theft: it revokes the family (the newer refresh token and every access
  token) and answers ``invalid_grant``. A replayed authorization code revokes its family the same way.

It answers on X's paths. The authorize page approves at once on GET (set ``approve = False`` to deny),
so any client that follows redirects plays the user. Authlib's own answers are kept where they differ from
X's, which is the point of a second implementation: ``token_type`` is ``"Bearer"`` (RFC 6749 §5.1 makes it
case-insensitive), errors are Authlib's JSON. Authlib 1.9 (the test extra's minimum) accepts plain http to
loopback addresses by itself (RFC 8252 §7.3), so ``AUTHLIB_INSECURE_TRANSPORT`` is not set.

The confidential client's secret holds ``+ / & = %`` and a non-ASCII character: RFC 6749 §2.3.1 form-encodes
it before base64, and a client that does not fails against both servers. It has no space, because Authlib
decodes Basic credentials with ``unquote`` rather than as a form value, so a correctly encoded space (``+``)
would not match here.
"""

from __future__ import annotations

import hmac
import json
import secrets
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, ClassVar, Self
from urllib.parse import parse_qsl

from aiohttp import web
from authlib.oauth2 import AuthorizationServer, OAuth2Error, OAuth2Request, ResourceProtector
from authlib.oauth2.rfc6749 import InvalidGrantError, InvalidRequestError, OAuth2Payload
from authlib.oauth2.rfc6749.grants import AuthorizationCodeGrant, RefreshTokenGrant
from authlib.oauth2.rfc6749.util import scope_to_list
from authlib.oauth2.rfc6750 import BearerTokenGenerator, BearerTokenValidator
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7636 import CodeChallenge

from loopauth.demo.oauth2 import DEFAULT_REDIRECT_URIS, SUPPORTED_SCOPES, USERS_ME_SCOPES, redirect_uri_matches

PUBLIC_CLIENT_ID = "authlib-public-client"
CONFIDENTIAL_CLIENT_ID = "authlib-confidential-client"
CONFIDENTIAL_CLIENT_SECRET = "authlib+s3cret/&=%2B-é~"
USER_ID = "4815162342"
USER_NAME = "Authlib User"
USERNAME = "authlib_user"
CODE_LIFETIME = 30.0
OFFLINE_ACCESS = "offline.access"

AUTHORIZE_PATH = "/i/oauth2/authorize"
TOKEN_PATH = "/2/oauth2/token"
REVOKE_PATH = "/2/oauth2/revoke"
USERS_ME_PATH = "/2/users/me"

_FORM = "application/x-www-form-urlencoded"
_CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]


# --- Authlib's models ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class User:
    id: str
    name: str
    username: str


@dataclass(frozen=True)
class Client:
    """Authlib's ``ClientMixin``: public without a secret, confidential with one."""

    client_id: str
    client_secret: str | None = field(repr=False)
    redirect_uris: tuple[str, ...]

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str | None:
        return None  # as on X: every authorization request names its redirect_uri

    def get_allowed_scope(self, scope: str | None) -> str | None:
        return scope or None  # no scope is invalid_scope, as on X

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return any(redirect_uri_matches(registered, redirect_uri) for registered in self.redirect_uris)

    def check_client_secret(self, client_secret: str) -> bool:
        expected = self.client_secret
        return expected is not None and hmac.compare_digest(expected.encode(), client_secret.encode())

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        if self.client_secret is None:
            return method == "none"
        return method in ("client_secret_basic", "client_secret_post")

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in ("authorization_code", "refresh_token")


@dataclass
class Family:
    """Everything one authorization code led to."""

    client_id: str
    user: User
    access_tokens: list[str] = field(default_factory=list, repr=False)
    refresh_tokens: list[str] = field(default_factory=list, repr=False)
    revoked: bool = False


@dataclass
class AuthorizationCode:
    """Authlib's ``AuthorizationCodeMixin``, plus what ``CodeChallenge`` reads."""

    client_id: str
    redirect_uri: str
    scope: str
    user: User
    code_challenge: str = field(repr=False)
    code_challenge_method: str
    expires_at: float
    used: bool = False
    family: Family | None = None

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope


@dataclass
class Token:
    """Authlib's ``TokenMixin``, for an access token or a refresh token."""

    value: str = field(repr=False)
    family: Family
    scope: str
    expires_at: float  # access tokens only; refresh tokens do not expire here
    revoked: bool = False
    rotated: bool = False  # refresh tokens only: a newer one has replaced it

    def check_client(self, client: Client) -> bool:
        return self.family.client_id == client.client_id

    def get_scope(self) -> str:
        return self.scope

    def get_expires_in(self) -> int:
        return max(0, int(self.expires_at - time.monotonic()))

    def is_expired(self) -> bool:
        return time.monotonic() >= self.expires_at

    def is_revoked(self) -> bool:
        return self.revoked or self.family.revoked

    def get_user(self) -> User:
        return self.family.user


@dataclass
class State:
    """Everything the provider remembers. Only the event loop touches it, and Authlib's calls are synchronous."""

    clients: dict[str, Client] = field(default_factory=dict)
    codes: dict[str, AuthorizationCode] = field(default_factory=dict)
    access_tokens: dict[str, Token] = field(default_factory=dict)
    refresh_tokens: dict[str, Token] = field(default_factory=dict)
    refreshes: int = 0
    refresh_token_reuses: int = 0
    code_reuses: int = 0
    # What clients did, for tests to check: each client authentication as (endpoint, method), every refresh
    # token presented to the refresh grant (known or not, in order), and the token_type of each token issued.
    client_auth: list[tuple[str, str]] = field(default_factory=list)
    presented_refresh_tokens: list[str] = field(default_factory=list, repr=False)
    token_types: list[str] = field(default_factory=list)

    def revoke_family(self, family: Family) -> None:
        family.revoked = True
        for value in family.access_tokens + family.refresh_tokens:
            token = self.access_tokens.get(value) or self.refresh_tokens[value]
            token.revoked = True

    @property
    def revoked_access_tokens(self) -> set[str]:
        return {value for value, token in self.access_tokens.items() if token.is_revoked()}


# --- Authlib's server, grants and endpoints --------------------------------------------------------------------


class _Payload(OAuth2Payload):  # type: ignore[misc]  # Authlib is untyped
    def __init__(self, pairs: Iterable[tuple[str, str]]) -> None:
        self._datalist: defaultdict[str, list[str]] = defaultdict(list)
        for name, value in pairs:
            self._datalist[name].append(value)
        # The first value of each name, as Flask's request.values gives it to Authlib.
        self._data = {name: values[0] for name, values in self._datalist.items()}

    @property
    def data(self) -> dict[str, str]:
        return self._data

    @property
    def datalist(self) -> defaultdict[str, list[str]]:
        return self._datalist


class _Request(OAuth2Request):  # type: ignore[misc]
    """One aiohttp request as Authlib's ``OAuth2Request``: query and form together in the payload."""

    def __init__(
        self, method: str, uri: str, headers: Any, query: list[tuple[str, str]], form: list[tuple[str, str]]
    ) -> None:
        super().__init__(method, uri, headers=headers)
        self.payload = _Payload([*query, *form])
        self._args = _Payload(query).data
        self._form = _Payload(form).data

    @property
    def args(self) -> dict[str, str]:
        return self._args

    @property
    def form(self) -> dict[str, str]:
        return self._form


class _S256Challenge(CodeChallenge):  # type: ignore[misc]
    """``CodeChallenge`` that also insists on a challenge, and on S256, in the authorization request."""

    SUPPORTED_CODE_CHALLENGE_METHOD: ClassVar[list[str]] = ["S256"]

    def validate_code_challenge(self, grant: Any, redirect_uri: Any) -> None:
        data = grant.request.payload.data
        if not data.get("code_challenge"):
            raise InvalidRequestError("Missing 'code_challenge'")
        if data.get("code_challenge_method") != "S256":  # no method would mean plain (RFC 7636 §4.3)
            raise InvalidRequestError("Unsupported 'code_challenge_method': only S256")
        super().validate_code_challenge(grant, redirect_uri)


class _CodeGrant(AuthorizationCodeGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS: ClassVar[list[str]] = _CLIENT_AUTH_METHODS

    def save_authorization_code(self, code: str, request: Any) -> None:
        data = request.payload.data
        self.server.state.codes[code] = AuthorizationCode(
            client_id=request.client.client_id,
            redirect_uri=data["redirect_uri"],
            scope=request.scope,
            user=request.user,
            code_challenge=data["code_challenge"],
            code_challenge_method=data["code_challenge_method"],
            expires_at=time.monotonic() + self.server.code_lifetime,
        )

    def query_authorization_code(self, code: str, client: Client) -> AuthorizationCode | None:
        state: State = self.server.state
        record = state.codes.get(code)
        if record is None or record.client_id != client.client_id:
            return None
        if record.used:
            # RFC 6749 §4.1.2: deny a replayed code and revoke what it was exchanged for.
            state.code_reuses += 1
            if record.family is not None:
                state.revoke_family(record.family)
            return None
        return None if time.monotonic() >= record.expires_at else record

    def delete_authorization_code(self, authorization_code: AuthorizationCode) -> None:
        authorization_code.used = True  # kept, so that a replay is recognised as one

    def authenticate_user(self, authorization_code: AuthorizationCode) -> User:
        return authorization_code.user


class _RefreshGrant(RefreshTokenGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS: ClassVar[list[str]] = _CLIENT_AUTH_METHODS
    INCLUDE_NEW_REFRESH_TOKEN = True

    def authenticate_refresh_token(self, refresh_token: str) -> Token | None:
        state: State = self.server.state
        state.presented_refresh_tokens.append(refresh_token)
        token = state.refresh_tokens.get(refresh_token)
        if token is None or token.is_revoked():
            return None
        if token.rotated:
            # RFC 9700 §4.14.2: a rotated refresh token came back, so two parties hold this login. End it all.
            state.refresh_token_reuses += 1
            state.revoke_family(token.family)
            raise InvalidGrantError("The refresh token was already used; the authorization is revoked.")
        return token

    def authenticate_user(self, refresh_token: Token) -> User:
        return refresh_token.get_user()

    def revoke_old_credential(self, refresh_token: Token) -> None:
        refresh_token.rotated = True  # replaced by the one just issued: from now on, a reuse


class _Revocation(RevocationEndpoint):  # type: ignore[misc]
    CLIENT_AUTH_METHODS: ClassVar[list[str]] = _CLIENT_AUTH_METHODS

    def query_token(self, token_string: str, token_type_hint: str | None) -> Token | None:
        state: State = self.server.state
        # RFC 7009 §2.1: the hint only says where to look first.
        stores = [state.access_tokens, state.refresh_tokens]
        if token_type_hint == "refresh_token":
            stores.reverse()
        return next((store[token_string] for store in stores if token_string in store), None)

    def revoke_token(self, token: Token, request: Any) -> None:
        state: State = self.server.state
        if token.value in state.refresh_tokens:
            state.revoke_family(token.family)  # its access tokens go with it
        else:
            token.revoked = True


class _TokenGenerator(BearerTokenGenerator):  # type: ignore[misc]
    """Authlib's bearer tokens, with a refresh token only for ``offline.access`` (as on X)."""

    def generate(
        self,
        grant_type: str,
        client: Client,
        user: User | None = None,
        scope: str | None = None,
        expires_in: int | None = None,
        include_refresh_token: bool = True,
    ) -> dict[str, Any]:
        offline = OFFLINE_ACCESS in (scope_to_list(scope) or [])
        token: dict[str, Any] = super().generate(
            grant_type, client, user, scope, expires_in, include_refresh_token and offline
        )
        return token


def _random_token(**_: Any) -> str:
    return secrets.token_urlsafe(32)


class _Server(AuthorizationServer):  # type: ignore[misc]
    def __init__(self, provider: AuthlibOAuth2Provider) -> None:
        super().__init__(scopes_supported=sorted(SUPPORTED_SCOPES))
        self.state = provider.state
        self.provider = provider
        generator = _TokenGenerator(
            _random_token, _random_token, lambda client, grant_type: provider.access_token_lifetime
        )
        self.register_token_generator("default", generator)
        self.register_grant(_CodeGrant, [_S256Challenge(required=True)])
        self.register_grant(_RefreshGrant)
        self.register_endpoint(_Revocation)

    @property
    def code_lifetime(self) -> float:
        return self.provider.code_lifetime

    def query_client(self, client_id: str) -> Client | None:
        return self.state.clients.get(client_id)

    def authenticate_client(self, request: Any, methods: list[str], endpoint: str = "token") -> Client:
        client: Client = super().authenticate_client(request, methods, endpoint)
        self.state.client_auth.append((endpoint, request.auth_method))
        return client

    def save_token(self, token: dict[str, Any], request: Any) -> None:
        if request.payload.grant_type == "refresh_token":
            family = request.refresh_token.family
            self.state.refreshes += 1
        else:
            family = Family(client_id=request.client.client_id, user=request.user)
            request.authorization_code.family = family
        scope = token.get("scope", "")
        self.state.token_types.append(token["token_type"])
        access = token["access_token"]
        self.state.access_tokens[access] = Token(access, family, scope, time.monotonic() + token["expires_in"])
        family.access_tokens.append(access)
        refresh = token.get("refresh_token")
        if refresh is not None:
            self.state.refresh_tokens[refresh] = Token(refresh, family, scope, float("inf"))
            family.refresh_tokens.append(refresh)

    def create_oauth2_request(self, request: Any) -> Any:
        return request  # the handlers build the _Request: reading the body is asynchronous

    def handle_response(self, status_code: int, payload: Any, headers: list[tuple[str, str]]) -> web.Response:
        # As Authlib's Flask integration answers: a dict as JSON, with Authlib's own headers.
        body = json.dumps(payload) if isinstance(payload, dict) else payload
        return web.Response(status=status_code, text=body, headers=headers)

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        pass  # no framework signals here


class _BearerValidator(BearerTokenValidator):  # type: ignore[misc]
    def __init__(self, state: State) -> None:
        super().__init__(realm="authlib")
        self.state = state

    def authenticate_token(self, token_string: str) -> Token | None:
        return self.state.access_tokens.get(token_string)


async def _oauth2_request(request: web.Request) -> _Request:
    form = parse_qsl(await request.text(), keep_blank_values=True) if request.content_type == _FORM else []
    uri = f"{request.scheme}://{request.host}{request.raw_path}"
    return _Request(request.method, uri, request.headers, list(request.query.items()), form)


# --- the provider -----------------------------------------------------------------------------------------------


class AuthlibOAuth2Provider:
    """``async with AuthlibOAuth2Provider() as p:`` serves Authlib's OAuth 2.0 endpoints on a free loopback port."""

    def __init__(
        self,
        *,
        access_token_lifetime: int = 7200,
        code_lifetime: float = CODE_LIFETIME,
        redirect_uris: Iterable[str] = DEFAULT_REDIRECT_URIS,
    ) -> None:
        self.access_token_lifetime = access_token_lifetime
        self.code_lifetime = code_lifetime
        self.approve = True
        self.user = User(USER_ID, USER_NAME, USERNAME)
        redirect_uris = tuple(redirect_uris)
        self.state = State(
            clients={
                PUBLIC_CLIENT_ID: Client(PUBLIC_CLIENT_ID, None, redirect_uris),
                CONFIDENTIAL_CLIENT_ID: Client(CONFIDENTIAL_CLIENT_ID, CONFIDENTIAL_CLIENT_SECRET, redirect_uris),
            }
        )
        self.server = _Server(self)
        self.protector = ResourceProtector()
        self.protector.register_token_validator(_BearerValidator(self.state))
        self.origin = ""
        self._runner: web.AppRunner | None = None

    @property
    def authorize_url(self) -> str:
        return self.origin + AUTHORIZE_PATH

    @property
    def token_url(self) -> str:
        return self.origin + TOKEN_PATH

    @property
    def revoke_url(self) -> str:
        return self.origin + REVOKE_PATH

    @property
    def users_me_url(self) -> str:
        return self.origin + USERS_ME_PATH

    def expire_access_tokens(self) -> None:
        """Make every access token issued so far due now."""
        now = time.monotonic()
        for token in self.state.access_tokens.values():
            token.expires_at = min(token.expires_at, now)

    async def __aenter__(self) -> Self:
        app = web.Application()
        app.router.add_get(AUTHORIZE_PATH, self._authorize, allow_head=False)
        app.router.add_post(TOKEN_PATH, self._token)
        app.router.add_post(REVOKE_PATH, self._revoke)
        app.router.add_get(USERS_ME_PATH, self._users_me, allow_head=False)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.origin = f"http://127.0.0.1:{self._runner.addresses[0][1]}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _authorize(self, request: web.Request) -> web.Response:
        """Authlib validates the request, then the user (always signed in) approves or denies at once."""
        oauth2_request = await _oauth2_request(request)
        try:
            grant = self.server.get_consent_grant(oauth2_request, end_user=self.user)
        except OAuth2Error as error:  # after the redirect URI checked out, Authlib redirects with the error
            response: web.Response = self.server.handle_error_response(oauth2_request, error)
            return response
        user = self.user if self.approve else None
        response = self.server.create_authorization_response(oauth2_request, grant_user=user, grant=grant)
        return response

    async def _token(self, request: web.Request) -> web.Response:
        response: web.Response = self.server.create_token_response(await _oauth2_request(request))
        return response

    async def _revoke(self, request: web.Request) -> web.Response:
        response: web.Response = self.server.create_endpoint_response("revocation", await _oauth2_request(request))
        return response

    async def _users_me(self, request: web.Request) -> web.Response:
        oauth2_request = await _oauth2_request(request)
        try:
            token: Token = self.protector.validate_request([" ".join(USERS_ME_SCOPES)], oauth2_request)
        except OAuth2Error as error:
            status, body, headers = error()
            return web.Response(status=status, text=json.dumps(body), headers=headers)
        user = token.get_user()
        return web.json_response({"data": {"id": user.id, "name": user.name, "username": user.username}})
