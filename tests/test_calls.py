"""loopauth.calls without a provider: who a verify answer names, URL normalisation, unreachable hosts."""

from __future__ import annotations

from typing import Any

import pytest

from loopauth.calls import request
from loopauth.errors import ProviderError, UsageError
from loopauth.identity import account_of
from loopauth.models import Credentials
from loopauth.oauth1.access import endpoints_of
from loopauth.providers import PRESETS
from loopauth.urls import normalize_url


def _creds(**overrides: Any) -> Credentials:
    fields: dict[str, Any] = {
        "profile": "default",
        "provider": "twitter",
        "consumer_key": "consumer-key",
        "consumer_secret": "consumer-secret",
        "oauth_token": "1-token",
        "oauth_token_secret": "token-secret",
        **overrides,
    }
    return Credentials(**fields)


@pytest.mark.parametrize(
    ("answer", "name", "user_id"),
    [
        ({"id": 12, "id_str": "12", "screen_name": "jack", "name": "Jack"}, "jack", "12"),  # Twitter
        ({"id": "5f0a", "username": "trelloer", "fullName": "T"}, "trelloer", "5f0a"),  # Trello
        ({"user": {"id": "1@N0", "username": {"_content": "flick"}}, "stat": "ok"}, "flick", "1@N0"),  # Flickr
        ({"response": {"user": {"name": "tumbl", "blogs": [{"name": "other"}]}}}, "tumbl", None),  # Tumblr
        ({"Response": {"User": {"NickName": "smug", "Name": "Smug Mug"}}}, "smug", None),  # SmugMug
        ({"id": 1, "username": "disc", "resource_url": "https://…"}, "disc", "1"),  # Discogs
        ({"data": {"id": "2244994945", "name": "X Dev", "username": "XDevelopers"}}, "XDevelopers", "2244994945"),
        ({"login": "octocat", "id": 1, "name": "The Octocat"}, "octocat", "1"),  # GitHub
        ({"sub": "1057", "email": "a@example.com", "name": "A"}, "a@example.com", "1057"),  # Google userinfo
        ({"id": "sp0t", "display_name": "Spot"}, "Spot", "sp0t"),  # Spotify
        ({"screen_name": "evil\x1b]52;c;aGk=\x07name", "id_str": "1"}, "evil ]52;c;aGk= name", "1"),
        ({"ok": True}, None, None),
    ],
    ids=[
        "twitter",
        "trello",
        "flickr",
        "tumblr",
        "smugmug",
        "discogs",
        "x-v2",
        "github",
        "google",
        "spotify",
        "escapes",
        "nothing",
    ],
)
def test_verify_answers_of_each_preset_name_the_account(answer: Any, name: str | None, user_id: str | None) -> None:
    """The account name and id are found where each preset's verify endpoint puts them."""
    assert account_of(answer) == (name, user_id)


def test_profile_without_stored_endpoints_falls_back_to_its_preset() -> None:
    """An older profile file without endpoints still finds its preset's verify and revoke URLs."""
    assert endpoints_of(_creds(provider="x")) == PRESETS["twitter"]
    assert endpoints_of(_creds(provider="nowhere")) is None


def test_urls_are_encoded_once_before_signing() -> None:
    """Raw UTF-8 and spaces are percent-encoded; an already encoded URL is left as it is."""
    # A space in a query becomes "+", which both oauthlib and servers decode back to a space.
    assert normalize_url("https://h.example/p?s=é&t=a b") == "https://h.example/p?s=%C3%A9&t=a+b"
    assert normalize_url("https://h.example/p?s=%C3%A9&amp=%26") == "https://h.example/p?s=%C3%A9&amp=%26"
    with pytest.raises(UsageError):
        normalize_url("mailto:someone@example.com")


def test_unreachable_host_is_a_provider_error() -> None:
    """Connection refused becomes ProviderError (exit 5) naming the host, not a traceback."""
    with pytest.raises(ProviderError, match=r"cannot reach http://127\.0\.0\.1:9/x: connection refused"):
        request(_creds(), "GET", "http://127.0.0.1:9/x", timeout=5)
