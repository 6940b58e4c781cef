"""OAuth 2.0 token answers checked strictly, tokens revoked or kept when an answer is refused, refreshes whose
outcome is unknown never resent, and provider messages that never repeat what loopauth sent."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

import loopauth
from loopauth.demo import play_user
from loopauth.errors import ProviderError
from loopauth.http import Request, Response
from loopauth.models import OAuth2Credentials, OAuth2Provider
from loopauth.oauth1 import messages as oauth1_messages
from loopauth.oauth2 import messages, refresh
from loopauth.store import CredentialStore

from .conftest import Cli, browser_env, demo_login_args, run_cli_async
from .demo_probes import DemoOAuth2Provider, DemoProvider, Failure

GOOD = {"access_token": "AT-good", "token_type": "bearer"}


def _answer(data: object, status: int = 200) -> Response:
    body = data if isinstance(data, str) else json.dumps(data)
    return Response(status, "", "HTTP/1.1", (("Content-Type", "application/json"),), body.encode())


# -- the answer itself ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "expires_in",
    ['"NaN"', "NaN", "Infinity", "-Infinity", '"²"', '"' + "9" * 5000 + '"', "1e308", "-1", "315360001", '"0x10"',
     "true", '"12 "', "[]"],
    ids=["NaN-string", "NaN", "Infinity", "-Infinity", "superscript", "5000-digits", "1e308", "negative",
         "over-ten-years", "hex", "bool", "space", "list"],
)  # fmt: skip
def test_an_expires_in_that_is_not_zero_to_ten_years_of_seconds_is_refused(expires_in: str) -> None:
    """Each one ended in `internal error` (exit 1), or was stored and broke `status`: now one ProviderError line."""
    body = '{"access_token":"AT-good","token_type":"bearer","expires_in":' + expires_in + "}"
    with pytest.raises(ProviderError) as info:
        messages.parse_token_response(_answer(body), step="refresh")
    assert info.value.exit_code == 5
    assert "\n" not in str(info.value)
    assert "AT-good" not in str(info.value)


@pytest.mark.parametrize(("expires_in", "seconds"), [(0, 0), (3600, 3600), ("7200", 7200), (315360000, 315360000)])
def test_an_expires_in_of_zero_to_ten_years_is_whole_seconds(expires_in: object, seconds: int) -> None:
    data = messages.parse_token_response(_answer({**GOOD, "expires_in": expires_in}), step="x")
    assert data["expires_in"] == seconds
    assert type(data["expires_in"]) is int


def test_deeply_nested_json_is_a_provider_error_not_a_recursion_error() -> None:
    """100,000 nested arrays from the token endpoint raised RecursionError (exit 1)."""
    with pytest.raises(ProviderError, match="not a JSON object"):
        messages.parse_token_response(_answer("[" * 100_000 + "]" * 100_000), step="token request")
    nested = '{"access_token":"AT-good","token_type":"bearer","x":' + "[" * 100 + "]" * 100 + "}"
    with pytest.raises(ProviderError, match="not a JSON object"):
        messages.parse_token_response(_answer(nested), step="token request")


@pytest.mark.parametrize(
    "token", ["AT\u2028x", "AT-\u4e2d\u6587", "AT x", "AT\x1b]52;c;aGk=\x07", "=AT", "AT=x", "AT\u00e9"]
)
def test_an_access_token_a_bearer_header_cannot_carry_is_refused(token: str) -> None:
    """RFC 6750 b64token only: U+2028 or CJK was stored, then `request` died with UnicodeEncodeError."""
    with pytest.raises(ProviderError, match="characters a bearer token cannot carry"):
        messages.parse_token_response(_answer({**GOOD, "access_token": token}), step="x")


@pytest.mark.parametrize("token", ["A-Za-z0-9._~+/", "abc==", "a/b+c="])
def test_b64token_characters_are_accepted(token: str) -> None:
    assert messages.parse_token_response(_answer({**GOOD, "access_token": token}), step="x")["access_token"] == token


@pytest.mark.parametrize("token", ["RT\u2028x", "RT-\u4e2d", "RT\x07", "RT x"])
def test_a_refresh_token_that_is_not_printable_ascii_is_refused(token: str) -> None:
    with pytest.raises(ProviderError, match="refresh_token is not printable ASCII"):
        messages.parse_token_response(_answer({**GOOD, "refresh_token": token}), step="x")


@pytest.mark.parametrize("token", ["t\u2028", "t\u4e2d", "t\x1b"])
def test_oauth1_tokens_are_printable_ascii(token: str) -> None:
    from urllib.parse import urlencode

    body = urlencode({"oauth_token": token, "oauth_token_secret": "s"})
    with pytest.raises(ProviderError, match="not printable ASCII"):
        oauth1_messages.parse_token_response(200, "", body, step="access token")


def test_an_oauth1_token_secret_only_keys_the_signature_so_it_may_be_any_text_without_controls() -> None:
    """Secrets never go in a header as they are (percent-encoded first): ` & = + % é` pass, an escape does not."""
    from urllib.parse import urlencode

    body = urlencode({"oauth_token": "t", "oauth_token_secret": "s & = + % é~/"})
    assert oauth1_messages.parse_token_response(200, "", body, step="x")["oauth_token_secret"] == "s & = + % é~/"
    with pytest.raises(ProviderError, match="not printable ASCII"):
        oauth1_messages.parse_token_response(
            200, "", urlencode({"oauth_token": "t", "oauth_token_secret": "s\x1b"}), step="x"
        )


def test_the_scope_is_stored_without_control_characters() -> None:
    """A scope carrying OSC 52 and a screen clear reached `token --env` raw; it is cleaned as account names are."""
    scope = "read \x1b]52;c;aGk=\x07\x1b[2J write\u202e"
    data = messages.parse_token_response(_answer({**GOOD, "scope": scope}), step="x")
    assert data["scope"] == "read ]52;c;aGk= [2J write"


def _profile(**kw: Any) -> OAuth2Credentials:
    values: dict[str, Any] = {
        "profile": "default",
        "provider": "x",
        "client_id": "id",
        "access_token": "AT-1",
        "endpoints": OAuth2Provider("x", "https://x.example/a", "https://x.example/t"),
        **kw,
    }
    return OAuth2Credentials(**values)


@pytest.mark.parametrize("flag", [["--env"], ["--field", "scope"], ["--json"]])
def test_token_never_prints_a_stored_scope_raw(cli: Cli, flag: list[str]) -> None:
    """A profile stored before scopes were cleaned: `token` prints no ESC, BEL or other control character."""
    CredentialStore().save(_profile(scope="read \x1b]52;c;aGk=\x07\x1b[2J\x9b"))
    result = cli("token", *flag)
    assert result.returncode == 0
    assert not any((ord(c) < 0x20 and c != "\n") or 0x7F <= ord(c) <= 0x9F for c in result.stdout), result.stdout


def test_add_refuses_tokens_a_header_cannot_carry() -> None:
    """`add` took any token; now a bearer token must be a b64token and the others printable ASCII (exit 2)."""
    env = {"LOOPAUTH_CLIENT_ID": "c"}
    for stdin, words in (
        ("AT?x\nRT\n", "characters a bearer token cannot carry"),
        ("AT-\u4e2d\nRT\n", "characters a bearer token cannot carry"),
        ("AT\nRT-\u4e2d\n", "the refresh token is not printable ASCII"),
    ):
        result = asyncio.run(run_cli_async("add", "--provider", "x-oauth2", stdin=stdin.encode(), env=env))
        assert result.returncode == 2, result.stderr
        assert words in result.stderr
        assert CredentialStore().names() == []
    env = {"LOOPAUTH_CONSUMER_KEY": "k", "LOOPAUTH_CONSUMER_SECRET": "s"}
    result = asyncio.run(run_cli_async("add", "--provider", "x", stdin="t-\u4e2d\nsecret\n".encode(), env=env))
    assert result.returncode == 2
    assert "the access token is not printable ASCII" in result.stderr


# -- against the demo provider, which rotates refresh tokens and counts each reuse --------------------------------


@pytest.fixture
async def demo2() -> AsyncIterator[DemoOAuth2Provider]:
    async with DemoOAuth2Provider() as provider:
        yield provider


async def _login(demo2: DemoOAuth2Provider) -> OAuth2Credentials:
    tasks: list[asyncio.Task[str]] = []

    async def browser(url: str) -> bool:
        tasks.append(asyncio.create_task(play_user(url)))
        return True

    try:
        creds = await loopauth.login_async(
            provider=demo2.provider,
            client_id=demo2.public_client_id,
            port=0,
            timeout=20,
            open_browser=browser,
            say=lambda _: None,
        )
    finally:
        # A failed login shows the browser an error page, which play_user reports by raising: not this test's point.
        await asyncio.gather(*tasks, return_exceptions=True)
    assert isinstance(creds, OAuth2Credentials)
    return creds


def _due() -> OAuth2Credentials:
    store = CredentialStore()
    creds = store.load("default")
    assert isinstance(creds, OAuth2Credentials)
    assert creds.expires_at is not None
    assert creds.issued_at is not None
    aged = creds.replace(expires_at=creds.expires_at - 10_000, issued_at=creds.issued_at - 10_000)
    store.save(aged)
    return aged


def _stored() -> OAuth2Credentials:
    creds = CredentialStore().load("default")
    assert isinstance(creds, OAuth2Credentials)
    return creds


async def test_tokens_in_a_refused_answer_at_login_are_revoked(demo2: DemoOAuth2Provider) -> None:
    """The demo issues real tokens with an expires_in over ten years: loopauth refuses the answer, revokes both
    tokens (the path a failed save takes), says so in one line, and saves nothing."""
    demo2.access_token_lifetime = 10**10
    with pytest.raises(ProviderError) as info:
        await _login(demo2)
    message = str(info.value)
    assert "expires_in" in message
    assert "was revoked at demo-oauth2, so nothing valid is left behind" in message
    assert "\n" not in message
    assert demo2.issued_access_tokens
    assert set(demo2.issued_access_tokens) <= demo2.revoked_access_tokens
    assert set(demo2.issued_refresh_tokens) <= demo2.revoked_refresh_tokens
    assert CredentialStore().names() == []


async def test_a_refused_refresh_answer_still_saves_its_rotated_refresh_token(
    demo2: DemoOAuth2Provider, cli: Cli
) -> None:
    """The demo rotates for real but answers an expires_in over ten years: exit 5, and the new refresh token is
    saved, so the next refresh uses it (the old one is spent) and the provider sees no reuse."""
    first = await _login(demo2)
    _due()
    demo2.access_token_lifetime = 10**10
    result = await asyncio.to_thread(cli, "token", "--field", "access_token")
    assert result.returncode == 5, result.stderr
    assert len(result.stderr.splitlines()) == 1
    assert demo2.refreshes == 1
    kept = _stored()
    assert kept.refresh_token != first.refresh_token
    assert kept.refresh_token in demo2.issued_refresh_tokens
    assert not kept.refreshing
    demo2.access_token_lifetime = 7200
    again = await asyncio.to_thread(cli, "token", "--field", "access_token")
    assert again.returncode == 0, again.stderr
    assert demo2.refreshes == 2
    assert demo2.refresh_token_reuses == 0


async def test_a_refresh_that_timed_out_is_not_sent_again(
    demo2: DemoOAuth2Provider, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The provider is slower than the refresh timeout: exit 5 saying the profile must log in again; the next run
    says why in one line, naming `loopauth login --profile default`, and sends nothing."""
    await _login(demo2)
    spent = _due().refresh_token
    assert spent
    monkeypatch.setattr(refresh, "REFRESH_TIMEOUT", 1.0)
    demo2.delay = 4
    started = time.monotonic()
    result = await asyncio.to_thread(cli, "token")
    assert time.monotonic() - started < 4
    assert result.returncode == 5, result.stderr
    assert "did not answer within 1 s" in result.stderr
    assert "must log in again" in result.stderr
    assert _stored().refreshing
    demo2.delay = 0
    calls = demo2.calls["token"]
    later = await asyncio.to_thread(cli, "token")
    assert later.returncode == 7
    assert later.stderr.splitlines() == [
        "loopauth: error: profile 'default' must log in again: its last refresh got no answer loopauth could use "
        "(interrupted, timed out or refused), so its refresh token may be spent and is not sent again "
        "(run `loopauth login --profile default`)"
    ]
    assert demo2.calls["token"] == calls
    assert demo2.refresh_token_reuses == 0
    assert spent not in later.stderr


