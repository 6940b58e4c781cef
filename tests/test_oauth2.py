"""OAuth 2.0 with PKCE: the pure parts, then logins, refreshes and calls against the demo provider, a real
oauthlib OAuth 2.0 server with PKCE required and rotating refresh tokens that revoke their family on reuse."""

from __future__ import annotations

import asyncio
import base64
import json
import re
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urljoin, urlsplit

import aiohttp
import pytest

import loopauth
from loopauth.demo import DEMO_SCREEN_NAME, DEMO_USER_ID, play_user
from loopauth.errors import AuthorizationDenied, NotLoggedIn, ProviderError, UsageError
from loopauth.http import Response
from loopauth.loopback.dance import Approved, Denied, Failed, Rejected
from loopauth.models import OAuth2Credentials, OAuth2Provider
from loopauth.oauth2 import messages
from loopauth.store import CredentialStore

from .conftest import Cli, browser_env, run_cli_async
from .demo_probes import DemoOAuth2Provider, Failure

# -- the pure parts -------------------------------------------------------------------------------------------


def test_pkce_challenge_matches_rfc_7636_appendix_b() -> None:
    """S256 of the RFC's example verifier is the RFC's example challenge."""
    assert (
        messages.challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")
        == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
    )


def test_verifier_and_state_are_long_random_and_url_safe() -> None:
    """Verifiers are 43-128 unreserved characters; state carries at least 128 bits; none repeats."""
    verifiers = {messages.new_verifier() for _ in range(50)}
    states = {messages.new_state() for _ in range(50)}
    assert len(verifiers) == len(states) == 50
    for verifier in verifiers:
        assert re.fullmatch(r"[A-Za-z0-9._~-]{43,128}", verifier)
    for state in states:
        assert len(base64.urlsafe_b64decode(state + "=" * (-len(state) % 4))) >= 16


def test_basic_client_authentication_form_encodes_id_and_secret_first() -> None:
    """RFC 6749 §2.3.1: id and secret are form-url-encoded, then joined and base64-encoded."""
    headers, fields = messages.client_authentication("my id", "p+q/r&s=t%u é", "basic")
    assert fields == []
    decoded = base64.b64decode(headers["Authorization"].removeprefix("Basic ")).decode()
    user, _, password = decoded.partition(":")
    assert (unquote(user), unquote(password)) == ("my id", "p+q/r&s=t%u é")
    assert not set("+/&") & set(password)


def test_public_and_post_clients_authenticate_in_the_body() -> None:
    """A public client sends client_id alone; client_secret_post sends both, and no Authorization header."""
    assert messages.client_authentication("id", None, "basic") == ({}, [("client_id", "id")])
    assert messages.client_authentication("id", "s", "post") == ({}, [("client_id", "id"), ("client_secret", "s")])


STATE = "the-state-of-this-login"


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"code": "c", "state": STATE}, Approved("c")),
        ({"error": "access_denied", "state": STATE}, Denied()),
        (
            {"error": "server_error", "error_description": "try <b>later</b>\x1b[2J", "state": STATE},
            Failed("server_error: try <b>later</b> [2J"),
        ),
        ({"code": "c"}, Rejected("the callback has no state")),
        ({"code": "c", "state": "other"}, Rejected("this callback is for another login (state does not match)")),
        (
            {"error": "access_denied", "state": "other"},
            Rejected("this callback is for another login (state does not match)"),
        ),
        ({"state": STATE}, Rejected("the callback has no code")),
    ],
    ids=["code", "denied", "error", "no-state", "wrong-state", "foreign-denial", "no-code"],
)
def test_callbacks_count_only_with_this_logins_state(params: dict[str, str], expected: object) -> None:
    """A missing or wrong state, errors included, is someone else's; with ours, deny is 3 and errors are 5."""
    assert messages.match_callback(params, STATE) == expected


def _answer(status: int, body: str, content_type: str = "application/json") -> Response:
    return Response(status, "", "HTTP/1.1", (("Content-Type", content_type),), body.encode())


