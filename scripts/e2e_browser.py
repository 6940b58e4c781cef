"""Regenerate the README's screenshot of the success page from a real demo login in headless Chromium.

    .venv/bin/python scripts/e2e_browser.py [--dark] [--out scripts/screenshots/success-page.png]

Run ``make e2e`` once first: it installs Playwright (the ``e2e`` extra) and Debian's Chromium, which
this script drives at /usr/bin/chromium (or ``$LOOPAUTH_CHROMIUM``); it never downloads a browser.
The demo provider, loopauth's callback server and Chromium all run on loopback; the credentials go
to a throwaway directory, never to your own profiles.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
from pathlib import Path
from typing import Literal

from playwright.async_api import Page, async_playwright

from loopauth import login_async
from loopauth.demo import DemoProvider
from loopauth.store import CredentialStore

CHROMIUM = os.environ.get("LOOPAUTH_CHROMIUM", "/usr/bin/chromium")
# The same flags as tests/e2e: --no-sandbox for root, the rest keep Chromium off the network.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DEFAULT_OUT = Path(__file__).resolve().parent / "screenshots" / "success-page.png"


async def approve(page: Page, start_url: str) -> None:
    await page.goto(start_url)
    await page.get_by_role("button", name="Authorize app").click()
    await page.get_by_role("heading", name="Logged in").wait_for()


async def main(out: Path, scheme: Literal["light", "dark"]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        async with async_playwright() as playwright, DemoProvider() as demo:
            context = await playwright.chromium.launch_persistent_context(
                Path(tmp) / "chromium-profile",
                executable_path=CHROMIUM,
                headless=True,
                args=CHROMIUM_ARGS,
                viewport={"width": 760, "height": 440},
                color_scheme=scheme,
            )
            page = await context.new_page()
            clicks: list[asyncio.Task[None]] = []

            async def open_in_chromium(url: str) -> bool:
                # login_async waits for the callback only once the opener returns, so the clicking is a task.
                clicks.append(asyncio.create_task(approve(page, url)))
                return True

            await login_async(
                provider=demo.provider,
                consumer_key=demo.consumer_key,
                consumer_secret=demo.consumer_secret,
                port=0,
                timeout=30,
                open_browser=open_in_chromium,
                store=CredentialStore(Path(tmp) / "config"),
                say=lambda _line: None,
            )
            await asyncio.gather(*clicks)
            out.parent.mkdir(parents=True, exist_ok=True)
            await page.screenshot(path=out)
            await context.close()
    print(f"wrote {out}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"PNG to write (default {DEFAULT_OUT})")
    parser.add_argument("--dark", action="store_true", help="the dark colour scheme instead of the light one")
    args = parser.parse_args()
    asyncio.run(main(args.out, "dark" if args.dark else "light"))
