"""OAuth 2.0 spoken by hand, to test the two test servers before loopauth has an OAuth 2.0 client.

Nothing here comes from loopauth or an OAuth library: PKCE, HTTP Basic with form-encoded credentials and
the form bodies are spelled out from RFC 7636 §4.1-4.2 and RFC 6749 §2.3.1 and §4.1.3, so the servers are
checked against the RFCs rather than against another implementation's reading of them.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import parse_qsl, quote_plus, urlsplit

import aiohttp

X_SCOPES = "tweet.read users.read offline.access"
# Never connected to: tests read the redirect's Location instead of following it.
REDIRECT_URI = "http://127.0.0.1:9/callback"
# Reserved characters survive the round trip only if both sides encode them.
STATE = "state & = + % é"


@dataclass(frozen=True)
class Pkce:
    verifier: str
    challenge: str


def new_pkce(verifier: str | None = None) -> Pkce:
    """RFC 7636: a 43-128 character verifier and its S256 challenge, base64url without padding."""
    verifier = verifier or secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return Pkce(verifier, base64.urlsafe_b64encode(digest).decode("ascii").rstrip("="))


@dataclass(frozen=True)
class Reply:
    status: int
    text: str
    headers: dict[str, str]

    def json(self) -> Any:
        return json.loads(self.text)

    @property
    def location_query(self) -> dict[str, str]:
        """The decoded query of the Location this reply redirects to."""
        return dict(parse_qsl(urlsplit(self.headers["Location"]).query, keep_blank_values=True))

    @property
    def error(self) -> str | None:
        """The RFC 6749 §5.2 error code of a JSON error answer."""
        code: str | None = self.json().get("error")
        return code


Auth = Literal["none", "basic", "post", "basic-unencoded"]


@dataclass(frozen=True)
class Client:
    """A registered client and how it authenticates at the token and revocation endpoints."""

    client_id: str
    secret: str | None = None
    auth: Auth = "none"

    def sign(self, form: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
        """The headers and form of a request to the token or revocation endpoint."""
        if self.auth == "none":
            return {}, {**form, "client_id": self.client_id}
        secret = self.secret or ""
        if self.auth == "post":
            return {}, {**form, "client_id": self.client_id, "client_secret": secret}
        if self.auth == "basic":
            # RFC 6749 §2.3.1: each part form-url-encoded, then joined with ":" and base64-encoded.
            pair = f"{quote_plus(self.client_id)}:{quote_plus(secret)}"
        else:  # the mistake the nasty secrets exist to catch
            pair = f"{self.client_id}:{secret}"
        return {"Authorization": "Basic " + base64.b64encode(pair.encode()).decode()}, form


def authorize_params(
    client_id: str,
    pkce: Pkce | None,
    *,
    redirect_uri: str = REDIRECT_URI,
    scope: str = X_SCOPES,
    state: str = STATE,
    method: str | None = "S256",
) -> dict[str, str]:
    params = {"response_type": "code", "client_id": client_id, "redirect_uri": redirect_uri, "scope": scope}
    params["state"] = state
    if pkce is not None:
        params["code_challenge"] = pkce.challenge
    if method is not None:
        params["code_challenge_method"] = method
    return params


async def _reply(response: aiohttp.ClientResponse) -> Reply:
    return Reply(response.status, await response.text(), dict(response.headers))


async def get(session: aiohttp.ClientSession, url: str, **kwargs: Any) -> Reply:
    async with session.get(url, allow_redirects=False, **kwargs) as response:
        return await _reply(response)


async def post(session: aiohttp.ClientSession, url: str, form: dict[str, str], **kwargs: Any) -> Reply:
    async with session.post(url, data=form, allow_redirects=False, **kwargs) as response:
        return await _reply(response)


async def exchange(
    session: aiohttp.ClientSession,
    token_url: str,
    client: Client,
    code: str,
    verifier: str | None,
    redirect_uri: str | None = REDIRECT_URI,
) -> Reply:
    """RFC 6749 §4.1.3 with RFC 7636 §4.5: the code, the redirect URI again, and the verifier."""
    form = {"grant_type": "authorization_code", "code": code}
    if redirect_uri is not None:
        form["redirect_uri"] = redirect_uri
    if verifier is not None:
        form["code_verifier"] = verifier
    headers, form = client.sign(form)
    return await post(session, token_url, form, headers=headers)


async def refresh(session: aiohttp.ClientSession, token_url: str, client: Client, refresh_token: str) -> Reply:
    headers, form = client.sign({"grant_type": "refresh_token", "refresh_token": refresh_token})
    return await post(session, token_url, form, headers=headers)


async def revoke(
    session: aiohttp.ClientSession, revoke_url: str, client: Client, token: str, hint: str | None = None
) -> Reply:
    form = {"token": token, **({"token_type_hint": hint} if hint else {})}
    headers, form = client.sign(form)
    return await post(session, revoke_url, form, headers=headers)


async def users_me(session: aiohttp.ClientSession, url: str, access_token: str | None) -> Reply:
    headers = {"Authorization": f"Bearer {access_token}"} if access_token is not None else {}
    return await get(session, url, headers=headers)