@pytest.mark.parametrize(
    ("status", "body", "content_type", "says"),
    [
        (400, '{"error":"invalid_grant","error_description":"Value passed was invalid"}', "application/json",
         "400: invalid_grant: Value passed was invalid"),
        (200, "access_token=SECRET-TOKEN&token_type=bearer", "application/x-www-form-urlencoded", "not a JSON object"),
        (200, '{"token_type":"bearer"}', "application/json", "no access_token"),
        (200, '{"access_token":"SECRET-TOKEN","token_type":"mac"}', "application/json", "token type is 'mac'"),
        (200, '{"access_token":"SECRET-TOKEN"}', "application/json", "token type is 'missing'"),
        (200, '{"access_token":"SECRET-TOKEN","token_type":"bearer","expires_in":"soon"}', "application/json",
         "expires_in"),
        (200, '{"access_token":"SECRET-TOKEN\\u001b]52;c;aGk=\\u0007","token_type":"bearer"}', "application/json",
         "characters a bearer token cannot carry"),
    ],
    ids=["rfc-error", "form", "no-token", "mac", "no-type", "bad-expiry", "escapes"],
)  # fmt: skip
def test_unusable_token_answers_are_one_line_errors_that_never_quote_a_token(
    status: int, body: str, content_type: str, says: str
) -> None:
    """Anything but JSON with an access token of type bearer is ProviderError naming what was wrong."""
    with pytest.raises(ProviderError) as info:
        messages.parse_token_response(_answer(status, body, content_type), step="token request")
    assert says in str(info.value)
    assert "SECRET-TOKEN" not in str(info.value)


def test_bearer_is_case_insensitive_and_a_quoted_expiry_is_read() -> None:
    """RFC 6749 §5.1 token types are case-insensitive; some providers quote expires_in."""
    data = messages.parse_token_response(
        _answer(200, '{"access_token":"t","token_type":"Bearer","expires_in":"7200"}'), step="x"
    )
    assert data["expires_in"] == 7200


def _creds(**kw: Any) -> OAuth2Credentials:
    values: dict[str, Any] = {
        "profile": "p",
        "provider": "x",
        "client_id": "id",
        "access_token": "t",
        "endpoints": OAuth2Provider("x", "https://x.example/a", "https://x.example/t"),
        **kw,
    }
    return OAuth2Credentials(**values)


def test_a_token_is_due_a_minute_early_but_never_before_half_its_life() -> None:
    """Due 60 s before expiry; a token that lives 60 s is due after 30; without an expiry, never."""
    two_hours = _creds(issued_at=0, expires_at=7200)
    assert not two_hours.due(7139)
    assert two_hours.due(7140)
    short = _creds(issued_at=0, expires_at=60)
    assert not short.due(29)
    assert short.due(30)
    assert not _creds(expires_at=None).due(10**12)


def test_the_repr_and_the_token_output_keep_the_refresh_token_out() -> None:
    """Neither repr nor token_dict() (what `loopauth token` prints) shows the refresh token or client secret."""
    creds = _creds(refresh_token="RT-SECRET", client_secret="CS-SECRET", access_token="AT-SECRET")
    assert "SECRET" not in repr(creds)
    assert "RT-SECRET" not in json.dumps(creds.token_dict())
    assert "CS-SECRET" not in json.dumps(creds.token_dict())


# -- logging in against the demo provider ---------------------------------------------------------------------


@pytest.fixture
async def demo2() -> AsyncIterator[DemoOAuth2Provider]:
    async with DemoOAuth2Provider() as provider:
        yield provider


class Browser:
    """An opener that plays the user on the demo's page, as a real browser would, and keeps each final page."""

    def __init__(self, *, approve: bool = True) -> None:
        self.approve = approve
        self.tasks: list[asyncio.Task[str]] = []

    async def __call__(self, url: str) -> bool:
        self.tasks.append(asyncio.create_task(play_user(url, approve=self.approve)))
        return True


async def login2(demo2: DemoOAuth2Provider, opener: Callable[[str], Awaitable[bool]] | bool, **kw: Any) -> Any:
    values: dict[str, Any] = {
        "provider": demo2.provider,
        "client_id": demo2.public_client_id,
        "port": 0,
        "timeout": 20,
        "open_browser": opener,
        "say": lambda _: None,
        **kw,
    }
    return await loopauth.login_async(**values)


