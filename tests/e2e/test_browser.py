"""Real-browser end-to-end: Debian's Chromium, driven by Playwright, logs in to the demo provider through the CLI.

An HTTP client cannot show what a browser does: prefetch, favicons, keep-alive connections and
enforcement of our Content-Security-Policy. Run by ``make e2e``; ``make test`` deselects these (marker
``e2e``). Every page is also saved, light and dark, under ``artifacts/e2e/`` for a person to look at.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest

from loopauth.demo import DEMO_SCREEN_NAME
from loopauth.loopback.pages import SECURITY_HEADERS, render

from ..conftest import demo_login_args
from ..demo_probes import DemoProvider, Failure

try:
    from playwright.async_api import BrowserContext, Page, async_playwright, expect
except ImportError:  # `make test` needs no Playwright; `make e2e` installs it
    pytest.skip("Playwright is not installed; `make e2e` installs it", allow_module_level=True)

pytestmark = pytest.mark.e2e

CHROMIUM = os.environ.get("LOOPAUTH_CHROMIUM", "/usr/bin/chromium")
# Running as root needs --no-sandbox; the rest stop Chromium's own background traffic (updates, sync,
# field trials), which this closed network refuses and which would muddy the "nothing leaves loopback" check.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "e2e"
LOOPBACK = {"127.0.0.1", "::1", "localhost"}
EXIT_WITHIN = 5.0
"""'Within a few seconds': how long loopauth may take to exit once the final page is shown."""
URL_WITHIN = 20.0


@dataclass
class Watch:
    """What Chromium did across all tabs: every request it made and every console message."""

    requests: list[str] = field(default_factory=list)
    console: list[str] = field(default_factory=list)

    def csp_violations(self) -> list[str]:
        return [m for m in self.console if "Content Security Policy" in m]

    def off_loopback(self) -> list[str]:
        return [url for url in self.requests if urlsplit(url).hostname not in LOOPBACK]

    def assert_clean(self) -> None:
        assert self.requests, "Chromium made no requests at all: the watch is not attached"
        assert not self.csp_violations(), self.csp_violations()
        assert not self.off_loopback(), self.off_loopback()


@dataclass
class Browser:
    context: BrowserContext
    watch: Watch


@contextlib.asynccontextmanager
async def chromium(profile: Path, *extra_args: str) -> AsyncIterator[Browser]:
    """Headless Chromium with a fresh profile; closed on exit, so until then every tab stays open."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(f"no Chromium at {CHROMIUM}: `make e2e` installs Debian's (apt-get install -y chromium)")
    async with async_playwright() as playwright:
        # Never `playwright install`: Playwright only drives the system's Chromium.
        context = await playwright.chromium.launch_persistent_context(
            profile,
            executable_path=CHROMIUM,
            headless=True,
            args=[*CHROMIUM_ARGS, *extra_args],
            viewport={"width": 760, "height": 520},
        )
        watch = Watch()
        context.on("request", lambda request: watch.requests.append(request.url))
        context.on("console", lambda message: watch.console.append(f"{message.type}: {message.text}"))
        try:
            yield Browser(context, watch)
        finally:
            await context.close()


@pytest.fixture
async def browser(tmp_path: Path) -> AsyncIterator[Browser]:
    async with chromium(tmp_path / "chromium-profile") as b:
        yield b


@dataclass
class Login:
    """``loopauth login`` running as a subprocess, exactly as a user runs it."""

    process: asyncio.subprocess.Process
    start_url: str

    @property
    def callback_url(self) -> str:
        return urljoin(self.start_url, "/callback")

    async def finish(self) -> tuple[int, str, str, float]:
        """Wait (at most EXIT_WITHIN) for loopauth to exit: exit code, stdout, stderr and seconds taken."""
        started = time.monotonic()
        async with asyncio.timeout(EXIT_WITHIN):
            out, err = await self.process.communicate()
        assert self.process.returncode is not None
        return self.process.returncode, out.decode(), err.decode(), time.monotonic() - started


START_URL = r"Open this URL in a browser to log in: (\S+)"
"""The line a ``--no-browser`` login prints, with the start URL in its group."""


@contextlib.asynccontextmanager
async def running(*args: str, until: str) -> AsyncIterator[tuple[asyncio.subprocess.Process, re.Match[str]]]:
    """``loopauth ARGS`` as a user runs it, and the first stderr line that matches ``until``.

    An asyncio subprocess, so the test's event loop (where a demo provider may run) keeps serving meanwhile.
    """
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "loopauth",
        *args,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert process.stderr is not None
        async with asyncio.timeout(URL_WITHIN):
            while True:
                line = (await process.stderr.readline()).decode()
                if not line:
                    pytest.fail(f"loopauth exited with {await process.wait()} before printing {until!r}")
                found = re.search(until, line)
                if found:
                    break
        yield process, found
    finally:
        if process.returncode is None:
            process.kill()
            await process.communicate()


