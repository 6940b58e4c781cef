"""The whole login against the demo provider (a real oauthlib server), with a scripted browser."""

from __future__ import annotations

import asyncio
import re
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import pytest

from loopauth import Flow, login_async
from loopauth.demo import DEMO_SCREEN_NAME, DEMO_USER_ID, PlayUserError, play_user
from loopauth.errors import AuthorizationDenied, LoginTimeout, NotLoggedIn, PortInUse, ProviderError
from loopauth.models import Credentials
from loopauth.store import CredentialStore

from .conftest import oauth1, port_is_free, run_cli_async
from .demo_probes import DemoProvider, Failure

Opener = Callable[[str], Awaitable[bool]]


class ScriptedBrowser:
    """An opener that plays the user in the background, as a real browser would."""

    def __init__(self, *, approve: bool = True) -> None:
        self.approve = approve
        self.opened: list[str] = []
        self.tasks: list[asyncio.Task[str]] = []

    async def __call__(self, url: str) -> bool:
        self.opened.append(url)
        self.tasks.append(asyncio.create_task(play_user(url, approve=self.approve)))
        return True


async def login(demo: DemoProvider, opener: Opener | bool, *, timeout: float = 20, **kwargs: Any) -> Credentials:
    return oauth1(
        await login_async(
            provider=demo.provider,
            consumer_key=demo.consumer_key,
            consumer_secret=demo.consumer_secret,
            port=0,
            timeout=timeout,
            open_browser=opener,
            say=lambda _: None,
            **kwargs,
        )
    )


async def test_login_stores_credentials_that_the_provider_accepts(demo: DemoProvider) -> None:
    """Approve in the provider page: the access token is stored and signs a verified request."""
    browser = ScriptedBrowser()
    creds = await login(demo, browser)
    assert creds.user_id == DEMO_USER_ID
    assert creds.screen_name == DEMO_SCREEN_NAME
    page = await browser.tasks[0]
    assert DEMO_SCREEN_NAME in page
    assert "close this tab" in page
    stored = CredentialStore().load("default")
    assert stored == creds
    # The stored token really works: a signed call to the provider's protected resource.
    from loopauth.oauth1.signing import Consumer, sign

    assert demo.provider.verify_url
    signed = sign(
        "GET",
        demo.provider.verify_url,
        Consumer(creds.consumer_key, creds.consumer_secret),
        token=creds.oauth_token,
        token_secret=creds.oauth_token_secret,
    )
    async with aiohttp.ClientSession() as session, session.get(signed.url, headers=signed.headers) as response:
        assert response.status == 200
        assert (await response.json())["screen_name"] == DEMO_SCREEN_NAME


async def test_browser_is_pointed_at_the_local_start_url(demo: DemoProvider) -> None:
    """The browser opens on our own loopback page, which forwards to the provider."""
    browser = ScriptedBrowser()
    await login(demo, browser)
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/[\w-]{22}", browser.opened[0])


async def test_denial_raises_and_saves_nothing(demo: DemoProvider) -> None:
    """denied=<our token> ends the login as denied, with no access-token call."""
    browser = ScriptedBrowser(approve=False)
    with pytest.raises(AuthorizationDenied):
        await login(demo, browser)
    assert "denied" in (await browser.tasks[0]).lower()
    assert demo.calls["access_token"] == 0
    with pytest.raises(NotLoggedIn):
        CredentialStore().load("default")


async def test_nobody_coming_back_times_out_and_frees_the_port(demo: DemoProvider) -> None:
    """With no callback the login ends with LoginTimeout and the port can be bound again."""
    seen: list[str] = []

    async def opener(url: str) -> bool:
        seen.append(url)
        return True

    with pytest.raises(LoginTimeout, match=r"timed out after 0\.5 s") as info:
        await login(demo, opener, timeout=0.5)
    assert "oauth_token=" in str(info.value)  # the message repeats the login URL
    port = urlsplit(seen[0]).port
    assert port is not None
    assert port_is_free(port)


