"""A test-only OAuth 1.0a provider built on Authlib: an implementation of RFC 5849 that is not oauthlib.

loopauth's client and its demo provider both sign with oauthlib, so a misreading of the RFC shared by the
two would pass every other test. Here Authlib's ``AuthorizationServer`` issues the credentials and its
``ResourceProtector`` checks every signature; this module supplies only what Authlib leaves to the
application (in-memory storage, the user who approves) and the aiohttp glue, shaped like Authlib's own
Flask integration. The authorize page approves at once on GET, so any client that follows redirects plays
the user.

Credential secrets deliberately hold reserved and non-ASCII characters: RFC 5849 lets a secret be any
string, and §3.4.2 / §3.4.4 percent-encode it into the signing key, so both sides must get that right.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Self

from aiohttp import web
from authlib.common.urls import url_encode
from authlib.oauth1 import AuthorizationServer, OAuth1Request, ResourceProtector, TemporaryCredential
from authlib.oauth1.rfc5849.errors import OAuth1Error

CONSUMER_KEY = "authlib-consumer"
CONSUMER_SECRET = "consumer s3cret & = + % é~/"
USER_ID = "4815162342"
SCREEN_NAME = "authlib_user"
# Tokens travel in URLs and headers, so real providers keep them URL-safe; secrets never leave the two ends.
SECRET_TAIL = " & = + % é~/"


@dataclass(frozen=True)
class Client:
    """Authlib's ``ClientMixin``: the registered app."""

    client_id: str
    client_secret: str
    rsa_public_key: str | None = None

    def get_client_secret(self) -> str:
        return self.client_secret

    def get_rsa_public_key(self) -> str | None:
        return self.rsa_public_key

    def get_default_redirect_uri(self) -> str | None:
        return None  # no out-of-band logins here: every client sends its callback


@dataclass(frozen=True)
class TokenCredential:
    """Authlib's ``TokenCredentialMixin``: an access token and whose it is."""

    oauth_token: str
    oauth_token_secret: str
    client_id: str
    user_id: str

    def get_oauth_token(self) -> str:
        return self.oauth_token

    def get_oauth_token_secret(self) -> str:
        return self.oauth_token_secret


@dataclass(frozen=True)
class User:
    id: str
    screen_name: str


@dataclass(frozen=True)
class Wire:
    """One HTTP request as it arrived, for Authlib's ``OAuth1Request``."""

    method: str
    uri: str
    body: str
    headers: Mapping[str, str]


@dataclass
class State:
    """Everything the provider remembers. Only the event loop touches it, and Authlib's calls are synchronous."""

    clients: dict[str, Client] = field(default_factory=dict)
    temporary: dict[str, Any] = field(default_factory=dict)  # oauth_token -> TemporaryCredential (a dict)
    tokens: dict[str, TokenCredential] = field(default_factory=dict)
    nonces: set[tuple[str, str, str, str]] = field(default_factory=set)
    request_token_replies: list[str] = field(default_factory=list)
    callbacks: list[str] = field(default_factory=list)

    def exists_nonce(self, nonce: str, request: Any) -> bool:
        """RFC 5849 §3.3: a nonce is unique per timestamp, client and token; remember each one seen."""
        key = (str(request.timestamp or ""), str(request.client_id or ""), str(request.token or ""), nonce)
        if key in self.nonces:
            return True
        self.nonces.add(key)
        return False


def _secret() -> str:
    return secrets.token_urlsafe(18) + SECRET_TAIL


class _AuthorizationServer(AuthorizationServer):  # type: ignore[misc]
    def __init__(self, state: State, user: User, methods: Iterable[str]) -> None:
        self.state = state
        self.user = user
        self.SUPPORTED_SIGNATURE_METHODS = list(methods)
        self._issued: TokenCredential | None = None

    def create_oauth1_request(self, request: Any) -> Any:
        if isinstance(request, OAuth1Request):
            return request
        return OAuth1Request(request.method, request.uri, request.body, request.headers)

    def handle_response(self, status_code: int, payload: Any, headers: list[tuple[str, str]]) -> web.Response:
        issued = self._issued
        if status_code == 200 and issued is not None and dict(payload).get("oauth_token") == issued.oauth_token:
            # Twitter's extras in the access-token answer; Authlib's payload has only the token pair.
            payload = [*payload, ("user_id", issued.user_id), ("screen_name", self.user.screen_name)]
            self._issued = None
        # As Authlib's Flask integration answers: the payload form-encoded, with Authlib's own headers.
        body = payload if isinstance(payload, str) else url_encode(payload)
        return web.Response(status=status_code, body=body.encode("utf-8"), headers=headers)

    def get_client_by_id(self, client_id: str) -> Client | None:
        return self.state.clients.get(client_id)

    def exists_nonce(self, nonce: str, request: Any) -> bool:
        return self.state.exists_nonce(nonce, request)

    def create_temporary_credential(self, request: Any) -> Any:
        credential = TemporaryCredential(
            oauth_token=secrets.token_urlsafe(18),
            oauth_token_secret=_secret(),
            client_id=request.client_id,
            oauth_callback=request.redirect_uri,
        )
        self.state.temporary[credential["oauth_token"]] = credential
        self.state.callbacks.append(request.redirect_uri)
        return credential

    def get_temporary_credential(self, request: Any) -> Any:
        credential = self.state.temporary.get(request.token)
        if credential is None or (request.client_id and credential["client_id"] != request.client_id):
            return None
        return credential

    def delete_temporary_credential(self, request: Any) -> None:
        self.state.temporary.pop(request.token, None)

    def create_authorization_verifier(self, request: Any) -> str:
        verifier = secrets.token_urlsafe(18)
        request.credential["oauth_verifier"] = verifier
        request.credential["user_id"] = request.user.id
        return verifier

    def create_token_credential(self, request: Any) -> TokenCredential:
        temporary = request.credential
        credential = TokenCredential(
            oauth_token=f"{temporary['user_id']}-{secrets.token_urlsafe(18)}",
            oauth_token_secret=_secret(),
            client_id=temporary["client_id"],
            user_id=temporary["user_id"],
        )
        self.state.tokens[credential.oauth_token] = credential
        self._issued = credential
        return credential