async def test_a_refresh_killed_in_flight_is_not_sent_again(demo2: DemoOAuth2Provider) -> None:
    """`kill -9` while the refresh is at the provider: the next `token` refuses to resend the token (exit 7)."""
    await _login(demo2)
    _due()
    demo2.hang.add("token")
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "loopauth", "token", stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL
    )
    # The refresh arrives from another process; the provider's counter is all there is to watch.
    deadline = time.monotonic() + 20
    while demo2.calls["token"] < 2 and time.monotonic() < deadline:  # noqa: ASYNC110 (the login's was the first)
        await asyncio.sleep(0.05)
    assert demo2.calls["token"] == 2
    os.kill(proc.pid, signal.SIGKILL)
    await proc.wait()
    demo2.hang.clear()
    later = await run_cli_async("token")
    assert later.returncode == 7
    assert "its refresh token may be spent and is not sent again" in later.stderr
    assert "loopauth login --profile default" in later.stderr
    assert demo2.calls["token"] == 2


async def test_a_refresh_that_could_not_connect_or_got_an_error_answer_leaves_no_mark(
    demo2: DemoOAuth2Provider, cli: Cli
) -> None:
    """Nothing sent (connection refused) or a definite refusal (503): the next run refreshes as usual."""
    await _login(demo2)
    _due()
    demo2.failures["token"] = Failure(503, '{"error":"temporarily_unavailable"}', "application/json")
    assert (await asyncio.to_thread(cli, "token")).returncode == 5
    assert not _stored().refreshing
    del demo2.failures["token"]
    port = demo2.provider.token_url
    await demo2.close()
    unreachable = await asyncio.to_thread(cli, "token")
    assert unreachable.returncode == 5
    assert f"cannot reach {port}: connection refused" in unreachable.stderr
    assert not _stored().refreshing