async def test_public_client_logs_in_with_pkce_and_stores_a_fresh_profile(demo2: DemoOAuth2Provider) -> None:
    """Approve: the profile holds both tokens, an absolute expiry, the scopes and the account from /2/users/me."""
    browser = Browser()
    creds = await login2(demo2, browser)
    assert isinstance(creds, OAuth2Credentials)
    assert creds.access_token in demo2.issued_access_tokens
    assert creds.refresh_token in demo2.issued_refresh_tokens
    assert (creds.user_id, creds.screen_name) == (DEMO_USER_ID, DEMO_SCREEN_NAME)
    assert creds.scope == "tweet.read users.read offline.access"
    assert creds.expires_at is not None
    assert creds.issued_at is not None
    assert abs(creds.expires_at - time.time() - 7200) < 60
    assert CredentialStore().load("default") == creds
    page = await browser.tasks[0]
    assert DEMO_SCREEN_NAME in page
    assert creds.access_token not in page


async def test_the_redirect_uri_is_the_loopback_ip_literal_in_both_requests(demo2: DemoOAuth2Provider) -> None:
    """http://127.0.0.1:PORT/callback goes to the authorize page and, byte for byte, to the token request."""
    seen: list[str] = []

    async def record(url: str) -> bool:
        seen.append(url)
        return await Browser()(url)

    said: list[str] = []
    await login2(demo2, record, say=said.append)
    authorize = next(line for line in said if "/i/oauth2/authorize?" in line).split(": ", 1)[1]
    query = parse_qs(urlsplit(authorize).query)
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/callback", query["redirect_uri"][0])
    assert query["code_challenge_method"] == ["S256"]
    assert urljoin(seen[0], "/callback") == query["redirect_uri"][0]  # the start page on the same origin


@pytest.mark.parametrize("method", ["basic", "post"])
async def test_confidential_client_authenticates_with_a_secret_full_of_reserved_characters(
    demo2: DemoOAuth2Provider, method: str
) -> None:
    """client_secret_basic (form-encoded first) and client_secret_post both work with `+ / & = %` and é."""
    creds = await login2(
        demo2,
        Browser(),
        client_id=demo2.confidential_client_id,
        client_secret=demo2.confidential_client_secret,
        client_auth=method,
    )
    assert creds.access_token in demo2.issued_access_tokens
    assert demo2.client_auth_methods[-1] == f"client_secret_{method}"


async def test_denying_ends_the_login_with_exit_3_and_saves_nothing(demo2: DemoOAuth2Provider) -> None:
    """error=access_denied with our state is a refusal: AuthorizationDenied, no profile."""
    with pytest.raises(AuthorizationDenied) as info:
        await login2(demo2, Browser(approve=False))
    assert info.value.exit_code == 3
    with pytest.raises(NotLoggedIn):
        CredentialStore().load("default")


async def test_a_forged_callback_gets_400_and_the_login_goes_on(demo2: DemoOAuth2Provider) -> None:
    """A callback with another state (a code, or an error) changes nothing; the real one still logs in."""
    answers: list[tuple[int, str]] = []
    tasks: list[asyncio.Task[Any]] = []

    async def forger_then_user(url: str) -> bool:
        async def run() -> str:
            async with aiohttp.ClientSession() as session:
                # The start page redirects once the login has begun; a callback before that is refused for
                # another reason ("not started yet"), which is not what this test is about.
                async with session.get(url, allow_redirects=False) as start:
                    assert start.status == 302
                for query in ("code=stolen&state=forged", "error=access_denied&state=forged", "code=c"):
                    async with session.get(urljoin(url, "/callback?" + query)) as r:
                        answers.append((r.status, await r.text()))
            # The start page forwards once, and did: the user goes on from where it sent them.
            return await play_user(start.headers["Location"])

        tasks.append(asyncio.create_task(run()))
        return True

    creds = await login2(demo2, forger_then_user)
    assert [status for status, _ in answers] == [400, 400, 400]
    assert "state does not match" in answers[0][1]
    assert creds.access_token in demo2.issued_access_tokens


