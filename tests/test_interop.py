"""loopauth against an OAuth 1.0a implementation that is not oauthlib: Authlib's server and client.

The CLI logs in as a subprocess against tests/authlib_provider.py, then requests signed by loopauth and by
Authlib's own client must pass Authlib's ResourceProtector, whose view of the parameters is echoed back.
"""

from __future__ import annotations

import asyncio
import json
import shlex
import sys
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from authlib.common.urls import url_encode
from authlib.oauth1 import ClientAuth
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from yarl import URL

import loopauth
from loopauth.errors import EXIT_PROVIDER, NotLoggedIn
from loopauth.http import Client
from loopauth.models import Credentials, Provider
from loopauth.oauth1.dance import OAuth1Dance
from loopauth.oauth1.signing import FORM_CONTENT_TYPE, Consumer, form_encode, sign

from .authlib_provider import CONSUMER_KEY, CONSUMER_SECRET, SCREEN_NAME, USER_ID, AuthlibProvider
from .conftest import CliAsync, oauth1, run_cli_async

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
    return oauth1(loopauth.load())


class FollowingBrowser:
    """An ``open_browser`` for login_async: GET the URL in the background, following redirects, as a browser would."""

    def __init__(self) -> None:
        self.tasks: list[asyncio.Task[int]] = []

    async def __call__(self, url: str) -> bool:
        self.tasks.append(asyncio.create_task(self._follow(url)))
        return True

    @staticmethod
    async def _follow(url: str) -> int:
        async with aiohttp.ClientSession() as session, session.get(url) as response:
            await response.read()
            return response.status


def write_providers_toml(config_dir: Path, name: str, provider: AuthlibProvider, method: str) -> None:
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "providers.toml").write_text(
        f'[{name}]\nrequest_token_url = "{provider.request_token_url}"\n'
        f'authorize_url = "{provider.authorize_url}"\naccess_token_url = "{provider.access_token_url}"\n'
        f'signature_method = "{method}"\n',
        encoding="utf-8",
    )


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


async def send(method: str, url: str, headers: Mapping[str, str], body: str | bytes | None) -> Reply:
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
        Consumer(creds.consumer_key, creds.consumer_secret, method),
        token=creds.oauth_token,
        token_secret=override.get("token_secret", creds.oauth_token_secret),
        form=call.form or None,
    )
    body = override.get("body", (signed.body or b"").decode())
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


async def test_cli_logs_in_against_authlibs_authorization_server(
    cli_async: CliAsync, authlib_provider: AuthlibProvider
) -> None:
    """`loopauth login` completes all three legs with Authlib's server and stores the token Authlib issued."""
    result = await run_cli_async(*login_args(authlib_provider), env={"BROWSER": FOLLOWING_BROWSER})
    assert result.returncode == 0, result.stderr
    token = await cli_async("token", "--json")
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
    """A request loopauth signed with the stored credentials is accepted, its parameters intact."""
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


# --- other signature methods ----------------------------------------------------------------------------------


async def test_plaintext_login_and_requests_pass_authlib(config_dir: Path) -> None:
    """PLAINTEXT over loopback: the CLI logs in with it and its requests pass a PLAINTEXT-only Authlib."""
    async with AuthlibProvider(methods=["PLAINTEXT"]) as provider:
        write_providers_toml(config_dir, "authlib-plain", provider, "PLAINTEXT")
        args = ["login", "--provider", "authlib-plain", "--consumer-key", CONSUMER_KEY]
        args += ["--consumer-secret", CONSUMER_SECRET, "--port", "0", "--timeout", "20"]
        creds = await cli_login(provider, *args)
        assert creds.endpoints is not None
        assert creds.endpoints.signature_method == "PLAINTEXT"
        call = CALLS["post-form"]
        accepted(await send_loopauth(provider, creds, call, method="PLAINTEXT"), call, "PLAINTEXT")
        accepted(await send_authlib(provider, creds, call, method="PLAINTEXT"), call, "PLAINTEXT")
        hmac = await send_loopauth(provider, creds, call)
        assert (hmac.status, hmac.data["error"]) == (400, "unsupported_signature_method")