@pytest.mark.parametrize(
    ("answer", "marked"),
    [
        ({"access_token": "AT\u2028", "token_type": "bearer"}, False),  # no refresh token: the old stays good
        ({"access_token": "AT", "token_type": "bearer", "refresh_token": "RT\u2028"}, True),
        ("not json", True),
    ],
    ids=["no-refresh-token", "unusable-refresh-token", "not-json"],
)
async def test_a_refused_200_answer_leaves_the_mark_only_when_the_refresh_token_may_be_lost(
    demo2: DemoOAuth2Provider, cli: Cli, answer: object, marked: bool
) -> None:
    await _login(demo2)
    _due()
    body = answer if isinstance(answer, str) else json.dumps(answer)
    demo2.failures["token"] = Failure(200, body, "application/json")
    assert (await asyncio.to_thread(cli, "token")).returncode == 5
    assert _stored().refreshing is marked


# -- provider messages that repeat what loopauth sent -------------------------------------------------------------


async def test_a_refresh_error_that_echoes_the_request_shows_no_secret(demo2: DemoOAuth2Provider, cli: Cli) -> None:
    """An error_description repeating `refresh_token=RT-…&client_id=…` printed the refresh token."""
    await _login(demo2)
    spent = _due().refresh_token
    assert spent
    echo = f"bad request: grant_type=refresh_token&refresh_token={spent}&client_id={demo2.public_client_id}"
    demo2.failures["token"] = Failure(400, json.dumps({"error": "invalid_request", "error_description": echo}))
    result = await asyncio.to_thread(cli, "token")
    assert result.returncode == 5
    assert spent not in result.stderr
    assert "refresh_token=[redacted]" in result.stderr


