"""loopauth.tweepy_kwargs / pytwitter_kwargs, and a python-twitter-v2 client built from them calling the demos.

python-twitter-v2 signs OAuth 1.0a with Authlib (not oauthlib) and sends what it signed over its own
``requests`` session; that session is swapped for one that sends api.x.com's calls to the demo provider
before Authlib signs them, so the demo's oauthlib server verifies a signature python-twitter-v2 made.
tweepy's own test is tests/test_tweepy.py (`make test-tweepy`).
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator
from pathlib import Path

import pytest
import pytwitter

import loopauth
from loopauth.demo import DEMO_SCREEN_NAME, DEMO_USER_ID
from loopauth.errors import NotLoggedIn, UsageError
from loopauth.models import OAuth2Credentials
from loopauth.store import CredentialStore

from .demo_probes import DemoOAuth2Provider, DemoProvider
from .threaded_demos import Redirected, in_a_thread, log_in_oauth1, log_in_oauth2

HOSTILE = "a & b = c + 100% é 😀"


@pytest.fixture
def demo() -> Iterator[DemoProvider]:
    with in_a_thread(DemoProvider()) as provider:
        yield provider


@pytest.fixture
def demo2() -> Iterator[DemoOAuth2Provider]:
    with in_a_thread(DemoOAuth2Provider()) as provider:
        yield provider


def test_an_oauth1_profile_gives_each_library_its_own_names(demo: DemoProvider) -> None:
    """Consumer key and secret and the token pair, named as tweepy and python-twitter-v2 name them."""
    creds = log_in_oauth1(demo)
    assert loopauth.tweepy_kwargs() == {
        "consumer_key": creds.consumer_key,
        "consumer_secret": creds.consumer_secret,
        "access_token": creds.oauth_token,
        "access_token_secret": creds.oauth_token_secret,
    }
    assert loopauth.pytwitter_kwargs() == {
        "consumer_key": creds.consumer_key,
        "consumer_secret": creds.consumer_secret,
        "access_token": creds.oauth_token,
        "access_secret": creds.oauth_token_secret,
    }


def test_pytwitter_kwargs_are_parameters_of_pytwitter_api(demo: DemoProvider) -> None:
    """Every name is one pytwitter.Api(...) takes, in the installed python-twitter-v2."""
    log_in_oauth1(demo)
    assert set(loopauth.pytwitter_kwargs()) <= set(inspect.signature(pytwitter.Api).parameters)


def test_an_oauth2_profile_gives_its_bearer_refreshed_first_when_due(demo2: DemoOAuth2Provider) -> None:
    """OAuth 2.0: only the access token, as bearer_token, after the refresh a due token needs (under the lock)."""
    first = log_in_oauth2(demo2)
    assert first.expires_at is not None
    assert first.issued_at is not None
    CredentialStore().save(first.replace(expires_at=first.expires_at - 10_000, issued_at=first.issued_at - 10_000))
    tweepy_kwargs = loopauth.tweepy_kwargs()
    stored = CredentialStore().load("default")
    assert isinstance(stored, OAuth2Credentials)
    assert stored.access_token != first.access_token
    assert tweepy_kwargs == {"bearer_token": stored.access_token}
    assert loopauth.pytwitter_kwargs() == {"bearer_token": stored.access_token}
    assert demo2.refreshes == 1


@pytest.mark.parametrize("method", ["HMAC-SHA256", "PLAINTEXT", "RSA-SHA1"])
def test_a_profile_that_does_not_sign_with_hmac_sha1_is_refused(
    demo: DemoProvider, tmp_path: Path, method: str
) -> None:
    """Both libraries sign HMAC-SHA1 only: another method is a UsageError naming what works instead."""
    log_in_oauth1(demo, signature_method=method, tmp_path=tmp_path)
    for kwargs in (loopauth.tweepy_kwargs, loopauth.pytwitter_kwargs):
        with pytest.raises(UsageError, match=rf"{method}: use loopauth\.auth\.requests\(\)"):
            kwargs()


def test_the_active_profile_is_the_default_and_a_missing_one_is_not_logged_in(
    demo: DemoProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No profile named: the active one; a profile nobody logged in to: NotLoggedIn."""
    creds = log_in_oauth1(demo, profile="bot")
    monkeypatch.setenv("LOOPAUTH_PROFILE", "bot")
    assert loopauth.tweepy_kwargs()["access_token"] == creds.oauth_token
    with pytest.raises(NotLoggedIn):
        loopauth.pytwitter_kwargs("nobody")


def test_pytwitter_signs_oauth1_calls_that_the_demo_verifies(demo: DemoProvider) -> None:
    """pytwitter.Api(**pytwitter_kwargs()): a GET with a query and a POST with JSON, signed by Authlib, verified."""
    log_in_oauth1(demo)
    api = pytwitter.Api(**loopauth.pytwitter_kwargs())
    assert api.auth_user_id == DEMO_USER_ID  # it reads the user id off Twitter's token format
    # The demo has no /2/users/me or /2/tweets: its echo endpoint answers both, after checking the signature.
    api.session = Redirected(
        {"https://api.x.com/2/users/me": demo.echo_url, "https://api.x.com/2/tweets": demo.echo_url}
    )
    me = api.get_me(user_fields=["created_at", "description"], return_json=True)
    assert me["method"] == "GET"
    assert me["query"] == {"user.fields": "created_at,description"}
    assert me["screen_name"] == DEMO_SCREEN_NAME
    posted = api.create_tweet(text=HOSTILE, return_json=True)
    assert posted["method"] == "POST"
    assert posted["form"] == {}  # a JSON body: signed by URL alone
    assert 'oauth_signature_method="HMAC-SHA1"' in demo.last_request_headers["echo"]["Authorization"]
    assert api.session.sent == ["https://api.x.com/2/users/me", "https://api.x.com/2/tweets"]


def test_pytwitter_sends_an_oauth2_bearer_to_its_base_url(demo2: DemoOAuth2Provider) -> None:
    """pytwitter.Api(**pytwitter_kwargs()) with an OAuth 2.0 profile, its base URL pointed at the demo: /2/users/me."""
    creds = log_in_oauth2(demo2)
    api = pytwitter.Api(**loopauth.pytwitter_kwargs())
    api.BASE_URL_V2 = f"{demo2.base_url}/2"
    me = api.get_me()
    assert me.data.username == DEMO_SCREEN_NAME
    assert me.data.id == DEMO_USER_ID
    assert demo2.last_request_headers["users_me"]["Authorization"] == f"Bearer {creds.access_token}"
