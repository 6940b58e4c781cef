"""The device authorization grant (RFC 8628): `login --device` against node's oidc-provider and against a provider
of our own that answers each poll as a test says (tests/oidc_fake.py)."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator
from typing import Any

import pytest

from loopauth.api import prepare
from loopauth.errors import AuthorizationDenied, LoginTimeout, NotLoggedIn, ProviderError, UsageError
from loopauth.loopback.options import LoginOptions
from loopauth.models import OAuth2Credentials, OAuth2Provider
from loopauth.oauth2 import device
from loopauth.oidc.discovery import issuer_provider
from loopauth.store import CredentialStore

from .conftest import Cli
from .oidc_fake import CLIENT_ID, SUBJECT, FakeIssuer
from .oidc_provider import PUBLIC_CLIENT_ID, FormBrowser, NodeOidcProvider, node_oidc_provider

PENDING = (400, {"error": "authorization_pending"})


@pytest.fixture
async def op() -> AsyncIterator[FakeIssuer]:
    async with FakeIssuer() as issuer:
        yield issuer


class Run:
    """One device login in a worker thread, with what it said, opened and slept recorded."""

    def __init__(self) -> None:
        self.said: list[str] = []
        self.opened: list[str] = []
        self.slept: list[float] = []

    async def login(self, provider: OAuth2Provider | str, **options: Any) -> OAuth2Credentials:
        keywords: dict[str, Any] = {"client_id": CLIENT_ID, "scopes": ("openid", "profile"), "timeout": 60}
        keywords.update(options)
        prepared = prepare(LoginOptions(provider=provider, say=self.said.append, **keywords))
        return await asyncio.to_thread(device.login, prepared, open_url=self.opened.append, sleep=self.slept.append)


def stored() -> OAuth2Credentials:
    creds = CredentialStore().load("default")
    assert isinstance(creds, OAuth2Credentials)
    return creds


async def test_a_device_login_shows_the_code_opens_the_page_polls_and_stores_a_verified_login(op: FakeIssuer) -> None:
    op.polls = [PENDING, PENDING]
    run = Run()
    creds = await run.login(issuer_provider(op.issuer))
    assert any("WDJB-MJHT" in line and f"{op.base}/activate" in line for line in run.said)
    assert run.opened == [f"{op.base}/activate?user_code=WDJB-MJHT"]
    assert run.slept == [2, 2, 2]
    assert op.hits["token:urn:ietf:params:oauth:grant-type:device_code"] == 3
    assert (creds.user_id, creds.screen_name) == (SUBJECT, "forty-two")  # from the verified ID token
    assert creds.id_token is not None
    assert stored() == creds
    assert "the-device-code" not in " ".join(run.said)


async def test_slow_down_adds_five_seconds_for_good(op: FakeIssuer) -> None:
    op.polls = [PENDING, (400, {"error": "slow_down"}), PENDING, (400, {"error": "slow_down"}), PENDING]
    run = Run()
    await run.login(issuer_provider(op.issuer))
    assert run.slept == [2, 2, 7, 7, 12, 12]


async def test_without_an_interval_polls_every_five_seconds(op: FakeIssuer) -> None:
    op.device = {"interval": None, "verification_uri_complete": None}
    op.polls = [PENDING]
    run = Run()
    await run.login(issuer_provider(op.issuer))
    assert run.slept == [5, 5]
    assert run.opened == [f"{op.base}/activate"]


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        ((400, {"error": "access_denied"}), AuthorizationDenied),
        ((400, {"error": "expired_token"}), LoginTimeout),
        ((400, {"error": "invalid_client", "error_description": "no such client"}), ProviderError),
        # GitHub answers errors with 200 and an `error`: it is the error that counts, not the status.
        ((200, {"error": "access_denied"}), AuthorizationDenied),
        ((200, {"error": "authorization_pending"}), None),
    ],
)
async def test_each_poll_error_ends_the_login_as_rfc_8628_says(
    op: FakeIssuer, answer: tuple[int, dict[str, Any]], error: type[Exception] | None
) -> None:
    op.polls = [PENDING, answer]
    run = Run()
    if error is None:
        assert (await run.login(issuer_provider(op.issuer))).access_token
        return
    with pytest.raises(error) as caught:
        await run.login(issuer_provider(op.issuer))
    if error is ProviderError:
        assert "no such client" in str(caught.value)
    with pytest.raises(NotLoggedIn):
        stored()


async def test_the_login_timeout_ends_the_polling(op: FakeIssuer) -> None:
    op.polls = [PENDING] * 100
    run = Run()
    with pytest.raises(LoginTimeout):
        await run.login(issuer_provider(op.issuer), timeout=0.5)
    assert op.hits["token:urn:ietf:params:oauth:grant-type:device_code"] == 0


async def test_a_provider_without_a_device_endpoint_is_a_usage_error(op: FakeIssuer) -> None:
    op.metadata["device_authorization_endpoint"] = None
    with pytest.raises(UsageError, match="no device authorization endpoint"):
        await Run().login(issuer_provider(op.issuer))


async def test_a_verification_page_off_https_is_refused(op: FakeIssuer) -> None:
    op.device = {"verification_uri": "http://phish.example/activate"}
    run = Run()
    with pytest.raises(ProviderError, match="must use https"):
        await run.login(issuer_provider(op.issuer))
    assert run.opened == []


async def test_the_cli_device_login_with_device_url_and_ctrl_c_is_130(op: FakeIssuer) -> None:
    """A process: the code on stderr, then Ctrl-C while it polls is 130 and nothing is saved."""
    op.polls = [PENDING] * 100
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "loopauth",
        "login",
        "--device",
        "--token-url",
        f"{op.base}/token",
        "--device-url",
        f"{op.base}/device",
        "--client-id",
        CLIENT_ID,
        "--no-browser",
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=os.environ.copy(),
    )
    assert proc.stderr is not None
    lines = []
    while True:
        line = (await asyncio.wait_for(proc.stderr.readline(), 30)).decode()
        lines.append(line)
        if "Waiting" in line or not line:
            break
    assert any("WDJB-MJHT" in line for line in lines), lines
    proc.send_signal(signal.SIGINT)
    assert await asyncio.wait_for(proc.wait(), 30) == 130
    with pytest.raises(NotLoggedIn):
        stored()


def test_device_excludes_the_callback_options(cli: Cli) -> None:
    result = cli("login", "--device", "--oob", "--provider", "gitlab", "--client-id", "x")
    assert result.returncode == 2
    assert "--oob does not apply" in result.stderr


# -- node's oidc-provider -------------------------------------------------------------------------------------------


@pytest.fixture
async def node_op() -> AsyncIterator[NodeOidcProvider]:
    async with node_oidc_provider(device_interval=1) as provider:
        yield provider


async def node_device_login(node_op: NodeOidcProvider, browser: FormBrowser) -> OAuth2Credentials:
    loop = asyncio.get_running_loop()
    visits: list[asyncio.Future[int]] = []

    def open_url(url: str) -> None:
        visits.append(asyncio.run_coroutine_threadsafe(browser.visit(url), loop))  # type: ignore[arg-type]

    prepared = prepare(
        LoginOptions(
            provider=issuer_provider(node_op.issuer),
            client_id=PUBLIC_CLIENT_ID,
            scopes=("openid", "profile", "offline_access"),
            timeout=60,
            say=lambda _: None,
        )
    )
    try:
        return await asyncio.to_thread(device.login, prepared, open_url=open_url)
    finally:
        for visit in visits:
            await asyncio.wrap_future(visit)


async def test_a_device_login_at_oidc_provider(node_op: NodeOidcProvider) -> None:
    """Its /device pages, login and consent filled in by the user's browser elsewhere; loopauth polls."""
    browser = FormBrowser(user="bob", form_paths=("/interaction/", "/device"))
    creds = await node_device_login(node_op, browser)
    assert creds.id_token is not None
    assert creds.user_id == "bob"
    assert creds.screen_name == "bob"
    assert creds.endpoints.device_authorization_url == node_op.endpoint("device_authorization_endpoint")
    assert [e["grant_type"] for e in node_op.grants("urn:ietf:params:oauth:grant-type:device_code")], node_op.events
    assert any("/device" in page for page in browser.pages)
    assert stored() == creds


