"""The OAuth 2.0 demo provider, driven by hand over HTTP (tests/oauth2_by_hand.py) and by loopauth.demo.play_user."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urlsplit

import aiohttp
import pytest
from aiohttp import web

from loopauth.demo import DEMO_SCREEN_NAME, DEMO_USER_ID, play_user
from loopauth.demo.oauth2 import (
    DEMO_OAUTH2_CONFIDENTIAL_CLIENT_ID,
    DEMO_OAUTH2_CONFIDENTIAL_CLIENT_SECRET,
    DEMO_OAUTH2_PUBLIC_CLIENT_ID,
    redirect_uri_matches,
)
from loopauth.demo.pages import SECURITY_HEADERS

from .demo_probes import DemoOAuth2Provider, Failure
from .oauth2_by_hand import (
    REDIRECT_URI,
    STATE,
    Client,
    Pkce,
    Reply,
    authorize_params,
    exchange,
    get,
    new_pkce,
    post,
    refresh,
    revoke,
    users_me,
)

PUBLIC = Client(DEMO_OAUTH2_PUBLIC_CLIENT_ID)
BASIC = Client(DEMO_OAUTH2_CONFIDENTIAL_CLIENT_ID, DEMO_OAUTH2_CONFIDENTIAL_CLIENT_SECRET, "basic")
POST = Client(DEMO_OAUTH2_CONFIDENTIAL_CLIENT_ID, DEMO_OAUTH2_CONFIDENTIAL_CLIENT_SECRET, "post")


@pytest.fixture
async def provider() -> AsyncIterator[DemoOAuth2Provider]:
    async with DemoOAuth2Provider() as demo:
        yield demo


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client_session:
        yield client_session


@dataclass
class CallbackServer:
    """The app's loopback redirect target: it records each query it receives."""

    url: str = ""
    queries: list[dict[str, str]] = field(default_factory=list)

    async def handle(self, request: web.Request) -> web.Response:
        self.queries.append(dict(request.query))
        return web.Response(text="callback received")


