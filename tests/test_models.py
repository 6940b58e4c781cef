"""The value classes: what ``@dataclass(frozen=True)`` used to give them, kept without importing dataclasses."""

from __future__ import annotations

import copy
import pickle

import pytest

from loopauth.http import Request
from loopauth.models import Credentials, OAuth2Provider, Provider, RequestToken

SECRETS = ("consumer-secret-1", "access-token-2", "access-secret-3")


def make(**changes: object) -> Credentials:
    creds = Credentials(
        profile="work",
        provider="twitter",
        consumer_key="ck",
        consumer_secret=SECRETS[0],
        oauth_token=SECRETS[1],
        oauth_token_secret=SECRETS[2],
        user_id="42",
        screen_name="alice",
        endpoints=Provider("twitter", "https://a/rt", "https://a/auth", "https://a/at", authorize_params={"x": "1"}),
    )
    return creds.replace(**changes) if changes else creds


def test_repr_names_the_fields_but_never_a_secret() -> None:
    text = repr(make())
    assert text.startswith("Credentials(profile='work', provider='twitter', consumer_key='ck', ")
    assert "screen_name='alice'" in text
    for secret in SECRETS:
        assert secret not in text
    assert "request-secret" not in repr(RequestToken("rt", "request-secret"))
    assert repr(RequestToken("rt", "request-secret")) == "RequestToken(oauth_token='rt')"


def test_equality_and_hash_follow_the_fields() -> None:
    assert make() == make()
    assert make() != make(screen_name="bob")
    assert make() != "Credentials"
    assert hash(make()) == hash(make())
    # authorize_params is a dict: equal by value, left out of the hash (as dataclass hash=False did).
    p = Provider("p", "u1", "u2", "u3", authorize_params={"a": "b"})
    assert p == Provider("p", "u1", "u2", "u3", authorize_params={"a": "b"})
    assert p != Provider("p", "u1", "u2", "u3")
    assert len({p, Provider("p", "u1", "u2", "u3", authorize_params={"a": "b"})}) == 1
    assert Provider("p", "u1", "u2", "u3").authorize_params == {}


def test_fields_cannot_be_changed_or_deleted() -> None:
    creds = make()
    with pytest.raises(AttributeError, match="immutable"):
        creds.oauth_token = "other"
    with pytest.raises(AttributeError, match="immutable"):
        del creds.profile
    assert creds.oauth_token == SECRETS[1]


def test_mappings_inside_a_record_cannot_be_changed_either() -> None:
    """A provider's authorize_params and a request's headers are read-only, and a copy of what was given."""
    given = {"x": "1"}
    provider = Provider("p", "u1", "u2", "u3", authorize_params=given)
    request = Request("GET", "https://a/", headers=given)
    given["x"] = "changed"
    assert provider.authorize_params == {"x": "1"}
    assert request.headers == {"x": "1"}
    for mapping in (provider.authorize_params, request.headers, OAuth2Provider("p", "u1", "u2").authorize_params):
        with pytest.raises(TypeError):
            mapping["y"] = "2"  # type: ignore[index]
    assert pickle.loads(pickle.dumps(provider)) == provider  # noqa: S301 - our own bytes, just made
    assert copy.deepcopy(request) == request


def test_pyproject_describes_both_protocols() -> None:
    """The package's one-line description names OAuth 2.0 too, not an OAuth 1.0a-only tool."""
    import tomllib
    from pathlib import Path

    pyproject = tomllib.loads((Path(__file__).parent.parent / "pyproject.toml").read_text(encoding="utf-8"))
    description = pyproject["project"]["description"]
    assert "OAuth 1.0a" in description
    assert "OAuth 2.0" in description


def test_replace_copies_with_changes_and_rejects_unknown_fields() -> None:
    creds = make()
    other = creds.replace(profile="home")
    assert (other.profile, creds.profile) == ("home", "work")
    assert other.oauth_token == creds.oauth_token
    assert other.endpoints == creds.endpoints
    with pytest.raises(TypeError, match="no field 'token'"):
        creds.replace(token="x")


def test_pickle_and_copy_round_trip() -> None:
    creds = make()
    assert pickle.loads(pickle.dumps(creds)) == creds  # noqa: S301 - our own bytes, just made
    assert copy.copy(creds) == creds
    assert copy.deepcopy(creds) == creds
    assert pickle.loads(pickle.dumps(RequestToken("a", "b"))) == RequestToken("a", "b")  # noqa: S301 - as above


def test_dict_round_trip() -> None:
    creds = make(rsa_key_file="/k.pem", created_at="2026-01-01T00:00:00+00:00")
    assert Credentials.from_dict(creds.to_dict()) == creds
