"""Real-browser end-to-end for OAuth 2.0: Debian's Chromium approves (and denies) on the OAuth 2.0 demo provider.

The same checks as test_browser.py's OAuth 1.0a approval, through the code + PKCE login: `loopauth login
--no-browser` against DemoOAuth2Provider, Chromium opens the start URL, lands on the demo's authorize page and
clicks; loopauth's final page is checked for landmarks, CSP and contrast, light and dark, and Chromium must
make no request off loopback. Run by ``make e2e``; screenshots go to ``artifacts/e2e/oauth2-*.png``.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from loopauth.demo import DEMO_SCREEN_NAME, DEMO_USER_ID
from loopauth.errors import NotLoggedIn
from loopauth.models import OAuth2Credentials
from loopauth.store import CredentialStore

from ..demo_probes import DemoOAuth2Provider

# Skips this module as well when Playwright is missing (`make test`), before anything below needs it.
from .test_browser import (
    START_URL,
    Browser,
    Login,
    assert_finished_page,
    chromium,
    look_light_and_dark,
    running,
)

try:
    from playwright.async_api import Page, expect
except ImportError:  # not reached: importing test_browser has skipped this module already
    pytest.skip("Playwright is not installed; `make e2e` installs it", allow_module_level=True)

pytestmark = pytest.mark.e2e


@pytest.fixture
async def browser(tmp_path: Path) -> AsyncIterator[Browser]:
    async with chromium(tmp_path / "chromium-profile") as b:
        yield b


@pytest.fixture
async def demo2() -> AsyncIterator[DemoOAuth2Provider]:
    async with DemoOAuth2Provider() as provider:
        yield provider


def oauth2_login_args(demo2: DemoOAuth2Provider) -> list[str]:
    e = demo2.endpoints
    return [
        "login",
        "--provider",
        "demo-oauth2",
        "--authorize-url",
        e.authorize_url,
        "--token-url",
        e.token_url,
        "--verify-url",
        e.users_me_url,
        "--revoke-url",
        e.revoke_url,
        "--client-id",
        demo2.public_client_id,
        "--scope",
        " ".join(demo2.provider.scopes),
        "--port",
        "0",
        "--timeout",
        "20",
        "--no-browser",
    ]


@contextlib.asynccontextmanager
async def running_oauth2_login(demo2: DemoOAuth2Provider) -> AsyncIterator[Login]:
    """``loopauth login --no-browser`` for the OAuth 2.0 demo, as a user runs it; the start URL it prints."""
    async with running(*oauth2_login_args(demo2), until=START_URL) as (process, found):
        yield Login(process, found.group(1))


async def open_oauth2_authorize_page(page: Page, login: Login, demo2: DemoOAuth2Provider) -> None:
    await page.goto(login.start_url)
    # Our start page forwards to the demo's authorize page, with PKCE (S256) in the request.
    authorize = re.escape(demo2.endpoints.authorize_url + "?")
    await expect(page).to_have_url(re.compile(f"^{authorize}.*code_challenge_method=S256"))
    await expect(page.get_by_role("heading", level=1)).to_contain_text("Authorize")
    # The demo's own stylesheet, let through by its CSP.
    await expect(page.get_by_role("main")).to_have_css("border-radius", "16px")
    await expect(page.get_by_role("main")).to_contain_text("offline.access")


async def test_approving_oauth2_in_chromium_stores_a_refreshable_profile(
    demo2: DemoOAuth2Provider, browser: Browser
) -> None:
    """Authorize app: our success page names the account; loopauth exits 0 with an OAuth 2.0 profile that holds
    the access and refresh tokens the demo issued."""
    async with running_oauth2_login(demo2) as login:
        page = await browser.context.new_page()
        await open_oauth2_authorize_page(page, login, demo2)
        await look_light_and_dark(page, "oauth2-authorize")
        await page.get_by_role("button", name="Authorize app").click()
        await expect(page).to_have_url(re.compile("^" + re.escape(login.callback_url + "?")))
        await assert_finished_page(
            page, "Logged in", f"@{DEMO_SCREEN_NAME}", "You can close this tab and return to your terminal"
        )
        code, out, err, took = await login.finish()
        assert not page.is_closed()
        assert code == 0, err
        assert f"Logged in to demo-oauth2 as @{DEMO_SCREEN_NAME} (user id {DEMO_USER_ID})" in out
        print(f"loopauth exited {took:.2f} s after the success page showed")
        await look_light_and_dark(page, "oauth2-success")
        # Nothing secret on the page the browser keeps.
        html = await page.content()
    creds = CredentialStore().load("default")
    assert isinstance(creds, OAuth2Credentials)
    assert creds.access_token in demo2.issued_access_tokens
    assert creds.refresh_token in demo2.issued_refresh_tokens
    assert (creds.user_id, creds.screen_name) == (DEMO_USER_ID, DEMO_SCREEN_NAME)
    assert creds.access_token not in html
    assert creds.refresh_token not in html
    assert demo2.calls["token"] == 1
    browser.watch.assert_clean()


async def test_denying_oauth2_in_chromium_says_so_and_exits_3(demo2: DemoOAuth2Provider, browser: Browser) -> None:
    """Deny: the demo redirects with error=access_denied and our state; our page says so; exit 3, nothing saved."""
    async with running_oauth2_login(demo2) as login:
        page = await browser.context.new_page()
        await open_oauth2_authorize_page(page, login, demo2)
        await page.get_by_role("button", name="Deny").click()
        await assert_finished_page(page, "Access denied", "denied", "Nothing was saved", "close this tab")
        code, _, err, _ = await login.finish()
        assert code == 3, err
        await look_light_and_dark(page, "oauth2-denied")
    with pytest.raises(NotLoggedIn):
        CredentialStore().load("default")
    assert demo2.calls["token"] == 0
    browser.watch.assert_clean()