class _ResourceProtector(ResourceProtector):  # type: ignore[misc]
    def __init__(self, state: State, methods: Iterable[str]) -> None:
        self.state = state
        self.SUPPORTED_SIGNATURE_METHODS = list(methods)

    def get_client_by_id(self, client_id: str) -> Client | None:
        return self.state.clients.get(client_id)

    def get_token_credential(self, request: Any) -> TokenCredential | None:
        token = self.state.tokens.get(request.token)
        return token if token is not None and token.client_id == request.client_id else None

    def exists_nonce(self, nonce: str, request: Any) -> bool:
        return self.state.exists_nonce(nonce, request)


async def _wire(request: web.Request) -> Wire:
    # The request target exactly as sent: Authlib decodes the query itself (§3.4.1.3.1).
    return Wire(
        request.method, f"{request.scheme}://{request.host}{request.raw_path}", await request.text(), request.headers
    )


def _json_error(error: str, description: str, status: int) -> web.Response:
    return web.json_response({"error": error, "error_description": description}, status=status)


class AuthlibProvider:
    """``async with AuthlibProvider() as p:`` serves Authlib's endpoints on a free loopback port."""

    def __init__(
        self,
        *,
        methods: Iterable[str] = ("HMAC-SHA1",),
        consumer_key: str = CONSUMER_KEY,
        consumer_secret: str = CONSUMER_SECRET,
        rsa_public_key: str | None = None,
    ) -> None:
        self.methods = tuple(methods)
        self.consumer_key = consumer_key
        self.consumer_secret = consumer_secret
        self.state = State(clients={consumer_key: Client(consumer_key, consumer_secret, rsa_public_key)})
        self.user = User(USER_ID, SCREEN_NAME)
        self.server = _AuthorizationServer(self.state, self.user, self.methods)
        self.protector = _ResourceProtector(self.state, self.methods)
        self.origin = ""
        self._runner: web.AppRunner | None = None

    @property
    def request_token_url(self) -> str:
        return f"{self.origin}/oauth/request_token"

    @property
    def authorize_url(self) -> str:
        return f"{self.origin}/oauth/authorize"

    @property
    def access_token_url(self) -> str:
        return f"{self.origin}/oauth/access_token"

    @property
    def resource_url(self) -> str:
        return f"{self.origin}/api/echo"

    async def __aenter__(self) -> Self:
        app = web.Application()
        app.router.add_post("/oauth/request_token", self._request_token)
        app.router.add_get("/oauth/authorize", self._authorize, allow_head=False)
        app.router.add_post("/oauth/access_token", self._access_token)
        app.router.add_route("*", "/api/echo", self._echo)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.origin = f"http://127.0.0.1:{self._runner.addresses[0][1]}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _request_token(self, request: web.Request) -> web.Response:
        try:
            response: web.Response = self.server.create_temporary_credentials_response(await _wire(request))
        except ValueError as exc:  # Authlib's word for a malformed Authorization header
            return _json_error("invalid_request", str(exc), 400)
        if response.status == 200 and isinstance(response.body, bytes):
            self.state.request_token_replies.append(response.body.decode())
        return response

    async def _authorize(self, request: web.Request) -> web.Response:
        try:
            response: web.Response = self.server.create_authorization_response(
                await _wire(request), grant_user=self.user
            )
        except OAuth1Error as error:
            response = self.server.handle_error_response(error)
        return response

    async def _access_token(self, request: web.Request) -> web.Response:
        try:
            response: web.Response = self.server.create_token_response(await _wire(request))
        except ValueError as exc:
            return _json_error("invalid_request", str(exc), 400)
        return response

    async def _echo(self, request: web.Request) -> web.Response:
        """The protected resource: what Authlib decoded from the request, once its signature checked out."""
        wire = await _wire(request)
        try:
            verified = self.protector.validate_request(wire.method, wire.uri, wire.body, wire.headers)
        except OAuth1Error as error:
            return web.json_response(dict(error.get_body()), status=error.status_code)
        except ValueError as exc:
            return _json_error("invalid_request", str(exc), 400)
        params = [[k, v] for k, v in [*verified.query_params, *verified.body_params] if not k.startswith("oauth_")]
        return web.json_response(
            {
                "user_id": verified.credential.user_id,
                "signature_method": verified.signature_method,
                "params": params,
            }
        )
