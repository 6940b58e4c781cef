"""One LoginOptions for every way into a login: its keywords, its scopes, and the other protocol's options."""

from __future__ import annotations

import asyncio

import pytest

import loopauth
from loopauth.api import prepare
from loopauth.demo import DemoProvider, play_user
from loopauth.errors import UsageError
from loopauth.loopback.options import LoginOptions
from loopauth.models import Credentials, OAuth2Provider
from loopauth.providers import twitter_authorize_params

from .conftest import Cli


def test_an_oauth1_login_refuses_the_oauth2_options() -> None:
    """Scopes or a client authentication for an OAuth 1.0a provider are a mistake, not something to ignore."""
    for extra in ({"scopes": ["tweet.read"], "client_auth": "post"}, {"client_auth": "post"}, {"scopes": "a b"}):
        options = LoginOptions(provider="twitter", consumer_key="k", consumer_secret="s", **extra)
        with pytest.raises(UsageError) as caught:
            prepare(options)
        assert caught.value.exit_code == 2
        first = "scopes" if "scopes" in extra else "client_auth"
        assert caught.value.message == f"{first} is for OAuth 2.0, and twitter is an OAuth 1.0a provider"


def test_an_oauth2_login_refuses_the_oauth1_options_with_the_same_message() -> None:
    provider = OAuth2Provider("mine", "https://example.com/authorize", "https://example.com/token")
    options = LoginOptions(provider=provider, client_id="c", signature_method="PLAINTEXT")
    with pytest.raises(UsageError) as caught:
        prepare(options)
    assert caught.value.message == "signature_method is for OAuth 1.0a, and mine is an OAuth 2.0 provider"


def test_the_app_of_the_other_protocol_is_ignored() -> None:
    """The CLI takes both apps from the environment, so the other protocol's consumer or client is no mistake."""
    prepared = prepare(LoginOptions(provider="twitter", consumer_key="k", consumer_secret="s", client_id="c", port=0))
    assert prepared.dance.provider_name == "twitter"


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (
            ("--provider", "x", "--scope", "tweet.read"),
            "--scope is for OAuth 2.0, and twitter is an OAuth 1.0a provider",
        ),
        (
            ("--provider", "x-oauth2", "--rsa-key", "key.pem"),
            "--rsa-key FILE is for OAuth 1.0a, and x-oauth2 is an OAuth 2.0 provider",
        ),
    ],
)
def test_add_names_the_option_that_belongs_to_the_other_protocol(cli: Cli, args: tuple[str, ...], line: str) -> None:
    result = cli("add", *args)
    assert result.returncode == 2
    assert result.stderr == f"loopauth: error: {line}\n"


def test_scopes_are_split_in_one_place() -> None:
    """A string of scopes is split on whitespace, whoever gives it; a sequence is kept as it is."""
    assert LoginOptions(scopes="a  b\tc").scopes == ("a", "b", "c")
    assert LoginOptions(scopes=["a b"]).scopes == ("a b",)
    assert LoginOptions().scopes is None
    assert LoginOptions().with_keywords({"scopes": "x y"}).scopes == ("x", "y")
    assert OAuth2Provider("p", "https://a/", "https://t/", scopes="x y").scopes == ("x", "y")


def test_keywords_are_the_fields_of_login_options() -> None:
    """The keyword form of login() is LoginOptions' own fields: nothing copied, an unknown keyword is a TypeError."""
    base = LoginOptions(profile="work", port=0)
    changed = base.with_keywords({"timeout": 5, "authorize_params": None})
    assert (changed.profile, changed.port, changed.timeout, changed.authorize_params) == ("work", 0, 5, {})
    with pytest.raises(TypeError, match="scope"):
        base.with_keywords({"scope": "a"})


async def test_login_async_takes_login_options_and_keywords_on_top(demo: DemoProvider) -> None:
    """login_async(LoginOptions(...), profile=...) logs in with the options, the keywords replacing their fields."""
    tasks: list[asyncio.Task[str]] = []

    async def browser(url: str) -> bool:
        tasks.append(asyncio.create_task(play_user(url)))
        return True

    options = LoginOptions(
        provider=demo.provider,
        consumer_key=demo.consumer_key,
        consumer_secret=demo.consumer_secret,
        port=0,
        timeout=20,
        open_browser=browser,
        say=lambda _: None,
    )
    creds = await loopauth.login_async(options, profile="given")
    await asyncio.gather(*tasks)
    assert isinstance(creds, Credentials)
    assert creds.profile == "given"
    assert loopauth.load("given") == creds


def test_twitter_account_options_are_mapped_once() -> None:
    """force_login and screen_name become the same authorize parameters for the manual flow and the CLI."""
    assert twitter_authorize_params(force_login=True, screen_name="alice") == {
        "force_login": "true",
        "screen_name": "alice",
    }
    assert twitter_authorize_params() == {}
