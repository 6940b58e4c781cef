"""Another local user cannot end a waiting login: the start page (whose redirect carries OAuth 2.0's `state` or
OAuth 1.0a's request token) is at a random path, not at `/`, so knowing the port is not enough to send a denial."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import parse_qs, urlsplit

import aiohttp
import pytest

import loopauth
from loopauth.demo import DEMO_SCREEN_NAME, DemoProvider, play_user
from loopauth.demo.oauth2 import DemoOAuth2Provider


async def deny_from_the_root(start_url: str) -> int:
    """What another local user can do knowing only the port (``ss -ltn`` shows it): fetch `/`, and if it redirects,
    send the callback a denial carrying the `state` (OAuth 2.0) or request token (OAuth 1.0a) found there.
    Returns the status `/` answered."""
    origin = "{0.scheme}://{0.netloc}".format(urlsplit(start_url))
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{origin}/", allow_redirects=False) as response:
            status, location = response.status, response.headers.get("Location", "")
        query = parse_qs(urlsplit(location).query)
        denial = None
        if "state" in query:
            denial = {"error": "access_denied", "state": query["state"][0]}
        elif "oauth_token" in query:
            denial = {"denied": query["oauth_token"][0]}
        if denial is not None:
            async with session.get(f"{origin}/callback", params=denial) as response:
                await response.read()
    return status


@pytest.fixture
async def demo2() -> Any:
    async with DemoOAuth2Provider() as provider:
        yield provider


@pytest.mark.parametrize("protocol", ["oauth2", "oauth1"])
async def test_a_local_user_who_knows_the_port_cannot_end_the_login(
    demo: DemoProvider, demo2: DemoOAuth2Provider, protocol: str
) -> None:
    """`/` is a 404 with nothing in it while the login waits; the user's browser then logs in as usual."""
    seen: list[int] = []
    pages: list[asyncio.Task[str]] = []

    async def opener(url: str) -> bool:
        seen.append(await deny_from_the_root(url))
        pages.append(asyncio.create_task(play_user(url)))
        return True

    if protocol == "oauth2":
        provider: dict[str, Any] = {"provider": demo2.provider, "client_id": demo2.public_client_id}
    else:
        provider = {
            "provider": demo.provider,
            "consumer_key": demo.consumer_key,
            "consumer_secret": demo.consumer_secret,
        }
    creds = await loopauth.login_async(**provider, port=0, timeout=20, open_browser=opener, say=lambda _: None)
    assert seen == [404]
    assert creds.screen_name == DEMO_SCREEN_NAME
    assert DEMO_SCREEN_NAME in await pages[0]
