"""loopauth against an OAuth 1.0a implementation that is not oauthlib: Authlib's server and client.

The CLI logs in as a subprocess against tests/authlib_provider.py, then requests signed by loopauth and by
Authlib's own client must pass Authlib's ResourceProtector, whose view of the parameters is echoed back.
"""

from __future__ import annotations

import json
import shlex
import sys
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from authlib.common.urls import url_encode
from authlib.oauth1 import ClientAuth
from yarl import URL

import loopauth
from loopauth.models import Credentials
from loopauth.protocol import FORM_CONTENT_TYPE, form_encode, sign

from .authlib_provider import CONSUMER_KEY, CONSUMER_SECRET, SCREEN_NAME, USER_ID, AuthlibProvider
from .conftest import run_cli_async

TRICKY = "a & b = c + 100% é"
# The user's browser: fetch the URL and follow every redirect (start page -> authorize -> callback).
# (Not a `python -c` script: BROWSER is a colon-separated list, so the command cannot hold a colon.)
FOLLOWING_BROWSER = shlex.join([sys.executable, str(Path(__file__).with_name("redirect_browser.py"))]) + " %s"


@pytest.fixture
async def authlib_provider() -> AsyncIterator[AuthlibProvider]:
    """Authlib's endpoints, HMAC-SHA1 only, on a free loopback port."""
    async with AuthlibProvider() as provider:
        yield provider


def login_args(provider: AuthlibProvider, name: str = "authlib") -> list[str]:
    return [
        "login",
        "--provider",
        name,
        "--request-token-url",
        provider.request_token_url,
        "--authorize-url",
        provider.authorize_url,
        "--access-token-url",
        provider.access_token_url,
        "--consumer-key",
        provider.consumer_key,
        "--consumer-secret",
        provider.consumer_secret,
        "--port",
        "0",
        "--timeout",
        "20",
    ]


async def cli_login(provider: AuthlibProvider, *args: str) -> Credentials:
    result = await run_cli_async(*(args or login_args(provider)), env={"BROWSER": FOLLOWING_BROWSER})
    assert result.returncode == 0, result.stderr
    return loopauth.load()


# --- sending one signed request ------------------------------------------------------------------------------

Pairs = Sequence[tuple[str, str]]


@dataclass(frozen=True)
class Call:
    """A request to the protected resource: its method, query and form parameters (decoded)."""

    method: str
    query: Pairs = ()
    form: Pairs = ()


CALLS = {
    "post-form": Call("POST", form=[("status", TRICKY), ("note", "ünïcødé ☃ ~*'()")]),
    "get-query": Call("GET", query=[("q", TRICKY), ("page", "2")]),
    # Same name in query and body, sorted by value in the base string (§3.4.1.3.2).
    "post-query-and-form": Call("POST", query=[("q", TRICKY)], form=[("q", "b é"), ("status", TRICKY)]),
}


@dataclass(frozen=True)
class Reply:
    status: int
    data: Any


async def send(method: str, url: str, headers: dict[str, str], body: str | bytes | None) -> Reply:
    data = body.encode("utf-8") if isinstance(body, str) else body
    async with (
        aiohttp.ClientSession() as session,
        # encoded=True: the URL goes out exactly as it was signed.
        session.request(method, URL(url, encoded=True), headers=headers, data=data or None) as response,
    ):
        return Reply(response.status, json.loads(await response.text()))


async def send_loopauth(
    provider: AuthlibProvider, creds: Credentials, call: Call, *, method: str = "HMAC-SHA1", **override: str
) -> Reply:
    url = provider.resource_url + (f"?{form_encode(call.query)}" if call.query else "")
    signed = sign(
        call.method,
        url,
        consumer_key=creds.consumer_key,
        consumer_secret=creds.consumer_secret,
        token=creds.oauth_token,
        token_secret=override.get("token_secret", creds.oauth_token_secret),
        form=call.form or None,
        signature_method=method,
    )
    body = override.get("body", signed.body)
    return await send(signed.method, signed.url, signed.headers, body)


