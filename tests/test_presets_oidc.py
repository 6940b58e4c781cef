"""The github and microsoft presets, and what they need of loopauth: errors answered with HTTP 200 (GitHub), and
Entra ID's issuer template filled by each ID token's tid (Microsoft)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

import loopauth
from loopauth.errors import NotLoggedIn, ProviderError
from loopauth.models import OAuth2Credentials, OAuth2Provider
from loopauth.oidc.discovery import needs_discovery
from loopauth.providers import PRESETS, check_provider
from loopauth.store import CredentialStore

from .conftest import Cli
from .oidc_fake import CLIENT_ID, FakeIssuer, follow


@pytest.fixture
async def op() -> AsyncIterator[FakeIssuer]:
    async with FakeIssuer() as issuer:
        yield issuer


@pytest.mark.parametrize("name", ["github", "microsoft"])
def test_the_presets_are_static_and_have_a_device_endpoint(name: str) -> None:
    preset = PRESETS[name]
    assert isinstance(preset, OAuth2Provider)
    assert check_provider(preset) is preset
    assert not needs_discovery(preset)  # no discovery on the way to a login, nor to a fresh token
    assert (preset.device_authorization_url or "").startswith("https://")


def test_providers_lists_them(cli: Cli) -> None:
    result = cli("providers")
    assert result.returncode == 0
    assert "github" in result.stdout
    assert "microsoft" in result.stdout


async def login(provider: OAuth2Provider | str, **keywords: Any) -> OAuth2Credentials:
    creds = await loopauth.login_async(
        provider=provider,
        client_id=CLIENT_ID,
        port=0,
        timeout=10,
        open_browser=follow,
        say=lambda _: None,
        **keywords,
    )
    assert isinstance(creds, OAuth2Credentials)
    return creds


def like_github(op: FakeIssuer) -> OAuth2Provider:
    github = PRESETS["github"]
    assert isinstance(github, OAuth2Provider)
    return github.replace(authorize_url=f"{op.base}/auth", token_url=f"{op.base}/token", verify_url=None)


async def test_an_error_answered_with_200_keeps_its_message(op: FakeIssuer) -> None:
    op.answers["authorization_code"] = (
        200,
        {"error": "bad_verification_code", "error_description": "The code passed is incorrect or expired."},
    )
    with pytest.raises(ProviderError) as caught:
        await login(like_github(op))
    assert "bad_verification_code" in caught.value.message
    assert "incorrect or expired" in caught.value.message


async def test_a_dead_grant_answered_with_200_at_refresh_is_exit_7(op: FakeIssuer, cli: Cli) -> None:
    """GitHub refuses a spent refresh token with 200 and bad_refresh_token: a login is needed (exit 7), not a
    network failure (exit 5)."""
    await login(like_github(op))
    store = CredentialStore()
    creds = store.load("default")
    assert isinstance(creds, OAuth2Credentials)
    store.save(creds.replace(expires_at=int(time.time()) - 10))
    op.answers["refresh_token"] = (
        200,
        {"error": "bad_refresh_token", "error_description": "The refresh token passed is incorrect or expired."},
    )
    result = await asyncio.to_thread(cli, "token", "--field", "access_token")
    assert result.returncode == 7, result.stderr
    assert "bad_refresh_token" in result.stderr
    with pytest.raises(NotLoggedIn):
        loopauth.load()


def entra_like(op: FakeIssuer) -> OAuth2Provider:
    microsoft = PRESETS["microsoft"]
    assert isinstance(microsoft, OAuth2Provider)
    return microsoft.replace(
        authorize_url=f"{op.base}/auth",
        token_url=f"{op.base}/token",
        jwks_url=f"{op.base}/jwks",
        verify_url=None,
        issuer=op.base + "/{tenantid}/v2.0",
    )


async def test_an_entra_id_token_fills_the_issuer_template_with_its_tid(op: FakeIssuer) -> None:
    op.claims = {
        "iss": f"{op.base}/9188040d-6c67-4c5b-b112-36a304b66dad/v2.0",
        "tid": "9188040d-6c67-4c5b-b112-36a304b66dad",
    }
    creds = await login(entra_like(op))
    assert creds.id_token is not None
    assert op.hits["openid-configuration"] == 0
    assert op.nonces


async def test_an_entra_id_token_whose_iss_is_another_tenants_fails(op: FakeIssuer) -> None:
    op.claims = {"iss": f"{op.base}/attacker-tenant/v2.0", "tid": "9188040d-6c67-4c5b-b112-36a304b66dad"}
    with pytest.raises(ProviderError, match="issued by"):
        await login(entra_like(op))


# -- the faults found against real servers ---------------------------------------------------------------------------


async def test_logging_in_again_asks_for_what_was_asked_not_what_was_granted(
    op: FakeIssuer, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`login --profile P` alone: the scopes and authorize parameters of the first login, not the narrower grant
    (a provider that grants offline_access only with prompt=consent would drop the refresh token)."""
    import sys
    from pathlib import Path

    browser = Path(__file__).with_name("redirect_browser.py")
    monkeypatch.setenv("BROWSER", f"{sys.executable} {browser} %s")
    op.granted_scope = "openid"
    first = await asyncio.to_thread(
        cli,
        "login",
        "--issuer",
        op.issuer,
        "--client-id",
        CLIENT_ID,
        "--scope",
        "openid profile offline_access",
        "--authorize-param",
        "prompt=consent",
        "--port",
        "0",
        "--profile",
        "p",
    )
    assert first.returncode == 0, first.stderr
    again = await asyncio.to_thread(cli, "login", "--profile", "p", "--port", "0")
    assert again.returncode == 0, again.stderr
    asked = [(q["scope"], q.get("prompt")) for q in op.authorize_queries]
    assert asked == [("openid profile offline_access", "consent")] * 2
    assert op.hits["openid-configuration"] == 1  # the stored endpoints serve the second login