@pytest.fixture
async def callback() -> AsyncIterator[CallbackServer]:
    server = CallbackServer()
    app = web.Application()
    app.router.add_get("/callback", server.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    server.url = f"http://127.0.0.1:{runner.addresses[0][1]}/callback"
    yield server
    await runner.cleanup()


async def decide(
    provider: DemoOAuth2Provider, session: aiohttp.ClientSession, params: dict[str, str], action: str = "approve"
) -> Reply:
    """Submit the authorize page's form as a browser would, without following the redirect."""
    return await post(session, provider.endpoints.authorize_url, {**params, "action": action})


async def code_for(
    provider: DemoOAuth2Provider,
    session: aiohttp.ClientSession,
    client: Client,
    pkce: Pkce,
    **params: str,
) -> str:
    decision = await decide(provider, session, authorize_params(client.client_id, pkce, **params))
    assert decision.status == 302, decision.text
    query = decision.location_query
    assert query["state"] == params.get("state", STATE)
    return query["code"]


async def login(
    provider: DemoOAuth2Provider, session: aiohttp.ClientSession, client: Client = PUBLIC, **params: str
) -> dict[str, Any]:
    """Authorize, then exchange the code; returns the token response."""
    pkce = new_pkce()
    code = await code_for(provider, session, client, pkce, **params)
    reply = await exchange(session, provider.endpoints.token_url, client, code, pkce.verifier)
    assert reply.status == 200, reply.text
    tokens: dict[str, Any] = reply.json()
    return tokens


# --- the code flow ------------------------------------------------------------------------------------------------


async def test_public_client_logs_in_with_code_and_pkce(
    provider: DemoOAuth2Provider, session: aiohttp.ClientSession
) -> None:
    """A public client's code + PKCE login yields X's token answer, and the access token works at /2/users/me."""
    tokens = await login(provider, session)
    assert tokens["token_type"] == "bearer"
    assert tokens["expires_in"] == 7200
    assert tokens["scope"] == "tweet.read users.read offline.access"
    assert tokens["refresh_token"] in provider.issued_refresh_tokens
    assert provider.issued_access_tokens == [tokens["access_token"]]
    assert provider.client_auth_methods == ["none"]
    me = await users_me(session, provider.endpoints.users_me_url, tokens["access_token"])
    assert me.status == 200
    assert me.json() == {"data": {"id": DEMO_USER_ID, "name": "loopauth demo", "username": DEMO_SCREEN_NAME}}


async def test_token_answer_is_not_cached(provider: DemoOAuth2Provider, session: aiohttp.ClientSession) -> None:
    """RFC 6749 §5.1: the token answer is JSON with Cache-Control: no-store."""
    pkce = new_pkce()
    code = await code_for(provider, session, PUBLIC, pkce)
    reply = await exchange(session, provider.endpoints.token_url, PUBLIC, code, pkce.verifier)
    assert reply.headers["Content-Type"].startswith("application/json")
    assert reply.headers["Cache-Control"] == "no-store"


def test_confidential_secret_holds_what_form_encoding_must_protect() -> None:
    """The demo secret has + / & = %, a percent-escape and non-ASCII, so an unencoded Basic header cannot match."""
    assert set("+/&=%é") <= set(DEMO_OAUTH2_CONFIDENTIAL_CLIENT_SECRET)
    assert "%2B" in DEMO_OAUTH2_CONFIDENTIAL_CLIENT_SECRET


@pytest.mark.parametrize(("client", "method"), [(BASIC, "client_secret_basic"), (POST, "client_secret_post")])
async def test_confidential_client_logs_in_with_basic_or_post(
    provider: DemoOAuth2Provider, session: aiohttp.ClientSession, client: Client, method: str
) -> None:
    """The confidential client authenticates with form-encoded Basic or with client_secret_post, PKCE as well."""
    tokens = await login(provider, session, client)
    assert tokens["access_token"] in provider.issued_access_tokens
    assert provider.client_auth_methods == [method]


@pytest.mark.parametrize(
    "client",
    [
        Client(DEMO_OAUTH2_CONFIDENTIAL_CLIENT_ID, DEMO_OAUTH2_CONFIDENTIAL_CLIENT_SECRET, "basic-unencoded"),
        Client(DEMO_OAUTH2_CONFIDENTIAL_CLIENT_ID, "wrong", "basic"),
        Client(DEMO_OAUTH2_CONFIDENTIAL_CLIENT_ID, "wrong", "post"),
        Client(DEMO_OAUTH2_CONFIDENTIAL_CLIENT_ID),  # a confidential client acting as a public one
        Client("nobody-registered-this"),
    ],
    ids=["basic-not-form-encoded", "basic-wrong-secret", "post-wrong-secret", "no-secret", "unknown-client"],
)
async def test_bad_client_authentication_is_401_invalid_client(
    provider: DemoOAuth2Provider, session: aiohttp.ClientSession, client: Client
) -> None:
    """A secret not form-encoded (RFC 6749 §2.3.1), wrong or missing, or an unknown client: 401 invalid_client."""
    pkce = new_pkce()
    code = await code_for(provider, session, BASIC, pkce)
    reply = await exchange(session, provider.endpoints.token_url, client, code, pkce.verifier)
    assert (reply.status, reply.error) == (401, "invalid_client")
    assert reply.headers["WWW-Authenticate"].startswith("Basic ")
    assert provider.issued_access_tokens == []


async def test_basic_and_post_together_are_refused(
    provider: DemoOAuth2Provider, session: aiohttp.ClientSession
) -> None:
    """RFC 6749 §2.3: a client uses one authentication method per request, not Basic and a body secret."""
    pkce = new_pkce()
    code = await code_for(provider, session, BASIC, pkce)
    headers, form = BASIC.sign({"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI})
    form |= {"code_verifier": pkce.verifier, "client_secret": DEMO_OAUTH2_CONFIDENTIAL_CLIENT_SECRET}
    reply = await post(session, provider.endpoints.token_url, form, headers=headers)
    assert (reply.status, reply.error) == (401, "invalid_client")


async def test_deny_redirects_with_access_denied_and_the_state(
    provider: DemoOAuth2Provider, session: aiohttp.ClientSession
) -> None:
    """RFC 6749 §4.1.2.1: Deny sends the browser back with error=access_denied and the state, byte for byte."""
    decision = await decide(provider, session, authorize_params(PUBLIC.client_id, new_pkce()), "deny")
    assert decision.status == 302
    assert decision.headers["Location"].startswith(REDIRECT_URI + "?")
    query = decision.location_query
    assert query["error"] == "access_denied"
    assert query["state"] == STATE
    assert "code" not in query


async def test_authorize_page_carries_the_request_in_a_form_with_security_headers(
    provider: DemoOAuth2Provider, session: aiohttp.ClientSession
) -> None:
    """GET authorize shows approve/deny buttons, the request in hidden fields, and loopauth's page headers."""
    params = authorize_params(PUBLIC.client_id, new_pkce())
    page = await get(session, provider.endpoints.authorize_url, params=params)
    assert page.status == 200
    assert '<button type="submit" name="action" value="approve"' in page.text
    assert '<button type="submit" name="action" value="deny"' in page.text
    assert f'name="code_challenge" value="{params["code_challenge"]}"' in page.text
    assert 'name="state" value="state &amp; = + % é"' in page.text
    for name, value in SECURITY_HEADERS.items():
        assert page.headers[name] == value
    assert provider.calls["authorize"] == 1


# --- PKCE ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pkce", "method", "description"),
    [
        (None, None, "Code challenge required."),
        (None, "S256", "Code challenge required."),
        (new_pkce(), "plain", "code_challenge_method must be S256"),
        (new_pkce(), None, "code_challenge_method must be S256"),  # RFC 7636 §4.3: no method means plain
        (Pkce("v" * 43, "not-a-sha256-digest"), "S256", "code_challenge is not a base64url SHA-256 digest"),
    ],
    ids=["no-challenge", "method-only", "plain", "no-method", "not-s256-shaped"],
)
@pytest.mark.parametrize("path", ["page", "decision"])
async def test_authorization_without_an_s256_challenge_is_refused(
    provider: DemoOAuth2Provider,
    session: aiohttp.ClientSession,
    pkce: Pkce | None,
    method: str | None,
    description: str,
    path: str,
) -> None:
    """No challenge, plain, or no method: redirected back with invalid_request and the state, and no code issued."""
    params = authorize_params(PUBLIC.client_id, pkce, method=method)
    if path == "page":
        reply = await get(session, provider.endpoints.authorize_url, params=params)
    else:
        reply = await decide(provider, session, params)
    assert reply.status == 302
    query = reply.location_query
    assert (query["error"], query["error_description"], query["state"]) == ("invalid_request", description, STATE)
    assert "code" not in query


async def test_wrong_or_missing_code_verifier_is_refused(
    provider: DemoOAuth2Provider, session: aiohttp.ClientSession
) -> None:
    """Another verifier is invalid_grant, none is invalid_request; the code still works with the right one."""
    pkce = new_pkce()
    code = await code_for(provider, session, PUBLIC, pkce)
    token_url = provider.endpoints.token_url
    wrong = await exchange(session, token_url, PUBLIC, code, new_pkce().verifier)
    assert (wrong.status, wrong.error) == (400, "invalid_grant")
    missing = await exchange(session, token_url, PUBLIC, code, None)
    assert (missing.status, missing.error) == (400, "invalid_request")
    assert provider.issued_access_tokens == []
    right = await exchange(session, token_url, PUBLIC, code, pkce.verifier)
    assert right.status == 200, right.text


async def test_verifier_too_short_for_rfc_7636_is_refused_even_when_it_matches(
    provider: DemoOAuth2Provider, session: aiohttp.ClientSession
) -> None:
    """A 42-character verifier whose S256 matches the challenge is still refused (RFC 7636 §4.1: 43-128)."""
    pkce = new_pkce("a" * 42)
    code = await code_for(provider, session, PUBLIC, pkce)
    reply = await exchange(session, provider.endpoints.token_url, PUBLIC, code, pkce.verifier)
    assert (reply.status, reply.error) == (400, "invalid_request")
    assert "43-128" in reply.json()["error_description"]


# --- codes --------------------------------------------------------------------------------------------------------


async def test_code_replay_is_refused_and_revokes_what_the_code_gave(
    provider: DemoOAuth2Provider, session: aiohttp.ClientSession
) -> None:
    """RFC 6749 §4.1.2: a code works once; using it again is invalid_grant and kills the tokens it produced."""
    pkce = new_pkce()
    code = await code_for(provider, session, PUBLIC, pkce)
    token_url = provider.endpoints.token_url
    first = await exchange(session, token_url, PUBLIC, code, pkce.verifier)
    assert first.status == 200
    again = await exchange(session, token_url, PUBLIC, code, pkce.verifier)
    assert (again.status, again.error) == (400, "invalid_grant")
    assert provider.code_reuses == 1
    tokens = first.json()
    assert (await users_me(session, provider.endpoints.users_me_url, tokens["access_token"])).status == 401
    assert (await refresh(session, token_url, PUBLIC, tokens["refresh_token"])).error == "invalid_grant"


async def test_expired_code_is_refused(provider: DemoOAuth2Provider, session: aiohttp.ClientSession) -> None:
    """A code past its lifetime is invalid_grant."""
    provider.code_lifetime = 0
    pkce = new_pkce()
    code = await code_for(provider, session, PUBLIC, pkce)
    reply = await exchange(session, provider.endpoints.token_url, PUBLIC, code, pkce.verifier)
    assert (reply.status, reply.error) == (400, "invalid_grant")


async def test_code_of_another_client_is_refused(provider: DemoOAuth2Provider, session: aiohttp.ClientSession) -> None:
    """A code is bound to the client it was issued to."""
    pkce = new_pkce()
    code = await code_for(provider, session, BASIC, pkce)
    reply = await exchange(session, provider.endpoints.token_url, PUBLIC, code, pkce.verifier)
    assert (reply.status, reply.error) == (400, "invalid_grant")


# --- redirect URIs ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("token_redirect_uri", "error"),
    [
        ("http://127.0.0.1:10/callback", "invalid_grant"),  # another port: still registered, but not the one used
        (REDIRECT_URI + "/", "invalid_grant"),
        (None, "invalid_request"),
    ],
    ids=["other-port", "trailing-slash", "missing"],
)
async def test_token_request_must_repeat_the_redirect_uri_exactly(
    provider: DemoOAuth2Provider, session: aiohttp.ClientSession, token_redirect_uri: str | None, error: str
) -> None:
    """RFC 6749 §4.1.3: the token request's redirect_uri is the authorization request's, character for character."""
    pkce = new_pkce()
    code = await code_for(provider, session, PUBLIC, pkce)
    reply = await exchange(session, provider.endpoints.token_url, PUBLIC, code, pkce.verifier, token_redirect_uri)
    assert (reply.status, reply.error) == (400, error)


@pytest.mark.parametrize(
    "redirect_uri", ["http://127.0.0.1:8470/callback", "http://127.0.0.1:65535/callback", "http://[::1]:51234/callback"]
)
async def test_registered_loopback_redirect_matches_any_port(
    provider: DemoOAuth2Provider, session: aiohttp.ClientSession, redirect_uri: str
) -> None:
    """RFC 8252 §7.3: the port-less registered loopback callback admits the port the app bound."""
    pkce = new_pkce()
    decision = await decide(provider, session, authorize_params(PUBLIC.client_id, pkce, redirect_uri=redirect_uri))
    assert decision.headers["Location"].startswith(redirect_uri + "?")
    code = decision.location_query["code"]
    reply = await exchange(session, provider.endpoints.token_url, PUBLIC, code, pkce.verifier, redirect_uri)
    assert reply.status == 200, reply.text


@pytest.mark.parametrize(
    "redirect_uri",
    [
        "http://localhost:8470/callback",  # RFC 8252 §8.3: not the IP literal
        "http://127.0.0.1:8470/other",
        "https://127.0.0.1:8470/callback",
        "http://127.0.0.2:8470/callback",
        "http://attacker.example/callback",
    ],
)
@pytest.mark.parametrize("path", ["page", "decision"])
async def test_unregistered_redirect_uri_gets_an_error_page_not_a_redirect(
    provider: DemoOAuth2Provider, session: aiohttp.ClientSession, redirect_uri: str, path: str
) -> None:
    """RFC 6749 §4.1.2.1: a redirect URI that does not match is never redirected to; the person sees why."""
    params = authorize_params(PUBLIC.client_id, new_pkce(), redirect_uri=redirect_uri)
    if path == "page":
        reply = await get(session, provider.endpoints.authorize_url, params=params)
    else:
        reply = await decide(provider, session, params)
    assert reply.status == 400
    assert "Location" not in reply.headers
    assert "Mismatching redirect URI." in reply.text
    assert reply.headers["Content-Security-Policy"] == SECURITY_HEADERS["Content-Security-Policy"]


async def test_a_registered_port_must_match_exactly(
    provider: DemoOAuth2Provider, session: aiohttp.ClientSession
) -> None:
    """A callback registered with its port (X's rule) admits only that port."""
    provider.register_client("x-style-client", redirect_uris=["http://127.0.0.1:8470/callback"])
    pkce = new_pkce()
    exact = await decide(
        provider, session, authorize_params("x-style-client", pkce, redirect_uri="http://127.0.0.1:8470/callback")
    )
    assert exact.status == 302
    assert "code" in exact.location_query
    other = await decide(
        provider, session, authorize_params("x-style-client", pkce, redirect_uri="http://127.0.0.1:8471/callback")
    )
    assert other.status == 400


@pytest.mark.parametrize(
    ("registered", "requested", "matches"),
    [
        ("http://127.0.0.1/callback", "http://127.0.0.1:1/callback", True),
        ("http://[::1]/callback", "http://[::1]:8470/callback", True),
        ("http://127.0.0.1/callback", "http://127.0.0.1/callback", True),
        ("http://127.0.0.1/callback", "http://127.0.0.1:0/callback", False),
        ("http://127.0.0.1/callback", "http://127.0.0.1:70000/callback", False),
        ("http://127.0.0.1/callback", "http://127.0.0.1:8470/callback?x=1", False),
        ("http://127.0.0.1/callback", "http://user@127.0.0.1:8470/callback", False),
        ("http://127.0.0.1/callback", "http://[::1]:8470/callback", False),
        ("http://127.0.0.1:8470/callback", "http://127.0.0.1:8471/callback", False),
        ("http://localhost/callback", "http://localhost:8470/callback", False),
        ("https://app.example/cb", "https://app.example:443/cb", False),
    ],
)
def test_redirect_uri_matching_follows_rfc_8252(registered: str, requested: str, matches: bool) -> None:
    """Only a port-less registered loopback IP literal admits other ports; everything else is an exact match."""
    assert redirect_uri_matches(registered, requested) is matches


# --- refresh ------------------------------------------------------------------------------------------------------


async def test_refresh_rotates_the_refresh_token(provider: DemoOAuth2Provider, session: aiohttp.ClientSession) -> None:
    """Each refresh returns a new access token and a new refresh token; the new pair works."""
    first = await login(provider, session)
    token_url = provider.endpoints.token_url
    reply = await refresh(session, token_url, PUBLIC, first["refresh_token"])
    assert reply.status == 200, reply.text
    second = reply.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    assert (second["token_type"], second["expires_in"], second["scope"]) == ("bearer", 7200, first["scope"])
    assert provider.refreshes == 1
    assert (await users_me(session, provider.endpoints.users_me_url, second["access_token"])).status == 200
    third = await refresh(session, token_url, PUBLIC, second["refresh_token"])
    assert third.status == 200
    assert provider.refreshes == 2


async def test_confidential_client_refreshes_with_basic(
    provider: DemoOAuth2Provider, session: aiohttp.ClientSession
) -> None:
    """A refresh authenticates the client as the code exchange did; without the secret it is refused."""
    tokens = await login(provider, session, BASIC)
    token_url = provider.endpoints.token_url
    unauthenticated = await refresh(session, token_url, Client(BASIC.client_id), tokens["refresh_token"])
    assert (unauthenticated.status, unauthenticated.error) == (401, "invalid_client")
    reply = await refresh(session, token_url, BASIC, tokens["refresh_token"])
    assert reply.status == 200, reply.text


async def test_reusing_a_rotated_refresh_token_revokes_the_family(
    provider: DemoOAuth2Provider, session: aiohttp.ClientSession
) -> None:
    """RFC 9700 §4.14.2: a rotated refresh token used again is invalid_grant and ends every token of the login."""
    first = await login(provider, session)
    token_url, me_url = provider.endpoints.token_url, provider.endpoints.users_me_url
    second = (await refresh(session, token_url, PUBLIC, first["refresh_token"])).json()
    reused = await refresh(session, token_url, PUBLIC, first["refresh_token"])
    assert (reused.status, reused.error) == (400, "invalid_grant")
    assert provider.refresh_token_reuses == 1
    newer = await refresh(session, token_url, PUBLIC, second["refresh_token"])
    assert (newer.status, newer.error) == (400, "invalid_grant")
    for access in (first["access_token"], second["access_token"]):
        assert (await users_me(session, me_url, access)).status == 401
    assert provider.revoked_access_tokens == set(provider.issued_access_tokens)
    assert provider.revoked_refresh_tokens == {first["refresh_token"], second["refresh_token"]}
    assert provider.refreshes == 1


async def test_family_revocation_leaves_other_logins_alone(
    provider: DemoOAuth2Provider, session: aiohttp.ClientSession
) -> None:
    """Reuse ends one login's family only; a second login of the same client keeps working."""
    victim = await login(provider, session)
    other = await login(provider, session)
    token_url = provider.endpoints.token_url
    await refresh(session, token_url, PUBLIC, victim["refresh_token"])
    await refresh(session, token_url, PUBLIC, victim["refresh_token"])
    assert (await users_me(session, provider.endpoints.users_me_url, other["access_token"])).status == 200
    assert (await refresh(session, token_url, PUBLIC, other["refresh_token"])).status == 200


async def test_no_refresh_token_without_offline_access(
    provider: DemoOAuth2Provider, session: aiohttp.ClientSession
) -> None:
    """As on X, only the offline.access scope brings a refresh token."""
    tokens = await login(provider, session, scope="tweet.read users.read")
    assert "refresh_token" not in tokens
    assert tokens["scope"] == "tweet.read users.read"
    assert provider.issued_refresh_tokens == []


async def test_refresh_token_of_another_client_is_refused(
    provider: DemoOAuth2Provider, session: aiohttp.ClientSession
) -> None:
    """A refresh token is bound to its client: presented by another it is invalid_grant and does no harm."""
    tokens = await login(provider, session, BASIC)
    token_url = provider.endpoints.token_url
    stolen = await refresh(session, token_url, PUBLIC, tokens["refresh_token"])
    assert (stolen.status, stolen.error) == (400, "invalid_grant")
    assert (await refresh(session, token_url, BASIC, tokens["refresh_token"])).status == 200


async def test_unknown_scope_is_refused(provider: DemoOAuth2Provider, session: aiohttp.ClientSession) -> None:
    """A scope X does not know is invalid_scope, sent back to the app with the state."""
    params = authorize_params(PUBLIC.client_id, new_pkce(), scope="tweet.read admin")
    reply = await decide(provider, session, params)
    assert (reply.location_query["error"], reply.location_query["state"]) == ("invalid_scope", STATE)


# --- revocation ---------------------------------------------------------------------------------------------------


async def test_revoking_an_access_token_ends_it_but_not_the_refresh_token(
    provider: DemoOAuth2Provider, session: aiohttp.ClientSession
) -> None:
    """RFC 7009: a revoked access token is refused at once; its refresh token still works."""
    tokens = await login(provider, session)
    reply = await revoke(session, provider.endpoints.revoke_url, PUBLIC, tokens["access_token"], "access_token")
    assert (reply.status, reply.json()) == (200, {"revoked": True})
    assert (await users_me(session, provider.endpoints.users_me_url, tokens["access_token"])).status == 401
    assert (await refresh(session, provider.endpoints.token_url, PUBLIC, tokens["refresh_token"])).status == 200


@pytest.mark.parametrize("hint", ["refresh_token", "access_token", None])
async def test_revoking_a_refresh_token_ends_its_access_tokens(
    provider: DemoOAuth2Provider, session: aiohttp.ClientSession, hint: str | None
) -> None:
    """RFC 7009 §2.1: revoking the refresh token ends it and its access tokens, whatever the hint says."""
    tokens = await login(provider, session, BASIC)
    reply = await revoke(session, provider.endpoints.revoke_url, BASIC, tokens["refresh_token"], hint)
    assert reply.status == 200
    assert (await users_me(session, provider.endpoints.users_me_url, tokens["access_token"])).status == 401
    again = await refresh(session, provider.endpoints.token_url, BASIC, tokens["refresh_token"])
    assert (again.status, again.error) == (400, "invalid_grant")
    assert provider.refresh_token_reuses == 0  # revoked, not rotated: no reuse to report


async def test_revoking_an_unknown_token_answers_200(
    provider: DemoOAuth2Provider, session: aiohttp.ClientSession
) -> None:
    """RFC 7009 §2.2: an unknown (or already revoked) token is answered 200 all the same."""
    reply = await revoke(session, provider.endpoints.revoke_url, PUBLIC, "no-such-token")
    assert reply.status == 200
    assert provider.calls["revoke"] == 1


async def test_revocation_needs_client_authentication(
    provider: DemoOAuth2Provider, session: aiohttp.ClientSession
) -> None:
    """A confidential client's revocation with a wrong secret is 401 invalid_client, and the token lives on."""
    tokens = await login(provider, session, BASIC)
    wrong = Client(BASIC.client_id, "wrong", "basic")
    reply = await revoke(session, provider.endpoints.revoke_url, wrong, tokens["access_token"])
    assert (reply.status, reply.error) == (401, "invalid_client")
    assert (await users_me(session, provider.endpoints.users_me_url, tokens["access_token"])).status == 200


async def test_a_client_cannot_revoke_another_clients_token(
    provider: DemoOAuth2Provider, session: aiohttp.ClientSession
) -> None:
    """RFC 7009 §2.1: the token must have been issued to the client asking; otherwise refused, and nothing revoked."""
    tokens = await login(provider, session, BASIC)
    reply = await revoke(session, provider.endpoints.revoke_url, PUBLIC, tokens["refresh_token"])
    assert (reply.status, reply.error) == (400, "invalid_grant")
    assert provider.revoked_access_tokens == set()


# --- the API ------------------------------------------------------------------------------------------------------


async def test_users_me_refuses_missing_expired_and_revoked_tokens(
    provider: DemoOAuth2Provider, session: aiohttp.ClientSession
) -> None:
    """/2/users/me answers 401 with a Bearer challenge for no token, an expired one and a revoked one."""
    me_url = provider.endpoints.users_me_url
    missing = await users_me(session, me_url, None)
    assert missing.status == 401
    assert missing.headers["WWW-Authenticate"] == 'Bearer realm="loopauth demo"'
    assert missing.json()["title"] == "Unauthorized"

    expiring = await login(provider, session)
    assert (await users_me(session, me_url, expiring["access_token"])).status == 200
    provider.expire_access_tokens()
    expired = await users_me(session, me_url, expiring["access_token"])
    assert expired.status == 401
    assert 'error="invalid_token"' in expired.headers["WWW-Authenticate"]
    assert not provider.access_token_is_valid(expiring["access_token"])
    # Due is not revoked: the refresh token brings a fresh one.
    fresh = (await refresh(session, provider.endpoints.token_url, PUBLIC, expiring["refresh_token"])).json()
    assert (await users_me(session, me_url, fresh["access_token"])).status == 200

    await revoke(session, provider.endpoints.revoke_url, PUBLIC, fresh["access_token"])
    assert (await users_me(session, me_url, fresh["access_token"])).status == 401


async def test_users_me_needs_the_users_read_scopes(
    provider: DemoOAuth2Provider, session: aiohttp.ClientSession
) -> None:
    """As on X, /2/users/me wants tweet.read and users.read; a token without them gets 403 insufficient_scope."""
    tokens = await login(provider, session, scope="tweet.read offline.access")
    reply = await users_me(session, provider.endpoints.users_me_url, tokens["access_token"])
    assert reply.status == 403
    assert 'error="insufficient_scope"' in reply.headers["WWW-Authenticate"]


async def test_bearer_token_only_counts_in_the_authorization_header(
    provider: DemoOAuth2Provider, session: aiohttp.ClientSession
) -> None:
    """A token in the query (RFC 6750 §2.3, which X does not accept) is ignored: 401."""
    tokens = await login(provider, session)
    reply = await get(session, provider.endpoints.users_me_url, params={"access_token": tokens["access_token"]})
    assert reply.status == 401


async def test_short_lived_access_tokens_expire_on_time(
    provider: DemoOAuth2Provider, session: aiohttp.ClientSession
) -> None:
    """access_token_lifetime is what expires_in says, and the token stops working when it runs out."""
    provider.access_token_lifetime = 1
    tokens = await login(provider, session)
    assert tokens["expires_in"] == 1
    assert (await users_me(session, provider.endpoints.users_me_url, tokens["access_token"])).status == 200
    await asyncio.sleep(1.05)
    assert (await users_me(session, provider.endpoints.users_me_url, tokens["access_token"])).status == 401


async def test_echo_shows_the_request_and_whose_token_it_was(
    provider: DemoOAuth2Provider, session: aiohttp.ClientSession
) -> None:
    """The echo endpoint returns method, decoded query, form or JSON body, and the token's user and client."""
    tokens = await login(provider, session, BASIC)
    auth = {"Authorization": f"Bearer {tokens['access_token']}"}
    url = provider.endpoints.echo_url + "?q=%C3%A9+x&n=1&n=2"
    async with session.put(url, data={"text": "a & b = c + 100% é"}, headers=auth) as response:
        form_echo = await response.json()
    assert form_echo["method"] == "PUT"
    assert form_echo["query"] == {"q": "é x", "n": ["1", "2"]}
    assert form_echo["form"] == {"text": "a & b = c + 100% é"}
    assert form_echo["json"] is None
    assert form_echo["user"] == {"id": DEMO_USER_ID, "username": DEMO_SCREEN_NAME}
    assert form_echo["client_id"] == BASIC.client_id
    async with session.post(provider.endpoints.echo_url, json={"text": "hi", "n": [1]}, headers=auth) as response:
        assert (await response.json())["json"] == {"text": "hi", "n": [1]}
    async with session.delete(provider.endpoints.echo_url) as response:
        assert response.status == 401


# --- errors are RFC 6749 §5.2 JSON ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("form", "error"),
    [
        ({"grant_type": "password", "username": "u", "password": "p"}, "unsupported_grant_type"),
        ({"grant_type": "authorization_code", "redirect_uri": REDIRECT_URI}, "invalid_request"),
        ({"grant_type": "refresh_token", "refresh_token": "made-up"}, "invalid_grant"),
    ],
    ids=["password-grant", "no-code", "unknown-refresh-token"],
)
async def test_token_endpoint_errors_are_rfc_6749_json(
    provider: DemoOAuth2Provider, session: aiohttp.ClientSession, form: dict[str, str], error: str
) -> None:
    """Token endpoint refusals are 400 JSON with an RFC 6749 §5.2 error code."""
    headers, form = PUBLIC.sign(form)
    reply = await post(session, provider.endpoints.token_url, form, headers=headers)
    assert (reply.status, reply.error) == (400, error)
    assert reply.headers["Content-Type"].startswith("application/json")


