"""loopauth's OAuth 2.0 client against node's ``oidc-provider``, a certified OpenID Provider (tests/oidc_provider.py).

The demo provider and the Authlib one are Python servers that tests here set up; this one is a provider many
real deployments run, configured as strictly as it allows: PKCE required of every client, native loopback
redirects (any port, RFC 8252 §7.3), a refresh token only with ``offline_access`` and ``prompt=consent``,
rotation on every refresh with reuse detection (a spent refresh token sent again revokes the grant), RFC 7009
revocation and the userinfo endpoint. Its login and consent pages are filled in by :class:`FormBrowser`.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import jwt
import pytest

import loopauth
from loopauth.errors import AuthorizationDenied, NotLoggedIn
from loopauth.models import OAuth2Credentials, OAuth2Provider
from loopauth.store import CredentialStore

from .conftest import run_cli_async
from .oidc_provider import (
    CONFIDENTIAL_CLIENT_ID,
    CONFIDENTIAL_CLIENT_SECRET,
    PUBLIC_CLIENT_ID,
    FormBrowser,
    NodeOidcProvider,
    node_oidc_provider,
)

SCOPES = ("openid", "profile", "email", "offline_access")
NAME = "node-oidc"
USER = "alice"
REFRESH = "refresh_token"


@pytest.fixture
async def op() -> AsyncIterator[NodeOidcProvider]:
    async with node_oidc_provider() as provider:
        yield provider


def endpoints(op: NodeOidcProvider) -> OAuth2Provider:
    return OAuth2Provider(
        name=NAME,
        authorize_url=op.endpoint("authorization_endpoint"),
        token_url=op.endpoint("token_endpoint"),
        verify_url=op.endpoint("userinfo_endpoint"),
        revoke_url=op.endpoint("revocation_endpoint"),
        scopes=SCOPES,
        # oidc-provider grants offline_access (and so a refresh token) only on an explicit consent prompt.
        authorize_params={"prompt": "consent"},
    )


async def login(op: NodeOidcProvider, browser: FormBrowser | None = None, **keywords: Any) -> OAuth2Credentials:
    browser = browser or FormBrowser(user=USER)
    creds = await loopauth.login_async(
        provider=endpoints(op), port=0, timeout=30, open_browser=browser, say=lambda _: None, **keywords
    )
    assert await browser.finished() == [200]
    assert isinstance(creds, OAuth2Credentials)
    return creds


def stored() -> OAuth2Credentials:
    creds = CredentialStore().load("default")
    assert isinstance(creds, OAuth2Credentials)
    return creds


def age(seconds: int = 10_000) -> None:
    """Make the stored access token due, as if time had passed (the provider's own clock is not touched)."""
    creds = stored()
    assert creds.expires_at is not None
    assert creds.issued_at is not None
    CredentialStore().save(creds.replace(expires_at=creds.expires_at - seconds, issued_at=creds.issued_at - seconds))


async def userinfo(op: NodeOidcProvider, access_token: str) -> tuple[int, dict[str, Any]]:
    async with (
        aiohttp.ClientSession() as session,
        session.get(op.endpoint("userinfo_endpoint"), headers={"Authorization": f"Bearer {access_token}"}) as r,
    ):
        return r.status, (await r.json() if r.content_type == "application/json" else {})


async def refresh_by_hand(op: NodeOidcProvider, refresh_token: str) -> tuple[int, dict[str, Any]]:
    form = {"grant_type": REFRESH, "refresh_token": refresh_token, "client_id": PUBLIC_CLIENT_ID}
    async with aiohttp.ClientSession() as session, session.post(op.endpoint("token_endpoint"), data=form) as r:
        return r.status, await r.json()


async def test_public_client_logs_in_with_pkce_and_gets_a_working_pair(op: NodeOidcProvider) -> None:
    """A public native client: PKCE S256, any loopback port, consent given; the pair works at userinfo."""
    browser = FormBrowser(user=USER)
    creds = await login(op, browser, client_id=PUBLIC_CLIENT_ID)
    assert creds.refresh_token
    assert creds.user_id == USER  # from the userinfo answer's `sub`
    assert set((creds.scope or "").split()) == set(SCOPES)
    assert stored() == creds
    assert await userinfo(op, creds.access_token) == (
        200,
        {
            "sub": USER,
            "preferred_username": USER,
            "name": f"Test {USER}",
            "email": f"{USER}@example.test",
            "email_verified": True,
        },
    )
    # The browser went through the provider's login and consent pages, then to loopauth's loopback callback.
    assert any("/interaction/" in page for page in browser.pages)
    assert browser.pages[-1].startswith("http://127.0.0.1:")
    assert [e["client_id"] for e in op.grants("authorization_code")] == [PUBLIC_CLIENT_ID]


async def test_confidential_client_logs_in_with_basic_auth(op: NodeOidcProvider) -> None:
    """client_secret_basic at the token endpoint, which oidc-provider checks against its registration."""
    creds = await login(op, client_id=CONFIDENTIAL_CLIENT_ID, client_secret=CONFIDENTIAL_CLIENT_SECRET)
    assert creds.client_secret == CONFIDENTIAL_CLIENT_SECRET
    assert (await userinfo(op, creds.access_token))[0] == 200
    assert [e["client_id"] for e in op.grants("authorization_code")] == [CONFIDENTIAL_CLIENT_ID]


async def test_refresh_rotates_and_the_spent_token_is_never_sent_again(op: NodeOidcProvider) -> None:
    """Two due loads, two rotations; oidc-provider revokes the grant on any reuse, so it staying alive (and
    no grant error in its log) shows each refresh token went out once."""
    first = await login(op, client_id=PUBLIC_CLIENT_ID)
    age()
    second = await asyncio.to_thread(loopauth.load)
    assert isinstance(second, OAuth2Credentials)
    assert second.access_token != first.access_token
    assert second.refresh_token not in (None, first.refresh_token)
    age()
    third = await asyncio.to_thread(loopauth.load)
    assert isinstance(third, OAuth2Credentials)
    assert third.refresh_token not in (first.refresh_token, second.refresh_token)
    assert await asyncio.to_thread(loopauth.load) == third == stored()
    assert len(op.grants(REFRESH)) == 2
    assert op.grant_errors() == []
    assert (await userinfo(op, third.access_token))[0] == 200


async def test_eight_processes_at_expiry_cause_one_refresh(op: NodeOidcProvider) -> None:
    """Eight `loopauth token` processes on a due profile: one refresh grant, one new token for all."""
    await login(op, client_id=PUBLIC_CLIENT_ID)
    age()
    results = await asyncio.gather(*(run_cli_async("token", "--field", "access_token") for _ in range(8)))
    assert [r.returncode for r in results] == [0] * 8, [r.stderr for r in results]
    assert {r.stdout.strip() for r in results} == {stored().access_token}
    assert len(op.grants(REFRESH)) == 1
    assert op.grant_errors() == []


async def test_a_replayed_refresh_token_kills_the_grant_and_loopauth_asks_for_a_login(op: NodeOidcProvider) -> None:
    """The reuse detector is real: a spent refresh token sent again (by a thief) revokes the grant there, and
    loopauth's next refresh gets invalid_grant: NotLoggedIn, the profile kept and marked."""
    first = await login(op, client_id=PUBLIC_CLIENT_ID)
    age()
    assert isinstance(await asyncio.to_thread(loopauth.load), OAuth2Credentials)
    assert first.refresh_token is not None
    status, answer = await refresh_by_hand(op, first.refresh_token)
    assert (status, answer["error"]) == (400, "invalid_grant")
    age()
    with pytest.raises(NotLoggedIn):
        await asyncio.to_thread(loopauth.load)
    assert stored().needs_login


async def test_denying_consent_is_authorization_denied(op: NodeOidcProvider) -> None:
    """Cancel on the consent page: the provider sends error=access_denied to the callback; nothing is stored."""
    browser = FormBrowser(user=USER, approve=False)
    with pytest.raises(AuthorizationDenied):
        await loopauth.login_async(
            provider=endpoints(op),
            client_id=PUBLIC_CLIENT_ID,
            port=0,
            timeout=30,
            open_browser=browser,
            say=lambda _: None,
        )
    await browser.finished()
    with pytest.raises(NotLoggedIn):
        stored()


async def test_verify_and_request_carry_a_bearer_the_provider_accepts(op: NodeOidcProvider) -> None:
    """`verify` reads userinfo; `request` sends the stored bearer and prints the provider's answer."""
    await login(op, client_id=PUBLIC_CLIENT_ID)
    verified = await run_cli_async("verify")
    assert verified.returncode == 0, verified.stderr
    assert f"(user id {USER}) on {NAME}" in verified.stdout
    answer = await run_cli_async("request", op.endpoint("userinfo_endpoint"))
    assert answer.returncode == 0, answer.stderr
    assert json.loads(answer.stdout)["sub"] == USER


async def test_logout_revoke_ends_the_grant_at_the_revocation_endpoint(op: NodeOidcProvider) -> None:
    """logout --revoke: RFC 7009 at oidc-provider; the refresh token no longer refreshes, the profile is gone."""
    creds = await login(op, client_id=PUBLIC_CLIENT_ID)
    result = await run_cli_async("logout", "--revoke")
    assert result.returncode == 0, result.stderr
    assert [e["event"] for e in op.events if e["event"] == "grant_revoked"] == ["grant_revoked"]
    assert creds.refresh_token is not None
    status, answer = await refresh_by_hand(op, creds.refresh_token)
    assert (status, answer["error"]) == (400, "invalid_grant")
    assert (await userinfo(op, creds.access_token))[0] == 401
    with pytest.raises(NotLoggedIn):
        stored()


async def test_login_by_issuer_alone_discovers_verifies_the_id_token_and_refreshes_it(op: NodeOidcProvider) -> None:
    """OpenID Connect: the issuer URL is all loopauth is given. The endpoints come from oidc-provider's discovery
    document, its ID token (RS256 from its jwks_uri, with our nonce) is verified and stored, its RFC 9207 `iss`
    on the callback is checked, and a refresh's new ID token (same iss, sub, aud) replaces it."""
    browser = FormBrowser(user=USER)
    creds = await loopauth.login_async(
        issuer=op.issuer,
        client_id=PUBLIC_CLIENT_ID,
        scopes=SCOPES,
        authorize_params={"prompt": "consent"},
        port=0,
        timeout=30,
        open_browser=browser,
        say=lambda _: None,
    )
    assert await browser.finished() == [200]
    assert isinstance(creds, OAuth2Credentials)
    assert "iss=" in browser.pages[-1]  # the provider sent RFC 9207's iss, and loopauth took the callback
    endpoints = creds.endpoints
    assert endpoints.issuer == op.issuer
    assert (endpoints.authorize_url, endpoints.token_url) == (
        op.endpoint("authorization_endpoint"),
        op.endpoint("token_endpoint"),
    )
    assert endpoints.revoke_url == op.endpoint("revocation_endpoint")
    assert endpoints.verify_url == op.endpoint("userinfo_endpoint")
    assert endpoints.jwks_url == op.endpoint("jwks_uri")
    assert endpoints.device_authorization_url == op.endpoint("device_authorization_endpoint")
    assert endpoints.requires_iss
    assert creds.id_token is not None
    claims = jwt.decode(creds.id_token, options={"verify_signature": False})
    assert (claims["sub"], claims["aud"], claims["iss"]) == (USER, PUBLIC_CLIENT_ID, op.issuer)
    assert creds.screen_name == USER  # preferred_username, from userinfo
    age()
    renewed = await asyncio.to_thread(loopauth.load)
    assert isinstance(renewed, OAuth2Credentials)
    assert renewed.id_token not in (None, creds.id_token)
    assert jwt.decode(renewed.id_token, options={"verify_signature": False})["sub"] == USER
    assert stored() == renewed
    assert op.grant_errors() == []
