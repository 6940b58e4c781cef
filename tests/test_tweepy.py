"""tweepy clients built from loopauth.tweepy_kwargs(), calling the demo providers, which verify what tweepy signed.

tweepy 4.17 pins oauthlib<4, so it is not in the main test virtualenv (which would then test loopauth on
oauthlib 3 only): `make test-tweepy` runs this file in .venv-tweepy, with the tweepy-test extra, and
`make test` skips it, saying why. tweepy has no base-URL option for its v2 Client; its requests session is
swapped for one that sends api.twitter.com's calls to the demo before tweepy's requests-oauthlib signs them.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator

import pytest
import requests

import loopauth
from loopauth.demo import DEMO_SCREEN_NAME, DEMO_USER_ID

from .demo_probes import DemoOAuth2Provider, DemoProvider
from .threaded_demos import Redirected, in_a_thread, log_in_oauth1, log_in_oauth2

tweepy = pytest.importorskip("tweepy", reason="tweepy pins oauthlib<4: `make test-tweepy` runs this in .venv-tweepy")

HOSTILE = "a & b = c + 100% é 😀"
API = "https://api.twitter.com"


@pytest.fixture
def demo() -> Iterator[DemoProvider]:
    with in_a_thread(DemoProvider()) as provider:
        yield provider


@pytest.fixture
def demo2() -> Iterator[DemoOAuth2Provider]:
    with in_a_thread(DemoOAuth2Provider()) as provider:
        yield provider


def test_tweepy_kwargs_are_parameters_of_client_and_oauth1_user_handler(demo: DemoProvider) -> None:
    """The OAuth 1.0a names are ones tweepy.Client and tweepy.OAuth1UserHandler both take, in this tweepy."""
    log_in_oauth1(demo)
    names = set(loopauth.tweepy_kwargs())
    assert names <= set(inspect.signature(tweepy.Client).parameters)
    assert names <= set(inspect.signature(tweepy.OAuth1UserHandler).parameters)


def test_client_signs_oauth1_calls_that_the_demo_verifies(demo: DemoProvider) -> None:
    """tweepy.Client(**tweepy_kwargs()): get_me (a GET with a query) and create_tweet (a JSON POST), verified."""
    log_in_oauth1(demo)
    client = tweepy.Client(**loopauth.tweepy_kwargs(), return_type=requests.Response)
    # The demo has no /2/users/me or /2/tweets: its echo endpoint answers both, after checking the signature.
    client.session = Redirected({f"{API}/2/users/me": demo.echo_url, f"{API}/2/tweets": demo.echo_url})
    me = client.get_me(user_fields=["created_at", "description"])
    assert me.status_code == 200, me.text
    assert me.json()["query"] == {"user.fields": "created_at,description"}
    assert me.json()["screen_name"] == DEMO_SCREEN_NAME
    tweeted = client.create_tweet(text=HOSTILE)
    assert tweeted.status_code == 200, tweeted.text
    assert tweeted.json()["method"] == "POST"
    assert client.session.sent == [f"{API}/2/users/me", f"{API}/2/tweets"]


def test_api_v1_signs_calls_that_the_demo_verifies(demo: DemoProvider) -> None:
    """tweepy.API(tweepy.OAuth1UserHandler(**tweepy_kwargs())): verify_credentials, and an update_status whose
    status (`& = + %`, non-ASCII; tweepy sends it in the query) requests-oauthlib signs, verified by the demo."""
    log_in_oauth1(demo)
    api = tweepy.API(tweepy.OAuth1UserHandler(**loopauth.tweepy_kwargs()))
    api.session = Redirected({f"{API}/1.1/statuses/update.json": demo.echo_url, f"{API}/1.1/": f"{demo.base_url}/1.1/"})
    user = api.verify_credentials()
    assert user.screen_name == DEMO_SCREEN_NAME
    assert user.id_str == DEMO_USER_ID
    status = api.update_status(HOSTILE)
    assert status.method == "POST"
    assert status.query == {"status": HOSTILE}


def test_client_sends_an_oauth2_bearer_with_user_auth_false(demo2: DemoOAuth2Provider) -> None:
    """An OAuth 2.0 profile: tweepy.Client(**tweepy_kwargs()) and get_me(user_auth=False) send the bearer."""
    creds = log_in_oauth2(demo2)
    client = tweepy.Client(**loopauth.tweepy_kwargs())
    client.session = Redirected({f"{API}/2/": f"{demo2.base_url}/2/"})
    me = client.get_me(user_auth=False)
    assert me.data.username == DEMO_SCREEN_NAME
    assert demo2.last_request_headers["users_me"]["Authorization"] == f"Bearer {creds.access_token}"