def test_a_login_error_that_echoes_the_request_shows_no_code_verifier_or_secret() -> None:
    """The code, the PKCE verifier and a client secret (sent in HTTP Basic) echoed by the token endpoint."""
    import base64
    from urllib.parse import unquote

    flow = loopauth.SyncFlow2(
        "cid",
        "S3CRET+/=value",
        provider=OAuth2Provider("echo", "https://echo.example/authorize", "https://echo.example/token"),
    )
    flow.get_authorize_url()
    verifier = flow._dance.verifier
    assert verifier
    request = messages.form_request(
        "https://echo.example/token",
        [("code", "CODE-123456"), ("code_verifier", verifier)],
        client_id="cid",
        client_secret="S3CRET+/=value",
        client_auth="basic",
    )
    assert request.body is not None
    pair = base64.b64decode(request.headers["Authorization"].split()[1]).decode()
    said = json.dumps(
        {"error": "invalid_grant", "error_description": f"{request.body.decode()} {unquote(pair)} {pair}"}
    )
    answer = Response(400, "", "HTTP/1.1", (("Content-Type", "application/json"),), said.encode(), request)
    with pytest.raises(ProviderError) as info:
        messages.parse_token_response(answer, step="token request")
    for secret in ("CODE-123456", verifier, "S3CRET+/=value", "S3CRET%2B%2F%3Dvalue"):
        assert secret not in str(info.value)
        assert secret not in info.value.body
    assert "code=[redacted]" in str(info.value)


