"""The Authlib OAuth 2.0 test provider, driven by hand over HTTP (tests/oauth2_by_hand.py).

It has to hold the same rules as the demo provider, so that a future client test against it means something:
these tests check each rule against Authlib's answers, which differ from oauthlib's in their words.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from .authlib_oauth2_provider import (
    CONFIDENTIAL_CLIENT_ID,
    CONFIDENTIAL_CLIENT_SECRET,
    PUBLIC_CLIENT_ID,
    USER_ID,
    USER_NAME,
    USERNAME,
    AuthlibOAuth2Provider,
)
from .oauth2_by_hand import (
    STATE,
    Client,
    Pkce,
    Reply,
    authorize_params,
    exchange,
    get,
    new_pkce,
    refresh,
    revoke,
    users_me,
)

PUBLIC = Client(PUBLIC_CLIENT_ID)
BASIC = Client(CONFIDENTIAL_CLIENT_ID, CONFIDENTIAL_CLIENT_SECRET, "basic")
POST = Client(CONFIDENTIAL_CLIENT_ID, CONFIDENTIAL_CLIENT_SECRET, "post")


@pytest.fixture
async def provider() -> AsyncIterator[AuthlibOAuth2Provider]:
    async with AuthlibOAuth2Provider() as authlib_provider:
        yield authlib_provider


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client_session:
        yield client_session


async def authorize(provider: AuthlibOAuth2Provider, session: aiohttp.ClientSession, params: dict[str, str]) -> Reply:
    """The browser's GET of the authorize URL; the page decides at once and redirects."""
    return await get(session, provider.authorize_url, params=params)


async def code_for(
    provider: AuthlibOAuth2Provider, session: aiohttp.ClientSession, client: Client, pkce: Pkce, **params: str
) -> str:
    reply = await authorize(provider, session, authorize_params(client.client_id, pkce, **params))
    assert reply.status == 302, reply.text
    query = reply.location_query
    assert query["state"] == params.get("state", STATE)
    return query["code"]


async def login(
    provider: AuthlibOAuth2Provider, session: aiohttp.ClientSession, client: Client = PUBLIC, **params: str
) -> dict[str, Any]:
    pkce = new_pkce()
    code = await code_for(provider, session, client, pkce, **params)
    reply = await exchange(session, provider.token_url, client, code, pkce.verifier)
    assert reply.status == 200, reply.text
    tokens: dict[str, Any] = reply.json()
    return tokens


def test_plain_http_to_loopback_needs_no_insecure_transport_override() -> None:
    """Authlib >= 1.9 lets loopback http through itself; nothing here sets AUTHLIB_INSECURE_TRANSPORT."""
    assert "AUTHLIB_INSECURE_TRANSPORT" not in os.environ


async def test_public_client_logs_in_with_code_and_pkce(
    provider: AuthlibOAuth2Provider, session: aiohttp.ClientSession
) -> None:
    """Authlib issues a bearer token and a refresh token for the public client, and /2/users/me answers."""
    tokens = await login(provider, session)
    assert tokens["token_type"].lower() == "bearer"
    assert (tokens["expires_in"], tokens["scope"]) == (7200, "tweet.read users.read offline.access")
    assert tokens["refresh_token"] in provider.state.refresh_tokens
    me = await users_me(session, provider.users_me_url, tokens["access_token"])
    assert me.status == 200
    assert me.json() == {"data": {"id": USER_ID, "name": USER_NAME, "username": USERNAME}}


@pytest.mark.parametrize("client", [BASIC, POST], ids=["client_secret_basic", "client_secret_post"])
async def test_confidential_client_logs_in_with_basic_or_post(
    provider: AuthlibOAuth2Provider, session: aiohttp.ClientSession, client: Client
) -> None:
    """The nasty secret passes Authlib's Basic (form-encoded) and client_secret_post."""
    assert set("+/&=%é") <= set(CONFIDENTIAL_CLIENT_SECRET)
    tokens = await login(provider, session, client)
    assert provider.state.access_tokens[tokens["access_token"]].family.client_id == CONFIDENTIAL_CLIENT_ID


@pytest.mark.parametrize(
    "client",
    [
        Client(CONFIDENTIAL_CLIENT_ID, CONFIDENTIAL_CLIENT_SECRET, "basic-unencoded"),
        Client(CONFIDENTIAL_CLIENT_ID, "wrong", "basic"),
        Client(CONFIDENTIAL_CLIENT_ID),
    ],
    ids=["basic-not-form-encoded", "basic-wrong-secret", "no-secret"],
)
async def test_bad_client_authentication_is_401_invalid_client(
    provider: AuthlibOAuth2Provider, session: aiohttp.ClientSession, client: Client
) -> None:
    """A secret sent without RFC 6749 §2.3.1 encoding, a wrong one, or none: 401 invalid_client."""
    pkce = new_pkce()
    code = await code_for(provider, session, BASIC, pkce)
    reply = await exchange(session, provider.token_url, client, code, pkce.verifier)
    assert (reply.status, reply.error) == (401, "invalid_client")
    assert provider.state.access_tokens == {}