async def test_token_endpoint_wants_a_form_body_without_query(
    provider: DemoOAuth2Provider, session: aiohttp.ClientSession
) -> None:
    """A JSON body or parameters in the token URL's query are invalid_request (RFC 6749 §3.2)."""
    token_url = provider.endpoints.token_url
    async with session.post(token_url, json={"grant_type": "refresh_token", "refresh_token": "x"}) as response:
        assert (response.status, (await response.json())["error"]) == (400, "invalid_request")
    query = urlencode({"grant_type": "refresh_token", "refresh_token": "x", "client_id": PUBLIC.client_id})
    reply = await post(session, f"{token_url}?{query}", {"client_id": PUBLIC.client_id})
    assert (reply.status, reply.error) == (400, "invalid_request")


# --- play_user drives the page ------------------------------------------------------------------------------------


async def test_play_user_approves_on_the_demo_page(
    provider: DemoOAuth2Provider, session: aiohttp.ClientSession, callback: CallbackServer
) -> None:
    """loopauth.demo.play_user finds the form, approves, and lands on the app's callback with a working code."""
    pkce = new_pkce()
    params = authorize_params(PUBLIC.client_id, pkce, redirect_uri=callback.url)
    body = await play_user(f"{provider.endpoints.authorize_url}?{urlencode(params)}")
    assert body == "callback received"
    [query] = callback.queries
    assert query["state"] == STATE
    assert provider.calls["authorize"] == provider.calls["authorize_decision"] == 1
    reply = await exchange(session, provider.endpoints.token_url, PUBLIC, query["code"], pkce.verifier, callback.url)
    assert reply.status == 200, reply.text


