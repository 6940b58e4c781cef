"""No credential goes over plain http off loopback: `request`, `header`, `verify` and every `loopauth.auth` adapter
refuse before anything is sent (exit 2, one line; UsageError from Python), for a bearer and a signature alike."""

from __future__ import annotations

import asyncio

import httpx
import pytest
import requests

import loopauth
from loopauth.errors import UsageError
from loopauth.models import OAuth2Credentials, OAuth2Provider
from loopauth.store import CredentialStore

from .conftest import Cli
from .test_store import make_creds

# .invalid never resolves (RFC 2606): had anything been sent, it would fail as a network error (exit 5), not a
# usage error, and `-v` would show the request going out.
OFF_LOOPBACK = "http://host.invalid/x"


def _bearer_profile() -> None:
    CredentialStore().save(
        OAuth2Credentials(
            profile="default",
            provider="x",
            client_id="id",
            access_token="BEARER-TOKEN",
            endpoints=OAuth2Provider("x", "https://x.example/a", "https://x.example/t"),
        )
    )


@pytest.fixture(params=["oauth2", "oauth1"])
def profile(request: pytest.FixtureRequest) -> str:
    if request.param == "oauth2":
        _bearer_profile()
    else:
        CredentialStore().save(make_creds("default"))
    return str(request.param)


@pytest.mark.parametrize("argv", [("request", "-v", OFF_LOOPBACK), ("header", "-v", "GET", OFF_LOOPBACK)])
def test_the_cli_refuses_plain_http_off_loopback_before_sending(cli: Cli, profile: str, argv: tuple[str, ...]) -> None:
    """Exit 2 and one line naming the host; `-v` shows nothing went out."""
    result = cli(*argv)
    assert result.returncode == 2, result.stderr
    what = "a bearer token" if profile == "oauth2" else "an OAuth 1.0a signature"
    assert result.stderr == (
        f"loopauth: error: refusing to send {what} over plain http to host.invalid: use https "
        "(plain http is allowed only to loopback, for testing)\n"
    )
    assert result.stdout == ""


def test_uppercase_scheme_is_plain_http_too(cli: Cli) -> None:
    """`HTTP://` is the same scheme."""
    _bearer_profile()
    assert cli("request", "HTTP://host.invalid/x").returncode == 2


def test_the_adapters_raise_usage_error_before_the_library_connects(profile: str) -> None:
    """requests, httpx (sync and async) and aiohttp_headers: UsageError, not the library's connection error."""
    with pytest.raises(UsageError, match=r"refusing to send .* over plain http to host\.invalid"):
        requests.get(OFF_LOOPBACK, auth=loopauth.auth.requests(), timeout=5)
    with pytest.raises(UsageError, match="over plain http"):
        httpx.get(OFF_LOOPBACK, auth=loopauth.auth.httpx(), timeout=5)

    async def async_clients() -> None:
        async with httpx.AsyncClient(auth=loopauth.auth.httpx(), timeout=5) as client:
            with pytest.raises(UsageError, match="over plain http"):
                await client.get(OFF_LOOPBACK)
        with pytest.raises(UsageError, match="over plain http"):
            await loopauth.auth.aiohttp_headers("GET", OFF_LOOPBACK)

    asyncio.run(async_clients())


@pytest.mark.parametrize("url", ["https://host.invalid/x", "http://127.0.0.1:1/x", "http://[::1]:1/x"])
def test_https_and_loopback_http_are_signed(profile: str, url: str) -> None:
    """The rule is only plain http off loopback: https anywhere, and http to loopback (tests), are authorized."""
    headers = asyncio.run(loopauth.auth.aiohttp_headers("GET", url))
    assert headers["Authorization"].startswith("Bearer " if profile == "oauth2" else "OAuth ")