async def test_deny_redirects_with_access_denied_and_the_state(
    provider: AuthlibOAuth2Provider, session: aiohttp.ClientSession
) -> None:
    """With approve off, the page redirects with error=access_denied and the state."""
    provider.approve = False
    reply = await authorize(provider, session, authorize_params(PUBLIC.client_id, new_pkce()))
    assert reply.status == 302
    assert (reply.location_query["error"], reply.location_query["state"]) == ("access_denied", STATE)
    assert provider.state.codes == {}


@pytest.mark.parametrize(
    ("pkce", "method"),
    [(None, None), (new_pkce(), "plain"), (new_pkce(), None)],
    ids=["no-challenge", "plain", "no-method"],
)
async def test_authorization_without_an_s256_challenge_is_refused(
    provider: AuthlibOAuth2Provider, session: aiohttp.ClientSession, pkce: Pkce | None, method: str | None
) -> None:
    """PKCE is required and S256 only: invalid_request with the state, and no code issued."""
    reply = await authorize(provider, session, authorize_params(PUBLIC.client_id, pkce, method=method))
    assert reply.status == 302
    assert (reply.location_query["error"], reply.location_query["state"]) == ("invalid_request", STATE)
    assert provider.state.codes == {}


async def test_wrong_code_verifier_is_invalid_grant(
    provider: AuthlibOAuth2Provider, session: aiohttp.ClientSession
) -> None:
    """Another verifier fails Authlib's S256 check with invalid_grant; the right one still works."""
    pkce = new_pkce()
    code = await code_for(provider, session, PUBLIC, pkce)
    wrong = await exchange(session, provider.token_url, PUBLIC, code, new_pkce().verifier)
    assert (wrong.status, wrong.error) == (400, "invalid_grant")
    right = await exchange(session, provider.token_url, PUBLIC, code, pkce.verifier)
    assert right.status == 200, right.text


async def test_code_replay_is_refused_and_revokes_what_the_code_gave(
    provider: AuthlibOAuth2Provider, session: aiohttp.ClientSession
) -> None:
    """A code works once; a replay is invalid_grant and ends the tokens it was exchanged for."""
    pkce = new_pkce()
    code = await code_for(provider, session, PUBLIC, pkce)
    first = await exchange(session, provider.token_url, PUBLIC, code, pkce.verifier)
    assert first.status == 200
    again = await exchange(session, provider.token_url, PUBLIC, code, pkce.verifier)
    assert (again.status, again.error) == (400, "invalid_grant")
    assert provider.state.code_reuses == 1
    assert (await users_me(session, provider.users_me_url, first.json()["access_token"])).status == 401


async def test_token_request_must_repeat_the_redirect_uri_exactly(
    provider: AuthlibOAuth2Provider, session: aiohttp.ClientSession
) -> None:
    """Another (registered) loopback port at the token endpoint than at authorize is invalid_grant."""
    pkce = new_pkce()
    code = await code_for(provider, session, PUBLIC, pkce)
    reply = await exchange(session, provider.token_url, PUBLIC, code, pkce.verifier, "http://127.0.0.1:10/callback")
    assert (reply.status, reply.error) == (400, "invalid_grant")


@pytest.mark.parametrize("redirect_uri", ["http://127.0.0.1:51234/callback", "http://[::1]:8470/callback"])
async def test_registered_loopback_redirect_matches_any_port(
    provider: AuthlibOAuth2Provider, session: aiohttp.ClientSession, redirect_uri: str
) -> None:
    """RFC 8252 §7.3 through Authlib's check_redirect_uri: any port on the registered loopback callback."""
    pkce = new_pkce()
    code = await code_for(provider, session, PUBLIC, pkce, redirect_uri=redirect_uri)
    reply = await exchange(session, provider.token_url, PUBLIC, code, pkce.verifier, redirect_uri)
    assert reply.status == 200, reply.text


async def test_unregistered_redirect_uri_is_not_redirected_to(
    provider: AuthlibOAuth2Provider, session: aiohttp.ClientSession
) -> None:
    """A localhost callback is not the registered IP literal: a 400 error, never a redirect there."""
    params = authorize_params(PUBLIC.client_id, new_pkce(), redirect_uri="http://localhost:8470/callback")
    reply = await authorize(provider, session, params)
    assert (reply.status, reply.error) == (400, "invalid_request")
    assert "Location" not in reply.headers


async def test_refresh_rotates_the_refresh_token(
    provider: AuthlibOAuth2Provider, session: aiohttp.ClientSession
) -> None:
    """Each refresh returns a new refresh token with the new access token."""
    first = await login(provider, session)
    reply = await refresh(session, provider.token_url, PUBLIC, first["refresh_token"])
    assert reply.status == 200, reply.text
    second = reply.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert second["scope"] == first["scope"]
    assert provider.state.refreshes == 1
    assert (await users_me(session, provider.users_me_url, second["access_token"])).status == 200