@contextlib.asynccontextmanager
async def running_login(demo: DemoProvider) -> AsyncIterator[Login]:
    """Start ``loopauth login --no-browser`` against the demo and read the start URL it prints."""
    async with running(*demo_login_args(demo, "--no-browser"), until=START_URL) as (process, found):
        yield Login(process, found.group(1))


# WCAG 2.1 contrast of each text element against the first opaque background behind it, as rendered.
CONTRAST_JS = """() => {
  const channels = c => c.match(/[\\d.]+/g).map(Number);
  const luminance = c => {
    const linear = v => (v /= 255) <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
    const [r, g, b] = channels(c).slice(0, 3).map(linear);
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const background = el => {
    for (; el; el = el.parentElement) {
      const c = getComputedStyle(el).backgroundColor, v = channels(c);
      if (v.length < 4 || v[3] > 0) return c;
    }
    return "rgb(255, 255, 255)";
  };
  return [...document.querySelectorAll("h1, p, li, button, footer, .detail")].map(el => {
    const [a, b] = [luminance(getComputedStyle(el).color), luminance(background(el))];
    const what = el.tagName.toLowerCase() + (el.className ? "." + el.className : "");
    return [what, (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05)];
  });
}"""
MIN_CONTRAST = 4.5
"""WCAG AA for normal-size text."""