async def send_authlib(
    provider: AuthlibProvider, creds: Credentials, call: Call, *, method: str = "HMAC-SHA1"
) -> Reply:
    auth = ClientAuth(
        creds.consumer_key,
        client_secret=creds.consumer_secret,
        token=creds.oauth_token,
        token_secret=creds.oauth_token_secret,
        signature_method=method,
    )
    url = provider.resource_url + (f"?{url_encode(call.query)}" if call.query else "")
    headers = {"Content-Type": FORM_CONTENT_TYPE} if call.form else {}
    body = url_encode(call.form) if call.form else ""
    url, headers, body = auth.prepare(call.method, url, headers, body)
    return await send(call.method, url, headers, body)


def accepted(reply: Reply, call: Call, method: str = "HMAC-SHA1") -> None:
    assert reply.status == 200, reply.data
    assert reply.data["user_id"] == USER_ID
    assert reply.data["signature_method"] == method
    assert sorted(map(tuple, reply.data["params"])) == sorted([*call.query, *call.form])


# --- the login --------------------------------------------------------------------------------------------------


async def test_cli_logs_in_against_authlibs_authorization_server(authlib_provider: AuthlibProvider) -> None:
    """`loopauth login` completes all three legs with Authlib's server and stores the token Authlib issued."""
    result = await run_cli_async(*login_args(authlib_provider), env={"BROWSER": FOLLOWING_BROWSER})
    assert result.returncode == 0, result.stderr
    token = await run_cli_async("token", "--json")
    assert token.returncode == 0, token.stderr
    stored = json.loads(token.stdout)

    issued = authlib_provider.state.tokens[stored["oauth_token"]]
    assert stored["oauth_token_secret"] == issued.oauth_token_secret
    assert (stored["user_id"], stored["screen_name"]) == (USER_ID, SCREEN_NAME)
    assert (stored["consumer_key"], stored["consumer_secret"]) == (CONSUMER_KEY, CONSUMER_SECRET)
    assert authlib_provider.state.temporary == {}, "the request token was not exchanged"
    assert authlib_provider.state.callbacks[0].startswith("http://127.0.0.1:")
    # Authlib confirms with a capital T; loopauth must not read that as an OAuth 1.0 downgrade.
    assert "oauth_callback_confirmed=True" in authlib_provider.state.request_token_replies[0]


# --- signed requests ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("call", CALLS.values(), ids=CALLS.keys())
async def test_loopauth_signatures_pass_authlibs_resource_protector(
    authlib_provider: AuthlibProvider, call: Call
) -> None:
    """A request signed by loopauth.protocol.sign with the stored credentials is accepted, its parameters intact."""
    creds = await cli_login(authlib_provider)
    accepted(await send_loopauth(authlib_provider, creds, call), call)


@pytest.mark.parametrize("call", CALLS.values(), ids=CALLS.keys())
async def test_authlib_client_signatures_with_stored_credentials_pass(
    authlib_provider: AuthlibProvider, call: Call
) -> None:
    """Authlib's own client, given the credentials loopauth stored, is accepted: loopauth stored them verbatim."""
    creds = await cli_login(authlib_provider)
    accepted(await send_authlib(authlib_provider, creds, call), call)


@pytest.mark.parametrize("tamper", ["token_secret", "body"])
async def test_authlib_rejects_what_loopauth_did_not_sign(authlib_provider: AuthlibProvider, tamper: str) -> None:
    """A wrong token secret or a changed form value fails Authlib's check, so the accepting tests can fail."""
    creds = await cli_login(authlib_provider)
    call = CALLS["post-form"]
    override = {tamper: "wrong" if tamper == "token_secret" else form_encode([("status", TRICKY + "!")])}
    reply = await send_loopauth(authlib_provider, creds, call, **override)
    assert (reply.status, reply.data["error"]) == (401, "invalid_signature")