async def test_another_error_with_our_state_is_exit_5_with_the_providers_words_escaped(
    demo2: DemoOAuth2Provider,
) -> None:
    """A provider error on the callback ends the login with exit 5; its description is escaped on the page."""
    pages: list[str] = []
    tasks: list[asyncio.Task[Any]] = []

    async def provider_error(url: str) -> bool:
        async def run() -> None:
            async with aiohttp.ClientSession() as session:
                async with session.get(url, allow_redirects=False) as start:
                    state = parse_qs(urlsplit(start.headers["Location"]).query)["state"][0]
                query = f"error=temporarily_unavailable&error_description=%3Cscript%3Ex%3C%2Fscript%3E&state={state}"
                async with session.get(urljoin(url, "/callback?" + query)) as r:
                    pages.append(await r.text())

        tasks.append(asyncio.create_task(run()))
        return True

    with pytest.raises(ProviderError, match=r"temporarily_unavailable: <script>x</script>") as info:
        await login2(demo2, provider_error)
    assert info.value.exit_code == 5
    assert "&lt;script&gt;" in pages[0]
    assert "<script>" not in pages[0]


async def test_a_token_answer_that_is_not_json_bearer_is_exit_5_and_saves_nothing(demo2: DemoOAuth2Provider) -> None:
    """A 200 that is not a usable token answer fails the login (and quotes no token)."""
    demo2.failures["token"] = Failure(200, '{"access_token":"LEAKED","token_type":"mac"}', "application/json")
    with pytest.raises(ProviderError, match="only uses bearer tokens") as info:
        await login2(demo2, Browser())
    assert "LEAKED" not in str(info.value)
    with pytest.raises(NotLoggedIn):
        CredentialStore().load("default")


# -- refreshing -------------------------------------------------------------------------------------------------


def _age(profile: str = "default", *, seconds: int = 10_000) -> OAuth2Credentials:
    """Pretend time has passed: move the stored token's issue and expiry times into the past."""
    store = CredentialStore()
    creds = store.load(profile)
    assert isinstance(creds, OAuth2Credentials)
    assert creds.expires_at is not None
    assert creds.issued_at is not None
    aged = creds.replace(expires_at=creds.expires_at - seconds, issued_at=creds.issued_at - seconds)
    store.save(aged)
    return aged


async def test_load_refreshes_a_due_token_once_and_stores_the_rotated_pair(demo2: DemoOAuth2Provider) -> None:
    """loopauth.load() of an expired profile refreshes, stores the new pair, and the old refresh token is spent."""
    first = await login2(demo2, Browser())
    _age()
    fresh = await asyncio.to_thread(loopauth.load)
    assert isinstance(fresh, OAuth2Credentials)
    assert demo2.refreshes == 1
    assert fresh.access_token != first.access_token
    assert fresh.refresh_token != first.refresh_token
    assert fresh.expires_at is not None
    assert fresh.expires_at > time.time() + 7000
    assert CredentialStore().load("default") == fresh
    again = await asyncio.to_thread(loopauth.load)
    assert again == fresh
    assert demo2.refreshes == 1  # fresh now: no second refresh
    assert demo2.refresh_token_reuses == 0


async def test_eight_processes_at_expiry_cause_exactly_one_refresh(demo2: DemoOAuth2Provider) -> None:
    """N `loopauth token` processes started together on a due profile: one refresh, one rotated token for all."""
    await login2(demo2, Browser())
    _age()
    results = await asyncio.gather(*(run_cli_async("token", "--field", "access_token") for _ in range(8)))
    assert [r.returncode for r in results] == [0] * 8, [r.stderr for r in results]
    assert demo2.refreshes == 1
    assert demo2.refresh_token_reuses == 0
    assert len({r.stdout for r in results}) == 1
    assert results[0].stdout.strip() in demo2.issued_access_tokens