async def test_hmac_sha256_is_refused_by_authlib_and_the_cli_says_so(config_dir: Path) -> None:
    """Authlib has no HMAC-SHA256: the login ends as a provider error quoting Authlib, and nothing is stored."""
    async with AuthlibProvider(methods=["HMAC-SHA1", "PLAINTEXT", "RSA-SHA1"]) as provider:
        write_providers_toml(config_dir, "authlib-256", provider, "HMAC-SHA256")
        args = ["login", "--provider", "authlib-256", "--consumer-key", CONSUMER_KEY]
        args += ["--consumer-secret", CONSUMER_SECRET, "--port", "0", "--timeout", "20"]
        result = await run_cli_async(*args, env={"BROWSER": FOLLOWING_BROWSER})
    assert result.returncode == EXIT_PROVIDER, result.stderr
    assert "unsupported_signature_method" in result.stderr
    assert provider.state.temporary == {}
    assert provider.state.tokens == {}
    with pytest.raises(NotLoggedIn):
        loopauth.load()


async def test_rsa_sha1_login_and_requests_pass_authlib(tmp_path: Path) -> None:
    """RSA-SHA1 (login_async with a key file; the CLI has no key option): Authlib verifies with the public key."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    public = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    key_file = tmp_path / "consumer.pem"
    key_file.write_bytes(pem)
    async with AuthlibProvider(methods=["RSA-SHA1"], rsa_public_key=public.decode()) as provider:
        browser = FollowingBrowser()
        creds = await loopauth.login_async(
            provider=Provider(
                "authlib-rsa", provider.request_token_url, provider.authorize_url, provider.access_token_url
            ),
            consumer_key=CONSUMER_KEY,
            consumer_secret="",
            signature_method="RSA-SHA1",
            rsa_key_file=str(key_file),
            port=0,
            timeout=20,
            open_browser=browser,
            say=lambda _: None,
        )
        assert [await task for task in browser.tasks] == [200]
        creds = oauth1(creds)
        assert creds.oauth_token in provider.state.tokens
        call = CALLS["post-query-and-form"]
        other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        other_pem = other.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        replies = []
        for signing_key in (pem, other_pem):
            signed = sign(
                "POST",
                f"{provider.resource_url}?{form_encode(call.query)}",
                Consumer(creds.consumer_key, "", "RSA-SHA1", signing_key.decode()),
                token=creds.oauth_token,
                token_secret=creds.oauth_token_secret,
                form=call.form,
            )
            replies.append(await send(signed.method, signed.url, signed.headers, (signed.body or b"").decode()))
    accepted(replies[0], call, "RSA-SHA1")
    assert (replies[1].status, replies[1].data["error"]) == (401, "invalid_signature")


@pytest.mark.xfail(
    strict=True,
    reason="Authlib decodes oauth_* values from the Authorization header twice (rfc5849/wrapper.py, then "
    "construct_base_string), so it signs next=/home where RFC 5849 §3.5.1 and §3.4.1.3.1 (and oauthlib) "
    "sign next=%2Fhome; loopauth's own callback URL has no percent-encoding and never meets this",
)
async def test_callback_with_an_encoded_query_passes_authlibs_request_token_check(
    authlib_provider: AuthlibProvider,
) -> None:
    """A callback URL carrying a percent-encoded query is accepted in the request-token call."""
    provider = Provider(
        "authlib", authlib_provider.request_token_url, authlib_provider.authorize_url, authlib_provider.access_token_url
    )
    dance = OAuth1Dance(provider, Consumer(CONSUMER_KEY, CONSUMER_SECRET))
    with Client() as client:
        await asyncio.to_thread(dance.begin, client, "http://127.0.0.1:9/callback?next=%2Fhome", timeout=10)
    assert dance.request_token is not None
    assert dance.request_token.oauth_token in authlib_provider.state.temporary
