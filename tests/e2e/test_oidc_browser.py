"""Real-browser end-to-end for OpenID Connect: Debian's Chromium signs in on node oidc-provider's own pages.

`loopauth login --issuer` (discovery, PKCE, nonce, a verified ID token, RFC 9207 `iss`) and `loopauth login
--device` (RFC 8628: Chromium enters the user code on the provider's device page) against a certified OpenID
Provider on loopback (tests/oidc_provider.py; it skips without node or its npm packages). Run by ``make e2e``.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from loopauth.models import OAuth2Credentials
from loopauth.store import CredentialStore

from ..oidc_provider import PUBLIC_CLIENT_ID, NodeOidcProvider, node_oidc_provider

# Skips this module as well when Playwright is missing (`make test`), before anything below needs it.
from .test_browser import Browser, Login, assert_finished_page, chromium, running

try:
    from playwright.async_api import Page, expect
except ImportError:  # not reached: importing test_browser has skipped this module already
    pytest.skip("Playwright is not installed; `make e2e` installs it", allow_module_level=True)

pytestmark = pytest.mark.e2e
USER = "alice"
SCOPES = "openid profile email offline_access"


@pytest.fixture
async def op() -> AsyncIterator[NodeOidcProvider]:
    async with node_oidc_provider(device_interval=1) as provider:
        yield provider


@pytest.fixture
async def browser(tmp_path: Path) -> AsyncIterator[Browser]:
    async with chromium(tmp_path / "chromium-profile") as b:
        yield b


async def sign_in_and_consent(page: Page) -> None:
    """oidc-provider's devInteractions: its login form, then its consent form."""
    await page.locator('input[name="login"]').fill(USER)
    await page.locator('input[name="password"]').fill("any password")
    await page.locator('button[type="submit"]').first.click()
    await expect(page.get_by_role("button", name="Continue")).to_be_visible()
    await page.get_by_role("button", name="Continue").click()


def stored() -> OAuth2Credentials:
    creds = CredentialStore().load("default")
    assert isinstance(creds, OAuth2Credentials)
    return creds


async def test_an_openid_connect_login_in_chromium(op: NodeOidcProvider, browser: Browser) -> None:
    """From the issuer URL alone: the provider's pages, then loopauth's success page; exit 0 with a verified ID
    token and the account from userinfo."""
    args = ("login", "--issuer", op.issuer, "--client-id", PUBLIC_CLIENT_ID, "--scope", SCOPES)
    extra = ("--authorize-param", "prompt=consent", "--port", "0", "--timeout", "30", "--no-browser")
    async with running(*args, *extra, until=r"Open this URL in a browser to log in: (\S+)") as (process, found):
        login = Login(process, found.group(1))
        page = await browser.context.new_page()
        await page.goto(login.start_url)
        await sign_in_and_consent(page)
        # RFC 9207: the provider names itself in the redirect, and loopauth took it.
        await expect(page).to_have_url(re.compile("^" + re.escape(login.callback_url + "?") + ".*iss="))
        await assert_finished_page(page, "Logged in", f"@{USER}")
        code, out, err, _ = await login.finish()
        assert code == 0, err
        assert f"Logged in to 127.0.0.1 as @{USER} (user id {USER})" in out
        html = await page.content()
    creds = stored()
    assert creds.id_token is not None
    assert creds.id_token not in html
    assert (creds.user_id, creds.screen_name) == (USER, USER)
    assert creds.endpoints.issuer == op.issuer
    # oidc-provider's own development pages import a web font; nothing else left loopback (loopauth's pages
    # are checked to load nothing off loopback in test_browser.py).
    assert all(url.startswith("https://fonts.googleapis.com/") for url in browser.watch.off_loopback())


async def test_a_device_login_with_the_code_typed_in_chromium(op: NodeOidcProvider, browser: Browser) -> None:
    """--device: loopauth prints the page and the code; the user types the code there, signs in, consents."""
    args = ("login", "--device", "--issuer", op.issuer, "--client-id", PUBLIC_CLIENT_ID, "--scope", SCOPES)
    until = r"open (\S+) and enter the code: (\S+)"
    async with running(*args, "--timeout", "60", "--no-browser", until=until) as (process, found):
        page = await browser.context.new_page()
        await page.goto(found.group(1))
        await page.locator('input[name="user_code"]').fill(found.group(2))
        await page.get_by_role("button", name="Continue").click()
        # "Confirm Device": the code again, to compare with the one on the device.
        await expect(page.get_by_role("heading", level=1)).to_have_text("Confirm Device")
        await expect(page.locator('input[name="user_code"]')).to_have_value(found.group(2))
        await page.get_by_role("button", name="Continue").click()
        await sign_in_and_consent(page)
        await expect(page.locator("body")).to_contain_text("Sign-in Success")
        async with asyncio.timeout(30):
            out, err = await process.communicate()
        assert process.returncode == 0, err.decode()
        assert f"as @{USER}" in out.decode()
    creds = stored()
    assert creds.id_token is not None
    assert creds.refresh_token
    assert op.grants("urn:ietf:params:oauth:grant-type:device_code")