def test_an_oauth1_error_that_echoes_the_verifier_and_token_secret_shows_neither() -> None:
    """A PLAINTEXT signature carries the consumer and token secrets; the verifier rides in the header too."""
    from loopauth.oauth1.consumer import consumer_for
    from loopauth.oauth1.signing import sign

    consumer = consumer_for("ck", "cs-secret", signature_method="PLAINTEXT")
    sent = sign(
        "POST", "https://p.example/at", consumer, token="req-token", token_secret="ts-secret", verifier="VERIFIER9"
    )
    text = "oauth_problem=bad&echo=VERIFIER9 ts-secret cs-secret req-token"
    with pytest.raises(ProviderError) as info:
        oauth1_messages.parse_token_response(401, "", text, step="access token", sent=sent)
    for secret in ("VERIFIER9", "ts-secret", "cs-secret", "req-token"):
        assert secret not in str(info.value)
        assert secret not in info.value.body


def test_request_carries_what_was_sent() -> None:
    """Each answer names the request that got it: errors quoting the answer leave out that request's secrets."""
    assert Response(200, "", "HTTP/1.1", (), b"").request is None
    request = Request("GET", "https://x.example/")
    assert Response(200, "", "HTTP/1.1", (), b"", request).request is request


async def test_an_oauth1_token_refused_at_login_is_revoked_where_the_provider_allows(demo: DemoProvider) -> None:
    """An access-token answer with a token that is not printable ASCII: refused, and revoked at the revoke_url."""
    demo.failures["access_token"] = Failure(
        200, "oauth_token=t-%E4%B8%AD&oauth_token_secret=s", "application/x-www-form-urlencoded"
    )
    args = [*demo_login_args(demo), "--revoke-url", demo.provider.revoke_url or ""]
    result = await run_cli_async(*args, env=browser_env())
    assert result.returncode == 5
    [error] = [line for line in result.stderr.splitlines() if line.startswith("loopauth: error:")]
    assert "token that is not printable ASCII or a secret with control characters; the new token" in error
    assert demo.calls["revoke"] == 1
    assert CredentialStore().names() == []
