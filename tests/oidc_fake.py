"""A small OpenID Provider of our own (aiohttp on loopback) whose every answer a test can bend: its discovery
document, its key set, the ID tokens it signs (with the wrong key, for another audience, with ``alg: none``...)
and the ``iss`` it puts in the authorization response. node's oidc-provider (tests/oidc_provider.py) is the
honest one; this one lies on purpose.

Its authorize endpoint approves at once: it redirects to the client's ``redirect_uri`` with a code, the state
and ``iss``, so :func:`follow` (an ``open_browser`` that follows redirects) completes a login.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import aiohttp
import jwt
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import ec, rsa

CLIENT_ID = "fake-client"
SUBJECT = "user-42"


def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def public_jwk(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey, kid: str) -> dict[str, Any]:
    if isinstance(key, rsa.RSAPrivateKey):
        text = jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key())
    else:
        text = jwt.algorithms.ECAlgorithm.to_jwk(key.public_key())
    data: dict[str, Any] = json.loads(text)
    return {**data, "kid": kid, "use": "sig"}


@dataclass
class FakeIssuer:
    """``async with FakeIssuer() as op``: the provider on a free port; change its fields between requests."""

    path: str = ""
    """The issuer URL's path ("/realms/x"): its metadata is at ISSUER/.well-known/openid-configuration."""
    key: rsa.RSAPrivateKey = field(default_factory=rsa_key)
    kid: str = "k1"
    alg: str = "RS256"
    jwks: list[dict[str, Any]] | None = None
    """The published key set; None publishes ``key`` as ``kid``."""
    rotate_to: list[dict[str, Any]] | None = None
    """The key set published from the second fetch on, as after a key rotation at the provider."""
    metadata: dict[str, Any] = field(default_factory=dict)
    """Fields that replace (or, set to None, remove) the discovery document's."""
    openid_configuration: bool = True
    """False: no OpenID document (404), only RFC 8414's."""
    claims: dict[str, Any] = field(default_factory=dict)
    """Claims that replace (or, set to None, remove) those of the ID tokens it issues."""
    refresh_claims: dict[str, Any] = field(default_factory=dict)
    """The same, for the ID token of a refresh (on top of ``claims``)."""
    sign: Callable[[dict[str, Any], FakeIssuer], str] | None = None
    """Makes the ID token from its claims instead of signing it with ``key`` (forgeries)."""
    callback_iss: str | None = ""
    """The ``iss`` of the authorization response: "" the issuer's own, None none."""
    device: dict[str, Any] = field(default_factory=dict)
    """Fields that replace (or, set to None, remove) those of its device authorization answer (RFC 8628)."""
    polls: list[tuple[int, dict[str, Any]]] = field(default_factory=list)
    """The answers to device-code polls, in order (status, JSON); once they are spent, tokens."""
    answers: dict[str, tuple[int, dict[str, Any]]] = field(default_factory=dict)
    """What the token endpoint answers instead, by grant type (status, JSON)."""
    granted_scope: str | None = None
    """The scope the token answers name (None: none, so the asked ones were granted)."""
    refresh_tokens: bool = True
    """Whether token answers carry a refresh token."""
    hang: set[str] = field(default_factory=set)
    """Grant types whose token requests are never answered (until the provider stops)."""
    refused: dict[str, tuple[int, str]] = field(default_factory=dict)
    """Access tokens /api refuses: (status, WWW-Authenticate)."""
    hits: Counter[str] = field(default_factory=Counter)
    nonces: list[str] = field(default_factory=list)
    authorize_queries: list[dict[str, str]] = field(default_factory=list)
    issuer: str = ""
    _runner: web.AppRunner | None = None

    async def __aenter__(self) -> FakeIssuer:
        self._stopping = asyncio.Event()
        app = web.Application()
        app.router.add_get(self.path + "/.well-known/openid-configuration", self._openid)
        app.router.add_get("/.well-known/oauth-authorization-server" + self.path, self._rfc8414)
        app.router.add_get("/jwks", self._jwks)
        app.router.add_get("/auth", self._auth)
        app.router.add_post("/token", self._token)
        app.router.add_post("/device", self._device)
        app.router.add_get("/api", self._api)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.base = f"http://127.0.0.1:{port}"
        self.issuer = self.base + self.path
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._runner is not None
        self._stopping.set()
        await self._runner.cleanup()

    def document(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.base}/auth",
            "token_endpoint": f"{self.base}/token",
            "jwks_uri": f"{self.base}/jwks",
            "device_authorization_endpoint": f"{self.base}/device",
            "authorization_response_iss_parameter_supported": True,
            "code_challenge_methods_supported": ["S256"],
        }
        doc.update(self.metadata)
        return {k: v for k, v in doc.items() if v is not None}

    async def _openid(self, request: web.Request) -> web.Response:
        self.hits["openid-configuration"] += 1
        if not self.openid_configuration:
            raise web.HTTPNotFound()
        return web.json_response(self.document())

    async def _rfc8414(self, request: web.Request) -> web.Response:
        self.hits["oauth-authorization-server"] += 1
        return web.json_response(self.document())

    async def _jwks(self, request: web.Request) -> web.Response:
        self.hits["jwks"] += 1
        keys = self.jwks if self.jwks is not None else [public_jwk(self.key, self.kid)]
        if self.rotate_to is not None:
            self.jwks, self.rotate_to = self.rotate_to, None
        return web.json_response({"keys": keys})

    async def _auth(self, request: web.Request) -> web.Response:
        self.hits["auth"] += 1
        query = request.query
        self.authorize_queries.append(dict(query))
        if "nonce" in query:
            self.nonces.append(query["nonce"])
        back: dict[str, str] = {"code": "the-code", "state": query["state"]}
        if self.callback_iss is not None:
            back["iss"] = self.callback_iss or self.issuer
        raise web.HTTPFound(f"{query['redirect_uri']}?{urlencode(back)}")

    async def _api(self, request: web.Request) -> web.Response:
        """A resource server that names the account, or refuses the tokens in ``refused``."""
        self.hits["api"] += 1
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if token in self.refused:
            status, challenge = self.refused[token]
            return web.json_response({"detail": "refused"}, status=status, headers={"WWW-Authenticate": challenge})
        return web.json_response({"sub": SUBJECT, "preferred_username": "forty-two"})

    async def _device(self, request: web.Request) -> web.Response:
        self.hits["device"] += 1
        answer: dict[str, Any] = {
            "device_code": "the-device-code",
            "user_code": "WDJB-MJHT",
            "verification_uri": f"{self.base}/activate",
            "verification_uri_complete": f"{self.base}/activate?user_code=WDJB-MJHT",
            "expires_in": 600,
            "interval": 2,
        }
        answer.update(self.device)
        return web.json_response({k: v for k, v in answer.items() if v is not None})

    async def _token(self, request: web.Request) -> web.Response:
        form = await request.post()
        grant_type = str(form["grant_type"])
        self.hits[f"token:{grant_type}"] += 1
        if grant_type in self.hang:
            await self._stopping.wait()
        if grant_type in self.answers:
            status, body = self.answers[grant_type]
            return web.json_response(body, status=status)
        if grant_type.endswith(":device_code") and self.polls:
            status, body = self.polls.pop(0)
            return web.json_response(body, status=status)
        refresh = grant_type == "refresh_token"
        answer: dict[str, Any] = {
            "scope": self.granted_scope,
            "access_token": f"access-{self.hits['auth']}-{self.hits['token:refresh_token']}",
            "token_type": "Bearer",
            "expires_in": 3600,
            "refresh_token": f"refresh-{self.hits['token:refresh_token']}" if self.refresh_tokens else None,
        }
        answer["id_token"] = self.id_token(refresh=refresh)
        return web.json_response({k: v for k, v in answer.items() if v is not None})

    def id_token(self, *, refresh: bool = False) -> str:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "sub": SUBJECT,
            "aud": CLIENT_ID,
            "exp": now + 3600,
            "iat": now,
            "preferred_username": "forty-two",
            "email": "fortytwo@example.test",
        }
        if self.nonces and not refresh:
            claims["nonce"] = self.nonces[-1]
        claims.update(self.claims)
        if refresh:
            claims.update(self.refresh_claims)
        claims = {k: v for k, v in claims.items() if v is not None}
        if self.sign is not None:
            return self.sign(claims, self)
        return jwt.encode(claims, self.key, algorithm=self.alg, headers={"kid": self.kid})


async def follow(url: str) -> bool:
    """An ``open_browser`` that follows the redirects from loopauth's start page to its callback, at once."""
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        await response.read()
    return True
