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