async def test_play_user_denies_on_the_demo_page(provider: DemoOAuth2Provider, callback: CallbackServer) -> None:
    """play_user's Deny lands on the callback with error=access_denied and the state."""
    params = authorize_params(PUBLIC.client_id, new_pkce(), redirect_uri=callback.url)
    await play_user(f"{provider.endpoints.authorize_url}?{urlencode(params)}", approve=False)
    [query] = callback.queries
    assert (query["error"], query["state"]) == ("access_denied", STATE)
    assert "code" not in query


# --- test hooks ---------------------------------------------------------------------------------------------------


async def test_failures_answer_instead_of_the_endpoint(
    provider: DemoOAuth2Provider, session: aiohttp.ClientSession
) -> None:
    """A configured Failure is what the endpoint answers, and the hit is still counted."""
    provider.failures["token"] = Failure(503, '{"title": "Service Unavailable"}', "application/json")
    pkce = new_pkce()
    code = await code_for(provider, session, PUBLIC, pkce)
    reply = await exchange(session, provider.endpoints.token_url, PUBLIC, code, pkce.verifier)
    assert (reply.status, reply.json()) == (503, {"title": "Service Unavailable"})
    assert provider.calls["token"] == 1
    assert provider.issued_access_tokens == []


async def test_hang_never_answers_until_close(session: aiohttp.ClientSession) -> None:
    """A hanging endpoint holds the request until the provider closes, and close does not wait for it."""
    async with DemoOAuth2Provider() as provider:
        provider.hang.add("users_me")
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(0.3):
                await users_me(session, provider.endpoints.users_me_url, "whatever")
        assert provider.calls["users_me"] == 1