async def test_busy_port_fails_before_any_request_token(demo: DemoProvider) -> None:
    """A port somebody listens on gives PortInUse naming it, before the provider is asked anything."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        with pytest.raises(PortInUse, match=str(port)):
            await login_async(
                provider=demo.provider,
                consumer_key=demo.consumer_key,
                consumer_secret=demo.consumer_secret,
                port=port,
                open_browser=ScriptedBrowser(),
                say=lambda _: None,
            )
    assert demo.calls["request_token"] == 0


async def test_unconfirmed_callback_is_refused_before_the_provider_page(demo: DemoProvider) -> None:
    """Without oauth_callback_confirmed the login stops, and the local page shows the error."""
    demo.callback_confirmed = None
    shown: list[tuple[int, str, str]] = []

    async def open_start_page(url: str) -> bool:
        async def visit() -> None:
            async with aiohttp.ClientSession() as session, session.get(url) as response:
                shown.append((response.status, str(response.url), await response.text()))

        browser_tasks.append(asyncio.create_task(visit()))
        return True

    browser_tasks: list[asyncio.Task[None]] = []
    with pytest.raises(ProviderError, match="did not confirm the callback"):
        await login(demo, open_start_page)
    await asyncio.gather(*browser_tasks)
    status, final_url, body = shown[0]
    assert status == 502
    assert final_url.startswith("http://127.0.0.1:")  # never forwarded to the provider
    assert "did not confirm the callback" in body
    assert demo.calls["authorize"] == 0


async def test_provider_error_at_access_token_is_reported(demo: DemoProvider) -> None:
    """A 401 in Twitter's JSON shape becomes a ProviderError with the provider's words."""
    demo.failures["access_token"] = Failure(
        401, '{"errors":[{"code":32,"message":"Could not authenticate you."}]}', "application/json"
    )
    browser = ScriptedBrowser()
    with pytest.raises(ProviderError, match="Could not authenticate you") as info:
        await login(demo, browser)
    assert info.value.status == 401
    assert "clock" in str(info.value)
    with pytest.raises(PlayUserError, match="Login failed"):
        await browser.tasks[0]  # the browser is shown our error page


async def test_earlier_login_survives_a_failed_one(demo: DemoProvider) -> None:
    """A failing later login leaves the stored credentials of an earlier one untouched."""
    first = await login(demo, ScriptedBrowser())
    demo.failures["access_token"] = Failure(500, "boom")
    with pytest.raises(ProviderError):
        await login(demo, ScriptedBrowser())
    assert CredentialStore().load("default") == first


async def test_manual_flow_with_a_pasted_redirect_url(demo: DemoProvider) -> None:
    """The seed's manual flow: authorize URL, then the URL the browser landed on."""
    fl = Flow(demo.consumer_key, demo.consumer_secret, provider=demo.provider, callback_uri="https://localhost/")
    url = await fl.get_authorize_url()
    async with aiohttp.ClientSession() as session:
        async with session.get(url) as response:
            assert response.status == 200
        token = url.split("oauth_token=")[1]
        async with session.post(
            f"{demo.base_url}/oauth/authorize", data={"oauth_token": token, "action": "approve"}, allow_redirects=False
        ) as response:
            landed = response.headers["Location"]
    assert landed.startswith("https://localhost/")
    tokens = await fl.generate_access_token(response=landed)
    assert tokens["user_id"] == DEMO_USER_ID == fl.auth_user_id
    assert tokens["screen_name"] == DEMO_SCREEN_NAME
    assert set(tokens) == {"oauth_token", "oauth_token_secret", "user_id", "screen_name"}


class Typist:
    """The ``paste=`` seam: lines a person types, handed to the login as an async iterable."""

    def __init__(self) -> None:
        self.queue: asyncio.Queue[str | None] = asyncio.Queue()

    def type(self, line: str | None) -> None:
        self.queue.put_nowait(line)

    async def __aiter__(self) -> AsyncIterator[str]:
        while (line := await self.queue.get()) is not None:
            yield line


