"""The demo providers as the tests use them: the shipped servers, plus the hooks that only tests need.

``loopauth.demo`` ships what ``loopauth demo`` and the bench run: servers that validate and answer. These
subclasses keep their names (a test imports ``DemoProvider`` from here and reads as before) and add:

- on every endpoint of both, through the servers' ``_enter`` seam: ``calls`` counts each hit,
  ``last_request_headers`` / ``last_request_queries`` keep what it was last sent, ``hang.add(name)`` never
  answers (until close), ``failures[name] = Failure(...)`` answers that in its place;
- OAuth 1.0a: ``issued_access_tokens``, ``revoked_access_tokens``, ``issued_secrets``, and
  ``callback_confirmed``, what the request-token answer says (None leaves it out);
- OAuth 2.0: ``refreshes``, ``refresh_token_reuses``, ``code_reuses``, ``issued_access_tokens``,
  ``issued_refresh_tokens``, ``revoked_access_tokens``, ``revoked_refresh_tokens``, ``client_auth_methods``,
  ``access_token_is_valid()``, ``expire_access_tokens()``, and a settable ``code_lifetime``.

What the validators see is recorded by validator subclasses (the servers' ``validator_class``) that override
oauthlib's RequestValidator methods and call the shipped ones; what the shipped token records already hold
(revoked, expiry) is read from them.
"""

from __future__ import annotations

import collections
import time
from dataclasses import dataclass
from functools import cached_property
from typing import Any
from urllib.parse import parse_qsl, urlencode

from aiohttp import web
from oauthlib.oauth2 import InvalidGrantError

from loopauth.demo import server as oauth1_server
from loopauth.demo import validator as oauth1_validator
from loopauth.demo.base import DemoServer
from loopauth.demo.oauth2 import server as oauth2_server
from loopauth.demo.oauth2 import validator as oauth2_validator

__all__ = ["DemoOAuth2Provider", "DemoProvider", "Failure"]


@dataclass
class Failure:
    """A canned misbehaviour: answer this instead of doing the real work."""

    status: int
    body: str
    content_type: str = "text/plain"


class _Probes(DemoServer):
    """The hooks both providers get. They are made on first use, so the shipped constructors stay as they are."""

    @cached_property
    def failures(self) -> dict[str, Failure]:
        return {}

    @cached_property
    def hang(self) -> set[str]:
        return set()

    @cached_property
    def calls(self) -> collections.Counter[str]:
        return collections.Counter()

    @cached_property
    def last_request_headers(self) -> dict[str, dict[str, str]]:
        return {}

    @cached_property
    def last_request_queries(self) -> dict[str, dict[str, str]]:
        """Decoded query parameters of the last hit per endpoint: what a client asked for."""
        return {}

    async def _enter(self, name: str, request: web.Request) -> web.Response | None:
        """Count and record the hit, then misbehave as configured; None means carry on."""
        self.calls[name] += 1
        self.last_request_headers[name] = dict(request.headers)
        self.last_request_queries[name] = dict(request.query)
        if name in self.hang:
            await self._closing.wait()
            return web.Response(status=503, text="the demo provider is shutting down")
        early = await super()._enter(name, request)  # the shipped step: the delay
        if early is not None:
            return early
        failure = self.failures.get(name)
        if failure is not None:
            return web.Response(
                status=failure.status, body=failure.body.encode(), headers={"Content-Type": failure.content_type}
            )
        return None


# --- OAuth 1.0a -------------------------------------------------------------------------------------------------


class _RecordingValidator(oauth1_validator.Validator):
    """The shipped validator, remembering what it handed out."""

    def __init__(self) -> None:
        super().__init__()
        self.issued_access_tokens: list[str] = []
        self.issued_secrets: set[str] = set()

    def save_request_token(self, token: dict[str, str], request: Any) -> None:
        super().save_request_token(token, request)
        self.issued_secrets |= {token["oauth_token"], token["oauth_token_secret"]}

    def save_verifier(self, token: str, verifier: dict[str, str], request: Any) -> None:
        super().save_verifier(token, verifier, request)
        self.issued_secrets.add(verifier["oauth_verifier"])

    def save_access_token(self, token: dict[str, str], request: Any) -> None:
        super().save_access_token(token, request)
        self.issued_secrets |= {token["oauth_token"], token["oauth_token_secret"]}
        self.issued_access_tokens.append(token["oauth_token"])


class DemoProvider(_Probes, oauth1_server.DemoProvider):
    """The OAuth 1.0a demo provider with the tests' hooks."""

    validator_class = _RecordingValidator
    callback_confirmed: str | None = "true"
    """What the request-token answer's ``oauth_callback_confirmed`` says; None leaves the field out."""

    @property
    def _recorded(self) -> _RecordingValidator:
        assert isinstance(self._validator, _RecordingValidator)  # validator_class made it
        return self._validator

    @property
    def issued_access_tokens(self) -> list[str]:
        """Every access token handed out, oldest first."""
        return list(self._recorded.issued_access_tokens)

    @property
    def revoked_access_tokens(self) -> set[str]:
        return {token for token, record in self._validator.access_tokens.items() if record.revoked}

    @property
    def issued_secrets(self) -> set[str]:
        """Every request token, access token, their secrets and every verifier handed out (the consumer secret
        is ``consumer_secret``): what must never show up in a trace or a log."""
        return set(self._recorded.issued_secrets)

    async def _handle_request_token(self, request: web.Request) -> web.Response:
        response = await super()._handle_request_token(request)
        if response.status != 200 or response.text is None or self.callback_confirmed == "true":
            return response  # oauthlib's own answer already confirms the callback
        fields = parse_qsl(response.text, keep_blank_values=True)
        fields = [(k, v) for k, v in fields if k != "oauth_callback_confirmed"]
        if self.callback_confirmed is not None:
            fields.append(("oauth_callback_confirmed", self.callback_confirmed))
        return web.Response(text=urlencode(fields), content_type=response.content_type)