def test_a_string_of_scopes_is_split_on_spaces() -> None:
    provider = OAuth2Provider("p", "https://a.example/auth", "https://a.example/token", scopes="read write")
    assert provider.scopes == ("read", "write")


async def test_a_provider_value_with_a_string_of_scopes_asks_for_them(op: FakeIssuer) -> None:
    provider = OAuth2Provider("p", f"{op.base}/auth", f"{op.base}/token", scopes="read  write")
    await login(provider)
    assert op.authorize_queries[-1]["scope"] == "read write"


def _save(**changes: Any) -> OAuth2Credentials:
    store = CredentialStore()
    creds = store.load("default")
    assert isinstance(creds, OAuth2Credentials)
    creds = creds.replace(**changes)
    store.save(creds)
    return creds


async def test_a_profile_without_a_refresh_token_works_until_it_has_really_expired(op: FakeIssuer, cli: Cli) -> None:
    op.refresh_tokens = False
    await login(plain_provider(op))
    now = int(time.time())
    creds = _save(expires_at=now + 30, issued_at=now - 3000)  # inside the refresh margin, still valid
    assert await asyncio.to_thread(loopauth.load) == creds
    assert (await asyncio.to_thread(cli, "token", "--field", "access_token")).stdout.strip() == creds.access_token
    _save(expires_at=now - 1)
    result = await asyncio.to_thread(cli, "token", "--field", "access_token")
    assert result.returncode == 7
    assert "no refresh token" in result.stderr


def plain_provider(op: FakeIssuer) -> OAuth2Provider:
    return OAuth2Provider("fake", f"{op.base}/auth", f"{op.base}/token", verify_url=f"{op.base}/api")