async def test_refusing_on_oidc_providers_device_pages_is_denied(node_op: NodeOidcProvider) -> None:
    browser = FormBrowser(user="bob", approve=False, form_paths=("/interaction/", "/device"))
    with pytest.raises(AuthorizationDenied):
        await node_device_login(node_op, browser)
    with pytest.raises(NotLoggedIn):
        stored()


# -- the demo ---------------------------------------------------------------------------------------------------------


def test_demo_oauth2_device_logs_in_with_no_keys(cli: Cli) -> None:
    result = cli("demo", "--oauth2", "--device", "--auto")
    assert result.returncode == 0, result.stderr
    assert "enter the code:" in result.stderr
    creds = CredentialStore().load("demo")
    assert isinstance(creds, OAuth2Credentials)
    assert creds.refresh_token
    assert creds.screen_name == "loopauth_demo"


def test_demo_oauth2_device_deny_is_exit_3(cli: Cli) -> None:
    result = cli("demo", "--oauth2", "--device", "--deny")
    assert result.returncode == 3, result.stderr
    with pytest.raises(NotLoggedIn):
        CredentialStore().load("demo")


def test_demo_device_needs_oauth2(cli: Cli) -> None:
    assert cli("demo", "--device", "--auto").returncode == 2


async def test_the_demo_answers_slow_down_to_a_device_that_polls_too_fast() -> None:
    """The demo's own device grant: polling faster than its interval gets slow_down, and loopauth waits 5 s more."""
    from loopauth.demo import play_user

    from .demo_probes import DemoOAuth2Provider

    async with DemoOAuth2Provider() as demo2:
        loop = asyncio.get_running_loop()
        page: list[str] = []
        slept: list[float] = []

        def sleep(seconds: float) -> None:
            slept.append(seconds)
            if seconds > 1:  # after the slow_down: the user approves, and the next poll gets the tokens
                asyncio.run_coroutine_threadsafe(play_user(page[0]), loop).result(30)

        prepared = prepare(LoginOptions(provider=demo2.provider, client_id=demo2.public_client_id, say=lambda _: None))
        creds = await asyncio.to_thread(device.login, prepared, open_url=page.append, sleep=sleep)
        assert slept == [1, 1, 6]  # pending, then slow_down (no real wait between the first two polls), then 6 s
        assert demo2.calls["token"] == 3  # the three polls: the device grant has no other token request
        assert creds.refresh_token
        assert demo2.access_token_is_valid(creds.access_token)