async def test_a_refused_refresh_marks_the_profile_for_a_new_login_exit_7(demo2: DemoOAuth2Provider, cli: Cli) -> None:
    """invalid_grant: exit 7 with the command that logs in again; the profile is kept, marked, and listed so."""
    await login2(demo2, Browser())
    aged = _age()
    assert aged.refresh_token
    # The provider forgets the grant (revoked on its side): the next refresh is refused.
    async with aiohttp.ClientSession() as session:
        await session.post(
            demo2.endpoints.revoke_url, data={"token": aged.refresh_token, "client_id": demo2.public_client_id}
        )
    result = await asyncio.to_thread(cli, "token", "--json")
    assert result.returncode == 7, result.stderr
    assert "must log in again" in result.stderr
    assert "(run `loopauth login --profile default`)" in result.stderr
    assert aged.refresh_token not in result.stderr
    kept = CredentialStore().load("default")
    assert isinstance(kept, OAuth2Credentials)
    assert kept.needs_login
    assert "(needs login)" in (await asyncio.to_thread(cli, "list")).stdout
    calls = demo2.calls["token"]
    assert (await asyncio.to_thread(cli, "token")).returncode == 7
    assert demo2.calls["token"] == calls  # known dead: no second refusal asked for


async def test_a_refresh_that_cannot_reach_the_provider_is_exit_5_and_keeps_the_tokens(
    demo2: DemoOAuth2Provider, cli: Cli
) -> None:
    """A 5xx or network failure during a refresh: exit 5, the stored pair untouched (it may still be good)."""
    await login2(demo2, Browser())
    aged = _age()
    demo2.failures["token"] = Failure(503, '{"error":"temporarily_unavailable"}', "application/json")
    result = await asyncio.to_thread(cli, "token")
    assert result.returncode == 5, result.stderr
    assert CredentialStore().load("default") == aged


async def test_an_expired_token_without_a_refresh_token_needs_a_new_login(demo2: DemoOAuth2Provider, cli: Cli) -> None:
    """Without offline.access there is no refresh token: once expired, exit 7."""
    creds = await login2(demo2, Browser(), scopes="tweet.read users.read")
    assert creds.refresh_token is None
    assert (await asyncio.to_thread(cli, "token", "--field", "access_token")).returncode == 0
    _age()
    result = await asyncio.to_thread(cli, "token", "--field", "access_token")
    assert result.returncode == 7
    assert "no refresh token" in result.stderr


# -- the other commands -----------------------------------------------------------------------------------------


async def test_token_prints_the_access_token_never_the_refresh_token(demo2: DemoOAuth2Provider, cli: Cli) -> None:
    """--json, --env and --field show the documented fields; refresh_token is refused as a field (exit 2)."""
    creds = await login2(demo2, Browser())
    data = json.loads((await asyncio.to_thread(cli, "token", "--json")).stdout)
    assert set(data) == {
        "profile", "provider", "access_token", "token_type", "expires_at", "scope", "client_id", "user_id",
        "username", "screen_name",
    }  # fmt: skip
    assert data["access_token"] == creds.access_token
    env = (await asyncio.to_thread(cli, "token", "--env")).stdout
    assert f"export LOOPAUTH_ACCESS_TOKEN={creds.access_token}" in env
    assert "LOOPAUTH_USERNAME=loopauth_demo" in env
    refused = await asyncio.to_thread(cli, "token", "--field", "refresh_token")
    assert refused.returncode == 2
    assert "never leaves loopauth" in refused.stderr
    for result in (data, env, refused.stderr):
        assert creds.refresh_token not in json.dumps(result)


async def test_token_checks_its_arguments_before_refreshing(demo2: DemoOAuth2Provider, cli: Cli) -> None:
    """A due token and a refused argument: exit 2 at once, without the refresh (which could fail, exit 5)."""
    await login2(demo2, Browser())
    _age()
    demo2.hang.add("token")  # a refresh now would wait for the provider; the arguments must fail first
    for args in (("--field", "refresh_token"), ("--prefix", "1X")):
        result = await asyncio.to_thread(cli, "token", *args)
        assert result.returncode == 2, result.stderr
    assert demo2.calls["token"] == 1  # the login's code exchange only
    assert demo2.refreshes == 0


