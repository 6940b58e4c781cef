"""The manual flow has what the seed's users had in python-twitter-v2: the screen name, Twitter's extra
parameters, a REPL inside a running event loop (Jupyter), resuming between two web requests, and saving
the result as a profile."""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest

import loopauth
from loopauth.demo import DEMO_SCREEN_NAME, DEMO_USER_ID, play_user

from .conftest import oauth1, run_cli_async
from .demo_probes import DemoProvider
from .test_headless import approve_on_demo
from .threaded_demos import in_a_thread


@pytest.fixture
def threaded_demo() -> Iterator[DemoProvider]:
    with in_a_thread(DemoProvider()) as demo:
        yield demo


async def _pin(authorize_url: str) -> str:
    found = re.search(r'role="status">(\d{7})<', await play_user(authorize_url))
    assert found
    return found[1]


async def test_sync_flow_works_inside_a_running_event_loop(threaded_demo: DemoProvider) -> None:
    """In Jupyter a loop is already running: SyncFlow's calls simply block, with no "never awaited" warning,
    and the flow knows the account's screen name and id afterwards."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        flow = loopauth.SyncFlow(
            threaded_demo.consumer_key,
            threaded_demo.consumer_secret,
            provider=threaded_demo.provider,
            callback_uri="oob",
        )
        url = flow.get_authorize_url()
        tokens = flow.generate_access_token(await _pin(url))
    assert [str(w.message) for w in caught] == []
    assert flow.screen_name == tokens["screen_name"] == DEMO_SCREEN_NAME
    assert flow.auth_user_id == DEMO_USER_ID


async def test_blocking_login_inside_a_running_loop_names_login_async() -> None:
    """loopauth.login() cannot run an event loop inside one: a UsageError that says to await login_async,
    and no coroutine left un-awaited."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(loopauth.UsageError, match=r"await loopauth\.login_async\(\.\.\.\)"):
            loopauth.login(consumer_key="k", consumer_secret="s")
    assert [str(w.message) for w in caught] == []


async def test_request_token_params_force_login_and_screen_name_reach_the_provider(demo: DemoProvider) -> None:
    """Twitter's x_auth_access_type goes to the request-token call; force_login and screen_name to the page."""
    flow = loopauth.Flow(
        demo.consumer_key,
        demo.consumer_secret,
        provider=demo.provider,
        request_token_params={"x_auth_access_type": "write"},
        force_login=True,
        screen_name="someone",
    )
    url = await flow.get_authorize_url()
    assert demo.last_request_queries["request_token"]["x_auth_access_type"] == "write"
    query = parse_qs(urlsplit(url).query)
    assert query["force_login"] == ["true"]
    assert query["screen_name"] == ["someone"]


async def test_a_new_flow_resumes_with_the_saved_request_token_and_saves_a_profile(demo: DemoProvider) -> None:
    """Web app style: one request makes the authorize URL and keeps flow.request_token (two strings); a later
    request, with a new Flow, finishes with it; flow.credentials() is a profile that verifies."""
    first = loopauth.Flow(
        demo.consumer_key, demo.consumer_secret, provider=demo.provider, callback_uri="https://localhost/"
    )
    url = await first.get_authorize_url()
    pending = first.request_token
    assert pending is not None
    saved = {"token": pending.oauth_token, "secret": pending.oauth_token_secret}  # e.g. in a server-side session
    del first

    landed = await approve_on_demo(url)
    second = loopauth.Flow(
        demo.consumer_key,
        demo.consumer_secret,
        provider=demo.provider,
        callback_uri="https://localhost/",
        request_token=loopauth.RequestToken(saved["token"], saved["secret"]),
    )
    tokens = await second.generate_access_token(landed)
    assert second.screen_name == DEMO_SCREEN_NAME
    assert second.request_token is None  # good for one exchange
    loopauth.CredentialStore().save(second.credentials(tokens, profile="web"))
    assert oauth1(loopauth.load("web")).oauth_token == tokens["oauth_token"]
    verify = await run_cli_async("verify", "--profile", "web")
    assert verify.returncode == 0, verify.stderr
