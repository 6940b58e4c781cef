"""`loopauth status`: every profile at a glance, its exit codes, and `--check` against the real demo providers."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from loopauth.cli.status import expiry, needs_login, relative
from loopauth.demo import DEMO_SCREEN_NAME, DEMO_USER_ID
from loopauth.models import Credentials, OAuth2Credentials, OAuth2Provider, Provider
from loopauth.store import CredentialStore

from .conftest import Cli
from .demo_probes import DemoOAuth2Provider, DemoProvider
from .test_oauth2 import Browser, login2
from .test_store import SECRET, make_creds
from .test_tools import _logged_in, _login

NOW = 1_800_000_000.0


def _oauth2(profile: str = "x2", **kw: Any) -> OAuth2Credentials:
    values: dict[str, Any] = {
        "profile": profile,
        "provider": "x-oauth2",
        "client_id": "cid",
        "client_secret": f"client-{SECRET}",
        "access_token": f"access-{SECRET}",
        "refresh_token": f"refresh-{SECRET}",
        "issued_at": int(NOW) - 600,
        "expires_at": int(NOW) + 4320,
        "screen_name": "bot",
        "user_id": "9",
        "created_at": "2026-01-01T00:00:00+00:00",
        "endpoints": OAuth2Provider("x-oauth2", "https://x.example/a", "https://x.example/t"),
        **kw,
    }
    return OAuth2Credentials(**values)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "in 0 s"),
        (59, "in 59 s"),
        (-180, "3 min ago"),
        (4320, "in 1 h 12 min"),
        (7200, "in 2 h"),
        (-90000, "1 d 1 h ago"),
        (172800, "in 2 d"),
    ],
)
def test_relative_times_read_like_a_person_says_them(seconds: float, text: str) -> None:
    """Two units at most, none that is zero."""
    assert relative(seconds) == text


def test_expiry_says_when_and_what_happens_then() -> None:
    """Fresh: in how long; due with a refresh token: refreshes on next use; without one, or refused: log in."""
    assert expiry(make_creds(), NOW) == "never (OAuth 1.0a tokens last until revoked)"
    assert expiry(_oauth2(), NOW).endswith("(in 1 h 12 min)")
    expired = _oauth2(expires_at=int(NOW) - 180)
    assert expiry(expired, NOW).endswith("(3 min ago, refreshes on next use)")
    assert not needs_login(expired, NOW)
    dead = expired.replace(refresh_token=None)
    assert expiry(dead, NOW).endswith("(3 min ago; no refresh token: log in again)")
    assert needs_login(dead, NOW)
    refused = _oauth2(needs_login=True)
    assert expiry(refused, NOW).endswith("; its refresh was refused: log in again)")
    assert needs_login(refused, NOW)
    uncertain = expired.replace(refreshing=True)
    assert expiry(uncertain, NOW).endswith(
        "(3 min ago; its last refresh may have spent the refresh token: log in again)"
    )
    assert needs_login(uncertain, NOW)
    assert expiry(_oauth2(expires_at=None), NOW).startswith("not said by the provider")


def test_status_shows_every_profile_which_is_active_and_where_it_is_stored(cli: Cli, config_dir: Path) -> None:
    """Provider, protocol, account, storage, creation, expiry, state and the active mark, for each profile, and not
    one secret, in the text or the JSON."""
    store = CredentialStore()
    store.save(make_creds("work"))
    store.save(_oauth2(expires_at=int(time.time()) + 4400))
    assert cli("switch", "work").returncode == 0
    result = cli("status")
    assert result.returncode == 0, result.stderr
    blocks = {block.splitlines()[0]: block for block in result.stdout.split("\n\n")}
    assert set(blocks) == {"work (active)", "x2"}
    work = blocks["work (active)"]
    assert "provider  example (OAuth 1.0a)" in work
    assert "account   @alice (user id 42)" in work
    assert f"stored    file {config_dir / 'profiles' / 'work.json'}" in work
    assert "created   2024-01-01 " in work
    assert "expires   never" in work
    assert "status    ok" in work
    x2 = blocks["x2"]
    assert "provider  x-oauth2 (OAuth 2.0)" in x2
    assert "(in 1 h 13 min)" in x2
    data = json.loads(cli("status", "--json").stdout)
    assert [(e["profile"], e["active"], e["state"], e["storage"]) for e in data] == [
        ("work", True, "ok", "file"),
        ("x2", False, "ok", "file"),
    ]
    assert data[1]["location"] == str(config_dir / "profiles" / "x2.json")
    assert data[1]["needs_login"] is False
    for output in (result.stdout + result.stderr, json.dumps(data)):
        assert SECRET not in output
        assert "tok-1" not in output


def test_status_of_a_profile_that_needs_a_login_exits_7(cli: Cli) -> None:
    """An OAuth 2.0 profile whose refresh was refused: shown, said what to run, exit 7 with one error line."""
    CredentialStore().save(make_creds("default"))
    CredentialStore().save(_oauth2(needs_login=True))
    result = cli("status")
    assert result.returncode == 7
    assert "status    needs a new login (run `loopauth login --profile x2`)" in result.stdout
    assert result.stderr == ("loopauth: error: profile 'x2' needs a new login (run `loopauth login --profile x2`)\n")
    assert cli("status", "--profile", "default").returncode == 0  # only the profile asked for counts
    assert json.loads(cli("status", "--json", "--profile", "x2").stdout)[0]["state"] == "needs_login"


def test_status_of_a_missing_profile_or_a_missing_active_one_exits_7(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    """`--profile nobody`, no profiles at all, and an active profile that is gone: each exit 7, saying what to do."""
    assert cli("status").returncode == 7
    CredentialStore().save(make_creds("work"))
    missing = cli("status", "--profile", "nobody")
    assert missing.returncode == 7
    assert "not logged in: no profile 'nobody'" in missing.stdout
    monkeypatch.setenv("LOOPAUTH_PROFILE", "gone")
    dangling = cli("status")  # the active profile was chosen, and there is none
    assert dangling.returncode == 7
    assert dangling.stdout.startswith("gone (active, from $LOOPAUTH_PROFILE)\n")
    assert "or `loopauth switch work`" in dangling.stdout
    data = json.loads(cli("status", "--json").stdout)
    assert [(e["profile"], e["active"], e["state"]) for e in data] == [
        ("gone", True, "missing"),
        ("work", False, "ok"),
    ]
    monkeypatch.delenv("LOOPAUTH_PROFILE")
    assert cli("switch", "work").returncode == 0
    assert cli("status").returncode == 0
    assert cli("logout", "--profile", "work").returncode == 0
    CredentialStore().save(make_creds("other"))
    (CredentialStore().root / "active").write_text("work\n")  # switched to, then deleted behind our back
    assert cli("status").returncode == 7


def test_status_with_nothing_chosen_shows_every_profile_and_exits_0(cli: Cli) -> None:
    """No --profile, no $LOOPAUTH_PROFILE, nothing switched (as after `loopauth demo`): every profile, like
    `gh auth status` shows every host, and exit 0 when all are good; the implicit `default` is no problem."""
    store = CredentialStore()
    store.save(make_creds("demo"))
    store.save(_oauth2(expires_at=int(time.time()) + 4400))
    assert store.switched() is None
    result = cli("status")
    assert result.returncode == 0, result.stderr
    assert [block.splitlines()[0] for block in result.stdout.split("\n\n")] == ["demo", "x2"]
    assert result.stdout.count("status    ok") == 2
    assert [e["profile"] for e in json.loads(cli("status", "--json").stdout)] == ["demo", "x2"]


def test_status_of_an_unreadable_profile_exits_6(cli: Cli, config_dir: Path) -> None:
    """A corrupt file is listed with the reason, and the others still are."""
    CredentialStore().save(make_creds("default"))
    (config_dir / "profiles" / "broken.json").write_text("{")
    result = cli("status")
    assert result.returncode == 6
    assert "status    unreadable: credential file" in result.stdout
    assert "status    ok" in result.stdout


def test_status_options_are_checked(cli: Cli) -> None:
    """--timeout is for --check, and positive."""
    for args in (("status", "--timeout", "3"), ("status", "--check", "--timeout", "0")):
        result = cli(*args)
        assert result.returncode == 2
        assert "--timeout" in result.stderr


# -- --check -----------------------------------------------------------------------------------------------------


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A loopback port that accepts connections and never answers: a provider that hangs."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(16)
        yield sock.getsockname()[1]


async def test_check_asks_every_provider_at_once_and_says_which_failed_and_why(
    demo: DemoProvider, cli: Cli, silent_port: int
) -> None:
    """A valid profile, one whose token the provider rejects (exit 5, its message), and one whose provider never
    answers: all checked in parallel, the whole within the timeout, never a secret shown."""
    await _logged_in(demo)
    good = CredentialStore().load("default")
    assert isinstance(good, Credentials)
    CredentialStore().save(good.replace(profile="revoked", oauth_token_secret=f"wrong-{SECRET}"))
    assert good.endpoints is not None
    hangs = Provider("hangs", "http://127.0.0.1:9/rt", "http://127.0.0.1:9/a", "http://127.0.0.1:9/at",
                     verify_url=f"http://127.0.0.1:{silent_port}/verify")  # fmt: skip
    CredentialStore().save(good.replace(profile="hangs", endpoints=hangs))
    started = time.monotonic()
    result = await asyncio.to_thread(cli, "status", "--check", "--timeout", "2")
    elapsed = time.monotonic() - started
    assert result.returncode == 5, result.stderr
    assert elapsed < 6
    blocks = {block.splitlines()[0]: block for block in result.stdout.split("\n\n")}
    assert (
        f"check     ok: the provider accepts the token (@{DEMO_SCREEN_NAME} (user id {DEMO_USER_ID}))"
        in (blocks["default (active)"])
    )
    assert (
        "check     rejected: verify failed: demo answered 401: Could not authenticate you. (code 32)"
        in (blocks["revoked"])
    )
    assert "check     failed:" in blocks["hangs"]
    assert "profile 'revoked': the provider rejected its token" in result.stderr
    assert "profile 'hangs': its provider could not be asked" in result.stderr
    assert result.stderr.count("\n") == 1
    for secret in (good.oauth_token, good.oauth_token_secret, good.consumer_secret, SECRET):
        assert secret not in result.stdout + result.stderr
    alone = await asyncio.to_thread(cli, "status", "--check", "--profile", "default", "--json")
    assert alone.returncode == 0
    assert json.loads(alone.stdout)[0]["check"]["outcome"] == "ok"


async def test_check_refreshes_a_due_oauth2_token_and_reports_a_refused_refresh_as_needing_login(
    demo2: DemoOAuth2Provider, cli: Cli
) -> None:
    """`--check` uses the profile as any command does: a due token is refreshed first; a dead grant is exit 7."""
    creds = await login2(demo2, Browser())
    CredentialStore().save(creds.replace(expires_at=int(time.time()) - 60, issued_at=int(time.time()) - 7260))
    before = await asyncio.to_thread(cli, "status")
    assert "refreshes on next use" in before.stdout
    checked = await asyncio.to_thread(cli, "status", "--check")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert demo2.refreshes == 1
    assert "check     ok" in checked.stdout
    assert "(in 1 h 59 min)" in checked.stdout or "(in 2 h)" in checked.stdout
    CredentialStore().save(creds.replace(needs_login=True))
    dead = await asyncio.to_thread(cli, "status", "--check")
    assert dead.returncode == 7
    assert "needs a new login" in dead.stdout


async def test_check_without_a_verify_endpoint_is_skipped_not_failed(demo: DemoProvider, cli: Cli) -> None:
    """A provider with nothing to ask is said so, and is no failure."""
    await _login(demo, endpoints=False)
    result = await asyncio.to_thread(cli, "status", "--check")
    assert result.returncode == 0, result.stderr
    assert "check     skipped: provider 'demo' of profile 'default' has no verify endpoint" in result.stdout


@pytest.fixture
async def demo2() -> AsyncIterator[DemoOAuth2Provider]:
    async with DemoOAuth2Provider() as provider:
        yield provider
