"""The Python API other tools use: lazy import surface, load(), the blocking login and manual flow."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import aiohttp
import pytest

import loopauth
from loopauth.demo import DEMO_SCREEN_NAME, DEMO_USER_ID, DemoProvider, play_user

from .threaded_demos import in_a_thread


@pytest.fixture
def threaded_demo() -> Iterator[DemoProvider]:
    with in_a_thread(DemoProvider()) as demo:
        yield demo


def test_all_is_sorted_and_every_name_resolves() -> None:
    """__all__ is explicit and sorted, and each name in it can be imported."""
    assert loopauth.__all__ == sorted(loopauth.__all__)
    for name in loopauth.__all__:
        assert getattr(loopauth, name) is not None


def test_errors_share_one_base_with_exit_codes() -> None:
    """Every public error is a LoopAuthError whose exit_code is the CLI's."""
    assert issubclass(loopauth.NotLoggedIn, loopauth.LoopAuthError)
    assert loopauth.NotLoggedIn.exit_code == 7
    assert loopauth.PortInUse.exit_code == 6
    assert loopauth.AuthorizationDenied.exit_code == 3


def test_load_of_unknown_profile_raises_not_logged_in() -> None:
    """load() of a profile nobody logged in to raises NotLoggedIn naming it."""
    with pytest.raises(loopauth.NotLoggedIn) as info:
        loopauth.load("nobody")
    assert info.value.profile == "nobody"


def test_blocking_login_then_load(threaded_demo: DemoProvider) -> None:
    """loopauth.login() runs the whole flow without an event loop, and load() returns what it stored."""

    async def browser(url: str) -> bool:
        asyncio.get_running_loop().create_task(play_user(url))
        return True

    creds = loopauth.login(
        provider=threaded_demo.provider,
        consumer_key=threaded_demo.consumer_key,
        consumer_secret=threaded_demo.consumer_secret,
        profile="api",
        port=0,
        timeout=20,
        open_browser=browser,
        say=lambda _: None,
    )
    assert isinstance(creds, loopauth.Credentials)
    assert creds.screen_name == DEMO_SCREEN_NAME
    assert loopauth.load("api") == creds
    assert creds.oauth_token_secret not in repr(creds)
    assert creds.consumer_secret not in repr(creds)


def test_sync_flow_with_a_pasted_verifier(threaded_demo: DemoProvider) -> None:
    """SyncFlow: get_authorize_url, approve, then generate_access_token with the bare verifier."""
    flow = loopauth.SyncFlow(
        threaded_demo.consumer_key,
        threaded_demo.consumer_secret,
        provider=threaded_demo.provider,
        callback_uri="https://localhost/",
    )
    url = flow.get_authorize_url()
    token = url.split("oauth_token=")[1]

    async def approve() -> str:
        async with (
            aiohttp.ClientSession() as session,
            session.post(
                f"{threaded_demo.base_url}/oauth/authorize",
                data={"oauth_token": token, "action": "approve"},
                allow_redirects=False,
            ) as response,
        ):
            return response.headers["Location"]

    landed = asyncio.run(approve())
    verifier = landed.split("oauth_verifier=")[1].split("&")[0]
    tokens = flow.generate_access_token(verifier)
    assert tokens["user_id"] == DEMO_USER_ID
    assert flow.auth_user_id == DEMO_USER_ID
    with pytest.raises(loopauth.UsageError):
        flow.generate_access_token(verifier)  # a request token is good for one exchange


def test_the_names_for_type_checkers_are_the_lazy_ones() -> None:
    """The TYPE_CHECKING imports in __init__ name each public symbol from the module it is loaded from."""
    import ast
    from pathlib import Path

    tree = ast.parse(Path(loopauth.__file__).read_text(encoding="utf-8"))
    block = next(n for n in tree.body if isinstance(n, ast.If) and getattr(n.test, "id", "") == "TYPE_CHECKING")
    typed = {
        alias.name: node.module
        for node in block.body
        if isinstance(node, ast.ImportFrom) and node.module != "typing"
        for alias in node.names
    }
    # A public submodule is typed as `from . import NAME as NAME`, which names no module.
    assert typed == {**loopauth._MODULE_OF, **dict.fromkeys(loopauth._SUBMODULES)}