async def test_reusing_a_rotated_refresh_token_revokes_the_family(
    provider: AuthlibOAuth2Provider, session: aiohttp.ClientSession
) -> None:
    """A rotated refresh token used again is invalid_grant, and the newer refresh token and access tokens die."""
    first = await login(provider, session, BASIC)
    second = (await refresh(session, provider.token_url, BASIC, first["refresh_token"])).json()
    reused = await refresh(session, provider.token_url, BASIC, first["refresh_token"])
    assert (reused.status, reused.error) == (400, "invalid_grant")
    assert provider.state.refresh_token_reuses == 1
    newer = await refresh(session, provider.token_url, BASIC, second["refresh_token"])
    assert (newer.status, newer.error) == (400, "invalid_grant")
    for access in (first["access_token"], second["access_token"]):
        assert (await users_me(session, provider.users_me_url, access)).status == 401
    assert provider.state.revoked_access_tokens == set(provider.state.access_tokens)


async def test_no_refresh_token_without_offline_access(
    provider: AuthlibOAuth2Provider, session: aiohttp.ClientSession
) -> None:
    """As on X, only offline.access brings a refresh token."""
    tokens = await login(provider, session, scope="tweet.read users.read")
    assert "refresh_token" not in tokens
    assert provider.state.refresh_tokens == {}


async def test_revoking_an_access_token_ends_only_it(
    provider: AuthlibOAuth2Provider, session: aiohttp.ClientSession
) -> None:
    """Authlib's RFC 7009 endpoint: the access token is refused afterwards, the refresh token still works."""
    tokens = await login(provider, session)
    reply = await revoke(session, provider.revoke_url, PUBLIC, tokens["access_token"], "access_token")
    assert reply.status == 200
    assert (await users_me(session, provider.users_me_url, tokens["access_token"])).status == 401
    assert (await refresh(session, provider.token_url, PUBLIC, tokens["refresh_token"])).status == 200


@pytest.mark.parametrize("hint", ["refresh_token", "access_token", None])
async def test_revoking_a_refresh_token_ends_its_access_tokens(
    provider: AuthlibOAuth2Provider, session: aiohttp.ClientSession, hint: str | None
) -> None:
    """Revoking the refresh token (any hint) ends it and its access tokens."""
    tokens = await login(provider, session, BASIC)
    reply = await revoke(session, provider.revoke_url, BASIC, tokens["refresh_token"], hint)
    assert reply.status == 200
    assert (await users_me(session, provider.users_me_url, tokens["access_token"])).status == 401
    again = await refresh(session, provider.token_url, BASIC, tokens["refresh_token"])
    assert (again.status, again.error) == (400, "invalid_grant")


async def test_revoking_an_unknown_token_answers_200(
    provider: AuthlibOAuth2Provider, session: aiohttp.ClientSession
) -> None:
    """RFC 7009 §2.2: an unknown token is answered 200."""
    reply = await revoke(session, provider.revoke_url, PUBLIC, "no-such-token")
    assert reply.status == 200


async def test_users_me_refuses_missing_expired_and_revoked_tokens(
    provider: AuthlibOAuth2Provider, session: aiohttp.ClientSession
) -> None:
    """Authlib's ResourceProtector answers 401 for no token, an expired one and a revoked one."""
    assert (await users_me(session, provider.users_me_url, None)).status == 401
    tokens = await login(provider, session)
    provider.expire_access_tokens()
    expired = await users_me(session, provider.users_me_url, tokens["access_token"])
    assert (expired.status, expired.error) == (401, "invalid_token")
    fresh = (await refresh(session, provider.token_url, PUBLIC, tokens["refresh_token"])).json()
    assert (await users_me(session, provider.users_me_url, fresh["access_token"])).status == 200
    await revoke(session, provider.revoke_url, PUBLIC, fresh["access_token"])
    assert (await users_me(session, provider.users_me_url, fresh["access_token"])).status == 401


async def test_users_me_needs_the_users_read_scopes(
    provider: AuthlibOAuth2Provider, session: aiohttp.ClientSession
) -> None:
    """A token without users.read gets Authlib's 403 insufficient_scope."""
    tokens = await login(provider, session, scope="tweet.read offline.access")
    reply = await users_me(session, provider.users_me_url, tokens["access_token"])
    assert (reply.status, reply.error) == (403, "insufficient_scope")


async def test_short_lived_access_tokens_expire_on_time(session: aiohttp.ClientSession) -> None:
    """access_token_lifetime is what expires_in says, and the token stops working when it runs out."""
    async with AuthlibOAuth2Provider(access_token_lifetime=1) as provider:
        tokens = await login(provider, session)
        assert tokens["expires_in"] == 1
        assert (await users_me(session, provider.users_me_url, tokens["access_token"])).status == 200
        await asyncio.sleep(1.05)
        assert (await users_me(session, provider.users_me_url, tokens["access_token"])).status == 401


async def test_token_type_is_authlibs_own_capitalised_bearer(
    provider: AuthlibOAuth2Provider, session: aiohttp.ClientSession
) -> None:
    """Unlike X and the demo, Authlib says "Bearer": a client must compare token_type case-insensitively."""
    tokens = await login(provider, session)
    assert tokens["token_type"] == "Bearer"