async def test_a_login_without_a_refresh_token_warns_when_it_will_end(
    op: FakeIssuer, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys
    from pathlib import Path

    monkeypatch.setenv("BROWSER", f"{sys.executable} {Path(__file__).with_name('redirect_browser.py')} %s")
    args = ("login", "--authorize-url", f"{op.base}/auth", "--token-url", f"{op.base}/token", "--client-id", CLIENT_ID)
    op.refresh_tokens = False
    result = await asyncio.to_thread(cli, *args, "--port", "0")
    assert result.returncode == 0, result.stderr
    assert "gave no refresh token" in result.stderr
    assert "in 60 min" in result.stderr
    assert "offline_access" in result.stderr
    op.refresh_tokens = True
    result = await asyncio.to_thread(cli, *args, "--port", "0")
    assert "refresh token" not in result.stderr


def test_only_handles_get_an_at_sign() -> None:
    from loopauth.text import account_name

    assert account_name("alice", None) == "@alice"
    assert account_name("alice@example.test", "1") == "alice@example.test"
    assert account_name("Alice Liddell", "1") == "Alice Liddell"


@pytest.mark.parametrize(
    ("status", "challenge", "refreshes"),
    [
        (401, 'Bearer error="invalid_token"', 1),
        (403, "", 1),  # django-oauth-toolkit's answer to an expired token
        (403, 'Bearer error="insufficient_scope"', 0),  # a new token would have the same scopes
    ],
)
async def test_one_forced_refresh_on_401_or_a_403_that_may_mean_expired(
    op: FakeIssuer, cli: Cli, status: int, challenge: str, refreshes: int
) -> None:
    creds = await login(plain_provider(op))
    _save(expires_at=None)  # the expiry is unknown, as for a token given to `add`
    op.refused[creds.access_token] = (status, challenge)
    result = await asyncio.to_thread(cli, "request", f"{op.base}/api")
    assert op.hits["token:refresh_token"] == refreshes
    assert ('"forty-two"' in result.stdout) == bool(refreshes)


async def test_a_403_is_no_reason_to_refresh_when_the_expiry_is_known(op: FakeIssuer, cli: Cli) -> None:
    creds = await login(plain_provider(op))
    op.refused[creds.access_token] = (403, "")
    await asyncio.to_thread(cli, "request", f"{op.base}/api")
    assert op.hits["token:refresh_token"] == 0


async def test_add_refreshes_an_expired_access_token_once_and_saves_the_new_pair(
    op: FakeIssuer, cli: Cli, config_dir: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    import io

    config_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    (config_dir / "providers.toml").write_text(
        f'[fake]\nauthorize_url = "{op.base}/auth"\ntoken_url = "{op.base}/token"\nverify_url = "{op.base}/api"\n'
    )
    op.refused["expired-access"] = (401, 'Bearer error="invalid_token"')
    monkeypatch.setattr("sys.stdin", io.TextIOWrapper(io.BytesIO(b"expired-access\ngiven-refresh\n")))
    result = await asyncio.to_thread(cli, "add", "--provider", "fake", "--client-id", CLIENT_ID)
    assert result.returncode == 0, result.stderr
    assert op.hits["token:refresh_token"] == 1
    saved = CredentialStore().load("default")
    assert isinstance(saved, OAuth2Credentials)
    assert saved.access_token not in ("expired-access", "")
    assert saved.refresh_token not in ("given-refresh", None)
    assert saved.user_id == "user-42"


async def test_a_lost_refresh_answer_says_the_grant_may_be_spent(
    op: FakeIssuer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from loopauth.oauth2 import refresh

    monkeypatch.setattr(refresh, "REFRESH_TIMEOUT", 0.5)
    await login(plain_provider(op))
    before = _save(expires_at=int(time.time()) - 10)
    op.hang.add("refresh_token")
    with pytest.raises(ProviderError) as caught:
        await asyncio.to_thread(loopauth.load)
    assert "whether the provider spent its refresh token is unknown" in caught.value.message
    # Marked, so the token is never sent again blindly: the next run says to log in.
    assert CredentialStore().load("default") == before.replace(refreshing=True)


async def test_the_first_login_from_python_makes_its_profile_active(op: FakeIssuer) -> None:
    lines: list[str] = []
    await loopauth.login_async(
        provider=plain_provider(op),
        client_id=CLIENT_ID,
        profile="work",
        port=0,
        timeout=10,
        open_browser=follow,
        say=lines.append,
    )
    assert CredentialStore().resolve(None) == "work"
    assert loopauth.load().profile == "work"
    assert any("Active profile: 'work'" in line for line in lines)