async def test_header_request_and_verify_use_the_bearer(demo2: DemoOAuth2Provider, cli: Cli) -> None:
    """header prints Bearer; request sends it (the echo sees the user); verify names the account."""
    creds = await login2(demo2, Browser())
    header = await asyncio.to_thread(cli, "header", "GET", demo2.endpoints.echo_url)
    assert header.stdout == f"Authorization: Bearer {creds.access_token}\n"
    echoed = await asyncio.to_thread(cli, "request", "-d", "text=a & b = c + 100% é", demo2.endpoints.echo_url)
    assert echoed.returncode == 0, echoed.stderr
    answer = json.loads(echoed.stdout)
    assert answer["form"] == {"text": "a & b = c + 100% é"}
    assert answer["user"]["username"] == DEMO_SCREEN_NAME
    verified = await asyncio.to_thread(cli, "verify")
    assert verified.stdout.startswith(f"@{DEMO_SCREEN_NAME} (user id {DEMO_USER_ID}) on demo-oauth2")


async def test_a_401_gets_one_forced_refresh_and_one_retry(demo2: DemoOAuth2Provider, cli: Cli) -> None:
    """A token the provider ended early: refresh once, retry once; a second 401 is returned as it is (exit 5)."""
    await login2(demo2, Browser())
    demo2.expire_access_tokens()
    result = await asyncio.to_thread(cli, "request", demo2.endpoints.echo_url)
    assert result.returncode == 0, result.stderr
    assert demo2.refreshes == 1
    demo2.failures["echo"] = Failure(401, '{"title":"Unauthorized"}', "application/json")
    result = await asyncio.to_thread(cli, "request", demo2.endpoints.echo_url)
    assert result.returncode == 5
    assert demo2.refreshes == 2
    assert demo2.calls["echo"] == 4  # 401, retry; then 401, one retry, no more


async def test_logout_revoke_revokes_the_refresh_token_then_the_access_token(
    demo2: DemoOAuth2Provider, cli: Cli
) -> None:
    """RFC 7009: both tokens are revoked (refresh first), then the profile is deleted."""
    creds = await login2(demo2, Browser())
    result = await asyncio.to_thread(cli, "logout", "--revoke")
    assert result.returncode == 0, result.stderr
    assert creds.refresh_token in demo2.revoked_refresh_tokens
    assert creds.access_token in demo2.revoked_access_tokens
    assert demo2.calls["revoke"] == 2
    with pytest.raises(NotLoggedIn):
        CredentialStore().load("default")


def test_a_fresh_token_is_read_without_aiohttp_oauthlib_or_asyncio(tmp_path: Path) -> None:
    """`loopauth token --json` of a fresh OAuth 2.0 profile stays on the fast path."""
    store = CredentialStore(tmp_path)
    now = int(time.time())
    store.save(_creds(profile="default", issued_at=now, expires_at=now + 7200, refresh_token="r"))
    code = (
        "from loopauth.cli import main\nimport sys\nassert main(['token', '--json']) == 0\n"
        "print([m for m in ('aiohttp', 'oauthlib', 'asyncio', 'http.client') if m in sys.modules], file=sys.stderr)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"LOOPAUTH_CONFIG_DIR": str(tmp_path), "PATH": ""},
    )
    assert out.stderr.strip() == "[]"
    assert json.loads(out.stdout)["access_token"] == "t"


async def test_a_due_refresh_in_token_loads_nothing_of_the_login(demo2: DemoOAuth2Provider) -> None:
    """`loopauth token --json` of a due profile refreshes with the standard library's HTTP client alone: no
    aiohttp, oauthlib or asyncio, and no dataclasses (scripts/bench.py holds a refresh to one round trip
    plus ~50 ms; importing dataclasses took ~10 of them)."""
    await login2(demo2, Browser())
    aged = _age()
    heavy = ("aiohttp", "oauthlib", "asyncio", "dataclasses", "loopauth.loopback.dance")
    code = (
        "from loopauth.cli import main\nimport sys\nassert main(['token', '--json']) == 0\n"
        f"print([m for m in {heavy!r} if m in sys.modules], file=sys.stderr)"
    )
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-c", code, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL
    )
    out, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 0, err.decode()
    assert err.decode().strip() == "[]"
    assert demo2.refreshes == 1
    assert json.loads(out)["access_token"] != aged.access_token


