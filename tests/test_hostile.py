"""Issue 18, around the callback server: stray stdin words, terminal escapes from a provider, unbounded or
trickled provider bodies, logs that could leak, connection floods, cross-site requests, Ctrl-C at start-up."""

from __future__ import annotations

import asyncio

import pytest

from loopauth.demo import DemoProvider
from loopauth.loopback.dance import Approved, Rejected
from loopauth.loopback.server import Waiter
from loopauth.models import RequestToken
from loopauth.oauth1.dance import OAuth1Dance
from loopauth.oauth1.signing import Consumer

from .conftest import demo_login_args
from .test_callback import AUTHORIZE, PROVIDER, TOKEN
from .test_headless import StartLogin, assert_logged_in, browse
from .test_headless import login as login  # the fixture: pytest finds it here by name

# --- item 2: a stray word on stdin -----------------------------------------------------------------------------


def served_waiter() -> Waiter:
    """The waiter of a login whose callback server listens: a paste must name our request token."""
    dance = OAuth1Dance(PROVIDER, Consumer("ck", "cs"))
    dance.request_token = RequestToken(TOKEN, "secret")
    waiter = Waiter(dance, bare=False)
    waiter.ready(AUTHORIZE)
    return waiter


@pytest.mark.parametrize("word", ["y", "ok", "1234567", "yes"])
async def test_a_bare_word_does_not_complete_a_served_login(word: str) -> None:
    """While the server listens, a lone word is not taken for a verifier; the wait goes on."""
    waiter = served_waiter()
    outcome = waiter.offer_pasted(word)
    assert isinstance(outcome, Rejected)
    assert "paste the whole address" in outcome.reason
    assert not waiter.result.done()
    landed = f"http://127.0.0.1:8470/callback?oauth_token={TOKEN}&oauth_verifier=v"
    assert waiter.offer_pasted(landed) == Approved("v", typed=True)
    assert waiter.offer_pasted(f"oauth_token={TOKEN}&oauth_verifier=v") == Approved("v", typed=True)


async def test_stray_words_on_stdin_never_reach_the_provider(demo: DemoProvider, login: StartLogin) -> None:
    """`(sleep 2; echo y) | loopauth login`: 'y' and 'ok' get one line each; the browser then logs in."""
    child = await login(*demo_login_args(demo, "--no-browser"))
    start = (await child.expect(r"Open this URL in a browser to log in: (http://127\.0\.0\.1:\d+/) "))[1]
    await child.expect(r"Or open the provider's page: ")
    for word in ("y", "ok"):
        await child.paste(word)
        await child.expect(r"does not complete this login: a verifier alone is not enough")
    assert demo.calls["access_token"] == 0
    await asyncio.wait_for(browse(start), 20)
    assert_logged_in(await child.finish())
    assert demo.calls["access_token"] == 1