# --- OAuth 2.0 --------------------------------------------------------------------------------------------------


class _RecordingValidator2(oauth2_validator.Validator):
    """The shipped validator, counting what it granted and refused."""

    def __init__(self, code_lifetime: float) -> None:
        super().__init__(code_lifetime)
        self.issued_access_tokens: list[str] = []
        self.issued_refresh_tokens: list[str] = []
        self.client_auth_methods: list[str] = []
        self.refreshes = 0
        self.refresh_token_reuses = 0
        self.code_reuses = 0

    def authenticate_client(self, request: Any, *args: Any, **kwargs: Any) -> bool:
        authenticated: bool = super().authenticate_client(request, *args, **kwargs)
        if authenticated:
            basic = "Authorization" in request.headers
            self.client_auth_methods.append("client_secret_basic" if basic else "client_secret_post")
        return authenticated

    def authenticate_client_id(self, client_id: str, request: Any, *args: Any, **kwargs: Any) -> bool:
        authenticated: bool = super().authenticate_client_id(client_id, request, *args, **kwargs)
        if authenticated:
            self.client_auth_methods.append("none")
        return authenticated

    def validate_code(self, client_id: str, code: str, client: Any, request: Any, *args: Any, **kwargs: Any) -> bool:
        record = self.codes.get(code)
        if record is not None and record.client_id == client_id and record.used:
            self.code_reuses += 1
        valid: bool = super().validate_code(client_id, code, client, request, *args, **kwargs)
        return valid

    def save_bearer_token(self, token: dict[str, Any], request: Any, *args: Any, **kwargs: Any) -> None:
        super().save_bearer_token(token, request, *args, **kwargs)
        if request.grant_type == "refresh_token":
            self.refreshes += 1
        self.issued_access_tokens.append(token["access_token"])
        if token.get("refresh_token") is not None:
            self.issued_refresh_tokens.append(token["refresh_token"])

    def validate_refresh_token(self, refresh_token: str, client: Any, request: Any, *args: Any, **kwargs: Any) -> bool:
        try:
            valid: bool = super().validate_refresh_token(refresh_token, client, request, *args, **kwargs)
        except InvalidGrantError:
            # The shipped validator raises only for a rotated refresh token presented again (it then revokes
            # the family); an unknown or revoked one is a plain False.
            self.refresh_token_reuses += 1
            raise
        return valid


class DemoOAuth2Provider(_Probes, oauth2_server.DemoOAuth2Provider):
    """The OAuth 2.0 demo provider with the tests' hooks."""

    validator_class = _RecordingValidator2

    @property
    def _recorded(self) -> _RecordingValidator2:
        assert isinstance(self._validator, _RecordingValidator2)  # validator_class made it
        return self._validator

    @property
    def code_lifetime(self) -> float:
        """Seconds a code is good for; a change applies to the codes issued next."""
        return self._validator.code_lifetime

    @code_lifetime.setter
    def code_lifetime(self, seconds: float) -> None:
        self._validator.code_lifetime = seconds

    @property
    def refreshes(self) -> int:
        """Successful refresh-token grants."""
        return self._recorded.refreshes

    @property
    def refresh_token_reuses(self) -> int:
        """Rotated refresh tokens presented again; each one revoked its family."""
        return self._recorded.refresh_token_reuses

    @property
    def code_reuses(self) -> int:
        return self._recorded.code_reuses

    @property
    def issued_access_tokens(self) -> list[str]:
        """Every access token handed out, oldest first."""
        return list(self._recorded.issued_access_tokens)

    @property
    def issued_refresh_tokens(self) -> list[str]:
        return list(self._recorded.issued_refresh_tokens)

    @property
    def revoked_access_tokens(self) -> set[str]:
        """Revoked by /revoke, by a code replay or by refresh token reuse (not those that merely expired)."""
        return {token for token, record in self._validator.access_tokens.items() if record.revoked}

    @property
    def revoked_refresh_tokens(self) -> set[str]:
        """Those of a revoked family (the shipped validator revokes refresh tokens only by family)."""
        return {token for token, record in self._validator.refresh_tokens.items() if record.family.revoked}

    @property
    def client_auth_methods(self) -> list[str]:
        """How each successful client authentication was made: client_secret_basic, client_secret_post, none."""
        return list(self._recorded.client_auth_methods)

    def access_token_is_valid(self, token: str) -> bool:
        record = self._validator.access_tokens.get(token)
        return record is not None and record.usable()

    def expire_access_tokens(self) -> None:
        """Make every access token issued so far due now, as if its lifetime had run out."""
        now = time.monotonic()
        for record in self._validator.access_tokens.values():
            record.expires_at = min(record.expires_at, now)