async def look_light_and_dark(page: Page, name: str) -> None:
    """Save the page light and dark; in both, the palette really switches and all text has AA contrast."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    backgrounds = []
    for scheme in ("light", "dark"):
        await page.emulate_media(color_scheme=scheme)
        backgrounds.append(await page.locator("body").evaluate("body => getComputedStyle(body).backgroundColor"))
        ratios: list[tuple[str, float]] = await page.evaluate(CONTRAST_JS)
        assert ratios, f"{name}: no text found"
        low = [(what, round(ratio, 2)) for what, ratio in ratios if ratio < MIN_CONTRAST]
        assert not low, f"{name} ({scheme}): contrast below {MIN_CONTRAST}:1 for {low}"
        await page.screenshot(path=ARTIFACTS / f"{name}-{scheme}.png")
    await page.emulate_media(color_scheme="light")
    assert backgrounds[0] != backgrounds[1], f"{name}: light and dark look the same ({backgrounds[0]})"


async def assert_finished_page(page: Page, heading: str, *texts: str) -> None:
    """Our page, styled (the CSP let the inline style through), with its heading and what to do next."""
    await expect(page.get_by_role("heading", level=1)).to_have_text(heading)
    await expect(page.locator("html")).to_have_attribute("lang", "en")
    await expect(page.get_by_role("main")).to_have_count(1)
    await expect(page.get_by_role("contentinfo")).to_have_count(1)
    # An inline style the CSP refused leaves the page unstyled, silently: check a rule took effect.
    await expect(page.locator("body")).to_have_css("display", "flex")
    for text in texts:
        await expect(page.get_by_role("main")).to_contain_text(text)


async def open_authorize_page(page: Page, login: Login, demo: DemoProvider) -> None:
    await page.goto(login.start_url)
    # Our start page forwards to the provider's authorize page.
    await expect(page).to_have_url(re.compile("^" + re.escape(demo.provider.authorize_url + "?oauth_token=")))
    await expect(page.get_by_role("heading", level=1)).to_contain_text("Authorize")
    # The demo provider's own stylesheet, let through by its CSP.
    await expect(page.get_by_role("main")).to_have_css("border-radius", "16px")


async def test_approving_in_chromium_names_the_account_and_exits_0_with_the_tab_open(
    demo: DemoProvider, browser: Browser
) -> None:
    """Authorize app: our success page names the account; loopauth exits 0 within seconds, Chromium still open."""
    async with running_login(demo) as login:
        page = await browser.context.new_page()
        await open_authorize_page(page, login, demo)
        await look_light_and_dark(page, "authorize")
        await page.get_by_role("button", name="Authorize app").click()
        await expect(page).to_have_url(re.compile("^" + re.escape(login.callback_url + "?")))
        await assert_finished_page(
            page, "Logged in", f"@{DEMO_SCREEN_NAME}", "You can close this tab and return to your terminal"
        )
        code, out, err, took = await login.finish()
        # The browser and the tab with its keep-alive connection are still there: loopauth did not wait for them.
        assert not page.is_closed()
        assert code == 0, err
        assert f"Logged in to demo as @{DEMO_SCREEN_NAME}" in out
        print(f"loopauth exited {took:.2f} s after the success page showed")
        await look_light_and_dark(page, "success")
    browser.watch.assert_clean()


async def test_denying_in_chromium_says_so_and_exits_3(demo: DemoProvider, browser: Browser) -> None:
    """Deny: our page says access was denied and nothing saved; loopauth exits 3."""
    async with running_login(demo) as login:
        page = await browser.context.new_page()
        await open_authorize_page(page, login, demo)
        await page.get_by_role("button", name="Deny").click()
        await assert_finished_page(page, "Access denied", "denied", "Nothing was saved", "close this tab")
        code, _, err, _ = await login.finish()
        assert not page.is_closed()
        assert code == 3, err
        assert "denied" in err
        await look_light_and_dark(page, "denied")
    browser.watch.assert_clean()


async def test_forged_callback_in_another_tab_is_rejected_then_the_real_login_succeeds(
    demo: DemoProvider, browser: Browser
) -> None:
    """A forged callback opened first gets a 400 page and ends nothing; the real flow then logs in."""
    async with running_login(demo) as login:
        forged = await browser.context.new_page()
        response = await forged.goto(login.callback_url + "?oauth_token=forged&oauth_verifier=x")
        assert response is not None
        assert response.status == 400
        await assert_finished_page(forged, "Not a valid callback", "does not complete the login")
        await look_light_and_dark(forged, "forged-callback")

        page = await browser.context.new_page()
        await open_authorize_page(page, login, demo)
        await page.get_by_role("button", name="Authorize app").click()
        await assert_finished_page(page, "Logged in", f"@{DEMO_SCREEN_NAME}")
        code, _, err, _ = await login.finish()
        assert code == 0, err
    browser.watch.assert_clean()


async def test_provider_failure_after_approval_shows_the_error_page_and_exits_5(
    demo: DemoProvider, browser: Browser
) -> None:
    """The provider refusing the access token: our error page says to look at the terminal; exit 5."""
    demo.failures["access_token"] = Failure(503, "Over capacity")
    async with running_login(demo) as login:
        page = await browser.context.new_page()
        await open_authorize_page(page, login, demo)
        await page.get_by_role("button", name="Authorize app").click()
        await assert_finished_page(page, "Login failed", "503", "terminal")
        code, _, err, _ = await login.finish()
        assert code == 5, err
        await look_light_and_dark(page, "error")
    browser.watch.assert_clean()


async def test_loopauth_opens_chromium_itself_and_the_login_completes(demo: DemoProvider, tmp_path: Path) -> None:
    """Without --no-browser: loopauth binds and hands Chromium the start URL before its server (and aiohttp)
    is even loaded; Chromium's request waits in the listen backlog and lands on the authorize page."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        devtools = probe.getsockname()[1]
    # BROWSER: ask this Chromium, through its DevTools HTTP endpoint, to open the URL in a new tab.
    opener = tmp_path / "open-in-chromium.py"
    opener.write_text(
        "import sys, urllib.request\n"
        f"request = urllib.request.Request('http://127.0.0.1:{devtools}/json/new?' + sys.argv[1], method='PUT')\n"
        "urllib.request.urlopen(request, timeout=10).read()\n"
    )
    async with chromium(tmp_path / "chromium-profile", f"--remote-debugging-port={devtools}") as browser:
        opened = asyncio.ensure_future(browser.context.wait_for_event("page", timeout=URL_WITHIN * 1000))
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "loopauth",
            *demo_login_args(demo),
            env={**os.environ, "BROWSER": f"{sys.executable} {opener} %s"},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        try:
            page = await opened
            await expect(page).to_have_url(re.compile("^" + re.escape(demo.provider.authorize_url + "?oauth_token=")))
            await page.get_by_role("button", name="Authorize app").click()
            await assert_finished_page(page, "Logged in", f"@{DEMO_SCREEN_NAME}")
            async with asyncio.timeout(EXIT_WITHIN):
                out, err = await process.communicate()
        finally:
            if process.returncode is None:
                process.kill()
                await process.communicate()
        assert process.returncode == 0, err.decode()
        assert f"Logged in to demo as @{DEMO_SCREEN_NAME}" in out.decode()
        assert len(re.findall(r"^Opening http://127\.0\.0\.1:\d+/[\w-]+ in your browser", err.decode(), re.M)) == 1
    browser.watch.assert_clean()


async def test_the_csp_check_catches_an_inline_style_the_policy_refuses(browser: Browser) -> None:
    """The console watch used above does see a violation: our page under a policy with the wrong hash."""
    page = await browser.context.new_page()
    url = "http://127.0.0.1:9/csp-probe"
    headers = {**SECURITY_HEADERS, "Content-Security-Policy": "default-src 'none'; style-src 'sha256-AAAA'"}
    await page.route(url, lambda route: route.fulfill(status=200, headers=headers, body=render("info", "t", "m")))
    await page.goto(url)
    await expect(page.locator("body")).not_to_have_css("display", "flex")
    assert browser.watch.csp_violations()