async def test_cli_login_with_a_custom_provider_selects_oauth2_by_its_token_url(demo2: DemoOAuth2Provider) -> None:
    """--authorize-url with --token-url is an OAuth 2.0 login; the client id may come from the environment."""
    e = demo2.endpoints
    args = [
        "login", "--provider", "mine", "--authorize-url", e.authorize_url, "--token-url", e.token_url,
        "--verify-url", e.users_me_url, "--scope", "tweet.read users.read", "--port", "0", "--timeout", "20",
        "--json",
    ]  # fmt: skip
    env = {**browser_env(), "LOOPAUTH_CLIENT_ID": demo2.public_client_id}
    result = await run_cli_async(*args, env=env)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert (data["provider"], data["username"]) == ("mine", DEMO_SCREEN_NAME)
    assert "refresh_token" not in data
    assert data["access_token"] not in result.stderr


async def test_a_providers_toml_table_with_token_url_is_an_oauth2_provider(
    demo2: DemoOAuth2Provider, config_dir: Path
) -> None:
    """[name] with token_url (and scopes as a list) logs in by name."""
    e = demo2.endpoints
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "providers.toml").write_text(
        f'[demo2]\nauthorize_url = "{e.authorize_url}"\ntoken_url = "{e.token_url}"\n'
        f'verify_url = "{e.users_me_url}"\nrevoke_url = "{e.revoke_url}"\n'
        'scopes = ["tweet.read", "users.read", "offline.access"]\n'
    )
    creds = await login2(demo2, Browser(), provider="demo2")
    assert creds.provider == "demo2"
    assert creds.refresh_token


@pytest.mark.parametrize(
    "extra",
    [{"signature_method": "HMAC-SHA256"}, {"oob": True}, {"client_id": None}],
    ids=["signature-method", "oob", "no-client-id"],
)
async def test_oauth1_options_and_a_missing_client_id_are_usage_errors(
    demo2: DemoOAuth2Provider, extra: dict[str, Any]
) -> None:
    """What an OAuth 2.0 login cannot do is refused before anything starts."""
    with pytest.raises(UsageError):
        await login2(demo2, Browser(), **extra)
    assert demo2.calls["authorize"] == 0


def test_manual_flow2_in_pytwitters_vocabulary(demo2_threaded: DemoOAuth2Provider) -> None:
    """SyncFlow2: the URL, the landing address, the tokens; then the saved profile refreshes on load()."""
    flow = loopauth.SyncFlow2(
        demo2_threaded.public_client_id,
        provider=demo2_threaded.provider,
        callback_uri="http://127.0.0.1:9/callback",
    )
    url = flow.get_authorize_url()
    landed = asyncio.run(_approve_by_hand(url))
    with pytest.raises(UsageError, match="state does not match"):
        flow.generate_access_token(landed.replace("state=", "state=x"))
    tokens = flow.generate_access_token(landed)
    assert tokens["username"] == DEMO_SCREEN_NAME == flow.username
    assert "refresh_token" not in tokens
    CredentialStore().save(flow.credentials(profile="manual"))
    _age("manual")
    assert loopauth.load("manual").access_token != tokens["access_token"]  # type: ignore[union-attr]


async def _approve_by_hand(url: str) -> str:
    """Approve on the demo's page; return where the provider sends the browser (nothing listens there)."""
    async with aiohttp.ClientSession() as session:
        async with session.get(url) as page:
            fields = re.findall(r'name="([^"]+)" value="([^"]*)"', await page.text())
        target = url.split("?")[0]
        async with session.post(target, data=[*fields, ("action", "approve")], allow_redirects=False) as decision:
            return decision.headers["Location"]


@pytest.fixture
def demo2_threaded() -> Any:
    """The OAuth 2.0 demo on its own loop in a thread, for the blocking API."""
    import threading

    loop = asyncio.new_event_loop()
    demo = DemoOAuth2Provider()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    asyncio.run_coroutine_threadsafe(demo.start(), loop).result(10)
    yield demo
    asyncio.run_coroutine_threadsafe(demo.close(), loop).result(10)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(10)
    loop.close()


def test_demo_oauth2_logs_in_with_no_keys(cli: Cli) -> None:
    """`loopauth demo --oauth2` runs the whole OAuth 2.0 login against the embedded provider."""
    result = cli("demo", "--oauth2", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["username"] == DEMO_SCREEN_NAME
    stored = CredentialStore().load("demo")
    assert isinstance(stored, OAuth2Credentials)
    assert stored.refresh_token