async def test_delay_applies_to_api_endpoints_only(session: aiohttp.ClientSession) -> None:
    """delay slows token, revoke, users/me and echo, and never the pages a person sees."""
    async with DemoOAuth2Provider(delay=0.5) as provider:
        loop = asyncio.get_running_loop()
        params = authorize_params(PUBLIC.client_id, new_pkce())
        start = loop.time()
        page = await get(session, provider.endpoints.authorize_url, params=params)
        page_time = loop.time() - start
        start = loop.time()
        await revoke(session, provider.endpoints.revoke_url, PUBLIC, "no-such-token")
        api_time = loop.time() - start
    assert page.status == 200
    assert page_time < 0.4
    assert api_time >= 0.5


async def test_nothing_secret_is_logged_even_at_debug(
    provider: DemoOAuth2Provider, session: aiohttp.ClientSession, caplog: pytest.LogCaptureFixture
) -> None:
    """With every logger at DEBUG, a login, refresh and revoke log no code, token, verifier or secret."""
    caplog.set_level(logging.DEBUG)
    pkce = new_pkce()
    decision = await decide(provider, session, authorize_params(BASIC.client_id, pkce))
    code = decision.location_query["code"]
    tokens = (await exchange(session, provider.endpoints.token_url, BASIC, code, pkce.verifier)).json()
    rotated = (await refresh(session, provider.endpoints.token_url, BASIC, tokens["refresh_token"])).json()
    await refresh(session, provider.endpoints.token_url, BASIC, tokens["refresh_token"])  # reuse
    await revoke(session, provider.endpoints.revoke_url, BASIC, rotated["access_token"])
    secrets_seen = [code, pkce.verifier, DEMO_OAUTH2_CONFIDENTIAL_CLIENT_SECRET, *tokens.values(), *rotated.values()]
    for secret in (s for s in secrets_seen if isinstance(s, str) and len(s) > 20):
        assert secret not in caplog.text


def test_register_client_refuses_an_empty_id_or_secret() -> None:
    """A client needs an id; an empty secret is refused rather than read as a public client."""
    provider = DemoOAuth2Provider()
    with pytest.raises(ValueError, match="client id"):
        provider.register_client("")
    with pytest.raises(ValueError, match="secret"):
        provider.register_client("c", "")


async def test_endpoints_use_xs_paths(provider: DemoOAuth2Provider) -> None:
    """The endpoint URLs sit on the provider's loopback origin at X's paths."""
    e = provider.endpoints
    paths = [urlsplit(u).path for u in (e.authorize_url, e.token_url, e.revoke_url, e.users_me_url, e.echo_url)]
    assert paths == ["/i/oauth2/authorize", "/2/oauth2/token", "/2/oauth2/revoke", "/2/users/me", "/2/echo"]
    assert e.token_url.startswith(provider.base_url)