async def test_oob_login_takes_the_pin_from_the_paste_seam(demo: DemoProvider) -> None:
    """oob=True sends oauth_callback=oob, opens the provider page itself, and the typed PIN is the verifier."""
    typist = Typist()
    opened: list[str] = []

    async def read_pin_aloud(url: str) -> bool:
        async def person() -> None:
            pin = re.search(r'role="status">(\d{7})<', await play_user(url))
            assert pin, "the demo showed no PIN"
            typist.type(pin[1])

        opened.append(url)
        tasks.append(asyncio.create_task(person()))
        return True

    tasks: list[asyncio.Task[None]] = []
    creds = await login(demo, read_pin_aloud, oob=True, paste=typist)
    await asyncio.gather(*tasks)
    assert creds.screen_name == DEMO_SCREEN_NAME
    assert opened[0].startswith(demo.provider.authorize_url + "?")  # no local start page without a server


async def test_paste_source_ending_leaves_the_server_waiting(demo: DemoProvider) -> None:
    """An iterable that ends at once (EOF) does not end the login; the browser still completes it."""
    typist = Typist()
    typist.type(None)
    browser = ScriptedBrowser()
    creds = await login(demo, browser, paste=typist)
    assert creds.user_id == DEMO_USER_ID


# -- the manual flow keeps what it was given (issue 11's three bugs) -----------------------------------------------


async def _approve_manually(fl: Flow, demo: DemoProvider) -> dict[str, str]:
    """Run the manual flow to the end, approving on the demo's page by hand, and return its tokens."""
    url = await fl.get_authorize_url()
    token = url.split("oauth_token=")[1]
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"{demo.base_url}/oauth/authorize", data={"oauth_token": token, "action": "approve"}, allow_redirects=False
        ) as response,
    ):
        landed = response.headers["Location"]
    return await fl.generate_access_token(response=landed)


async def _signing_method_of_a_later_request(demo: DemoProvider, profile: str) -> str:
    result = await run_cli_async("request", "--profile", profile, demo.echo_url)
    assert result.returncode == 0, result.stderr
    header = demo.last_request_headers["echo"]["Authorization"]
    found = re.search(r'oauth_signature_method="([^"]+)"', header)
    assert found
    return found[1]


async def test_manual_flow_finds_a_provider_defined_in_providers_toml(demo: DemoProvider, config_dir: Path) -> None:
    """Flow(provider="mine") reads providers.toml from the config dir, as login does."""
    p = demo.provider
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "providers.toml").write_text(
        f'[mine]\nrequest_token_url = "{p.request_token_url}"\nauthorize_url = "{p.authorize_url}"\n'
        f'access_token_url = "{p.access_token_url}"\n'
    )
    fl = Flow(demo.consumer_key, demo.consumer_secret, provider="mine", callback_uri="https://localhost/")
    tokens = await _approve_manually(fl, demo)
    assert tokens["screen_name"] == DEMO_SCREEN_NAME
    assert fl.credentials(tokens).provider == "mine"


async def test_manual_flow_profile_keeps_its_signature_method(demo: DemoProvider) -> None:
    """A Flow signed with HMAC-SHA256 saves a profile that signs later requests with HMAC-SHA256 too."""
    fl = Flow(demo.consumer_key, demo.consumer_secret, provider=demo.provider, signature_method="HMAC-SHA256")
    tokens = await _approve_manually(fl, demo)
    assert 'oauth_signature_method="HMAC-SHA256"' in demo.last_request_headers["access_token"]["Authorization"]
    CredentialStore().save(fl.credentials(tokens, profile="sha256"))
    assert await _signing_method_of_a_later_request(demo, "sha256") == "HMAC-SHA256"


async def test_manual_rsa_flow_profile_keeps_its_key_file(demo: DemoProvider, tmp_path: Path) -> None:
    """An RSA-SHA1 Flow saves the key file's path with the profile, so later calls can sign."""
    from .test_tools import _rsa_key_pair

    pem, public = _rsa_key_pair(tmp_path)
    demo.register_client("rsa-consumer-key", "unused-secret", rsa_public_key=public)
    fl = Flow("rsa-consumer-key", "", provider=demo.provider, signature_method="RSA-SHA1", rsa_key_file=str(pem))
    tokens = await _approve_manually(fl, demo)
    creds = fl.credentials(tokens, profile="rsa")
    assert creds.rsa_key_file == str(pem.resolve())
    CredentialStore().save(creds)
    assert await _signing_method_of_a_later_request(demo, "rsa") == "RSA-SHA1"
