"""``loopauth.login(profile=NAME)`` with no provider logs in again as the profile was, as the CLI's
``loopauth login --profile NAME`` does: its provider's endpoints and its app; a new profile goes to ``twitter``."""

from __future__ import annotations

import asyncio

import pytest

import loopauth
from loopauth.api import prepare
from loopauth.demo import play_user
from loopauth.loopback.options import LoginOptions
from loopauth.store import CredentialStore

from .demo_probes import DemoOAuth2Provider, DemoProvider
from .threaded_demos import log_in_oauth1, log_in_oauth2


async def _approving_browser(url: str) -> bool:
    asyncio.get_running_loop().create_task(play_user(url))
    return True


def _login_again(profile: str) -> loopauth.AnyCredentials:
    return loopauth.login(profile=profile, port=0, timeout=20, open_browser=_approving_browser, say=lambda _: None)


def test_an_oauth1_profile_logs_in_again_with_its_own_provider_and_consumer(threaded_demo: DemoProvider) -> None:
    """No provider and no consumer given: the default (twitter, with no consumer key) would be a UsageError."""
    before = log_in_oauth1(threaded_demo, profile="work")
    again = _login_again("work")
    assert isinstance(again, loopauth.Credentials)
    assert again.oauth_token != before.oauth_token
    assert (again.consumer_key, again.consumer_secret) == (before.consumer_key, before.consumer_secret)
    assert again.endpoints == before.endpoints
    assert loopauth.load("work") == again


def test_an_oauth2_profile_logs_in_again_with_its_endpoints_client_and_scopes(
    threaded_demo2: DemoOAuth2Provider,
) -> None:
    before = log_in_oauth2(threaded_demo2, profile="x2")
    again = _login_again("x2")
    assert isinstance(again, loopauth.OAuth2Credentials)
    assert again.access_token != before.access_token
    assert again.client_id == before.client_id == threaded_demo2.public_client_id
    assert again.endpoints == before.endpoints
    assert again.scope is not None
    assert before.scope is not None
    assert set(again.scope.split()) == set(before.scope.split())


def test_a_given_provider_wins_over_the_profiles_own(
    threaded_demo: DemoProvider, threaded_demo2: DemoOAuth2Provider
) -> None:
    """Naming a provider replaces the profile's, as ``--provider`` does: nothing of the stored app goes with it."""
    log_in_oauth2(threaded_demo2, profile="work")
    prepared = prepare(
        LoginOptions(
            profile="work",
            provider=threaded_demo.provider,
            consumer_key=threaded_demo.consumer_key,
            consumer_secret=threaded_demo.consumer_secret,
        )
    )
    assert prepared.options.provider == threaded_demo.provider
    assert prepared.options.client_id is None


def test_a_new_profile_goes_to_twitter() -> None:
    prepared = prepare(LoginOptions(profile="new", consumer_key="ck", consumer_secret="cs"))
    assert prepared.options.provider == "twitter"
    with pytest.raises(loopauth.UsageError, match="consumer_key"):
        prepare(LoginOptions(profile="new"))


def test_an_unreadable_profile_needs_a_provider_and_stays() -> None:
    """Its provider cannot be known, and the default one would replace it with another account without a word."""
    store = CredentialStore()
    path = store.path_for("broken")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("{not json", encoding="utf-8")
    path.chmod(0o600)
    with pytest.raises(loopauth.UsageError) as info:
        _login_again("broken")
    assert info.value.message.startswith("profile 'broken' cannot be read, so provider must say where to log in")
    assert str(path) in info.value.message
    assert path.read_text(encoding="utf-8") == "{not json"
