"""Logging in again as an existing profile: its provider, endpoints and consumer come back, like `gh auth refresh`.

The hints that tell a user to log in again print ``loopauth login --profile NAME``; these tests run
exactly that command and check that it logs in to the profile's own provider, not to Twitter.
"""

from __future__ import annotations

import asyncio
import json
import shlex
from pathlib import Path

from loopauth.api import relogin_options
from loopauth.calls import revoke
from loopauth.cli.shared import replaced_note
from loopauth.loopback.options import LoginOptions
from loopauth.models import Credentials, Provider
from loopauth.store import CredentialStore

from .conftest import Cli, CliAsync, browser_env, demo_login_args, oauth1, run_cli_async
from .demo_probes import DemoProvider

# The environment of someone who logs in to Twitter: it must not leak into a custom profile's re-login.
TWITTER_ENV = {"LOOPAUTH_CONSUMER_KEY": "twitter-app-key", "LOOPAUTH_CONSUMER_SECRET": "twitter-app-secret"}

STORED = Credentials(
    profile="jira",
    provider="jira",
    consumer_key="loopauth",
    consumer_secret="",
    oauth_token="t",
    oauth_token_secret="ts",
    endpoints=Provider(
        "jira",
        "https://jira.example/rt",
        "https://jira.example/a",
        "https://jira.example/at",
        signature_method="RSA-SHA1",
    ),
    rsa_key_file="/keys/jira.pem",
)


def _relogin_args(profile: str) -> list[str]:
    """The re-login command as a hint prints it, plus what a test needs (a free port, the fake browser's speed)."""
    return ["login", "--profile", profile, "--port", "0", "--timeout", "20"]


def test_relogin_options_take_the_stored_provider_consumer_method_and_key_file() -> None:
    """Nothing on the command line: the stored endpoints, consumer key, secret, signature method and key file."""
    options = relogin_options(LoginOptions(profile="jira"), STORED)
    assert options.provider == STORED.endpoints
    assert (options.consumer_key, options.consumer_secret) == ("loopauth", "")
    assert options.signature_method == "RSA-SHA1"
    assert options.rsa_key_file == "/keys/jira.pem"


def test_relogin_options_let_the_command_line_win() -> None:
    """A given secret replaces the stored one; another consumer key never gets the stored secret."""
    hmac = STORED.replace(
        endpoints=STORED.endpoints.replace(signature_method="HMAC-SHA1") if STORED.endpoints else None,
        consumer_secret="stored-secret",
        rsa_key_file=None,
    )
    rotated = relogin_options(LoginOptions(consumer_secret="new-secret"), hmac)
    assert (rotated.consumer_key, rotated.consumer_secret) == ("loopauth", "new-secret")
    other_app = relogin_options(LoginOptions(consumer_key="other-app"), hmac)
    assert (other_app.consumer_key, other_app.consumer_secret) == ("other-app", None)
    assert relogin_options(LoginOptions(signature_method="PLAINTEXT"), hmac).signature_method == "PLAINTEXT"


def test_a_profile_without_stored_endpoints_falls_back_to_its_preset() -> None:
    """An older profile file that predates stored endpoints logs in again to its preset."""
    old = STORED.replace(provider="trello", endpoints=None, rsa_key_file=None, consumer_secret="s")
    options = relogin_options(LoginOptions(), old)
    assert isinstance(options.provider, Provider)
    assert options.provider.request_token_url.startswith("https://trello.com/")


def test_replaced_note_names_the_old_and_new_account_only_when_they_differ() -> None:
    """Same provider and account: no note; another provider or account: one line naming both."""
    same = STORED.replace(oauth_token="t2")
    assert replaced_note(STORED, same) is None
    other = STORED.replace(provider="demo", user_id="42", screen_name="someone")
    note = replaced_note(STORED.replace(screen_name="me"), other)
    assert note is not None
    assert "\n" not in note
    assert "@me on jira" in note
    assert "@someone on demo" in note


async def test_the_hint_after_a_rejected_token_logs_in_to_the_profiles_own_provider(
    cli_async: CliAsync, demo: DemoProvider
) -> None:
    """verify on a revoked custom-provider token prints a login command; run as printed, it logs in to that
    provider with the stored consumer (not $LOOPAUTH_CONSUMER_KEY's app, not Twitter), and verify works again."""
    p = demo.provider
    extra = ["--profile", "work", "--verify-url", str(p.verify_url), "--revoke-url", str(p.revoke_url)]
    first = await run_cli_async(*demo_login_args(demo, *extra), env=browser_env())
    assert first.returncode == 0, first.stderr
    await asyncio.to_thread(revoke, CredentialStore().load("work"))

    dead = await cli_async("verify", "--profile", "work")
    assert dead.returncode == 5
    hint = dead.stderr.rsplit("(", 1)[1].rstrip(")\n")
    assert hint == "loopauth login --profile work"

    again = await run_cli_async(*shlex.split(hint)[1:], "--port", "0", env={**TWITTER_ENV, **browser_env()})
    assert again.returncode == 0, again.stderr
    assert "note:" not in again.stderr  # same provider, same account
    assert demo.calls["request_token"] == 2
    creds = oauth1(CredentialStore().load("work"))
    assert creds.provider == "demo"
    assert creds.consumer_key == demo.consumer_key
    assert creds.endpoints is not None
    assert creds.endpoints.verify_url == p.verify_url
    verify = await cli_async("verify", "--profile", "work")
    assert verify.returncode == 0, verify.stderr


async def test_plaintext_profile_logs_in_again_with_plaintext(cli_async: CliAsync, demo: DemoProvider) -> None:
    """The stored signature method comes back with the profile."""
    first = await run_cli_async(*demo_login_args(demo, "--signature-method", "PLAINTEXT"), env=browser_env())
    assert first.returncode == 0, first.stderr
    again = await run_cli_async(*_relogin_args("default"), env=browser_env())
    assert again.returncode == 0, again.stderr
    assert 'oauth_signature_method="PLAINTEXT"' in demo.last_request_headers["access_token"]["Authorization"]
    assert json.loads((await cli_async("token", "--json")).stdout)["provider"] == "demo"


async def test_logging_in_over_a_profile_of_another_provider_says_so_in_one_line(demo: DemoProvider) -> None:
    """A login with other provider options replaces the profile, and one stderr line names what it held."""
    first = await run_cli_async(*demo_login_args(demo), env=browser_env())
    assert first.returncode == 0, first.stderr
    args = demo_login_args(demo)
    args[args.index("--provider") + 1] = "elsewhere"
    second = await run_cli_async(*args, env=browser_env())
    assert second.returncode == 0, second.stderr
    notes = [line for line in second.stderr.splitlines() if "note:" in line]
    assert len(notes) == 1
    assert "held @loopauth_demo on demo" in notes[0]
    assert "now holds @loopauth_demo on elsewhere" in notes[0]


async def test_the_demo_says_so_too_when_it_replaces_the_other_demos_profile() -> None:
    """`loopauth demo --oauth2` after `loopauth demo` replaces the same 'demo' profile; one line says so."""
    first = await run_cli_async("demo", "--auto")
    assert first.returncode == 0, first.stderr
    assert "note:" not in first.stderr
    second = await run_cli_async("demo", "--oauth2", "--auto")
    assert second.returncode == 0, second.stderr
    notes = [line for line in second.stderr.splitlines() if "note:" in line]
    assert notes == [
        "loopauth: note: profile 'demo' held @loopauth_demo on demo; it now holds @loopauth_demo on demo-oauth2"
    ]
    again = await run_cli_async("demo", "--oauth2", "--auto")
    assert again.returncode == 0, again.stderr
    assert "note:" not in again.stderr


def test_a_corrupt_profile_names_its_provider_and_a_bare_login_to_it_is_refused(cli: Cli, config_dir: Path) -> None:
    """The error for a corrupt profile says how to log in again to its own provider when the file still shows it,
    and that --provider is needed when it does not; `login --profile NAME` without --provider is exit 2 naming
    both, before any browser or network (it would otherwise log in to Twitter and replace the profile)."""
    profiles = config_dir / "profiles"
    CredentialStore().save(STORED.replace(profile="t4", provider="flickr"))
    shown = profiles / "t4.json"
    shown.write_text(shown.read_text()[:-20])  # cut short: not JSON any more, but its provider is still there
    result = cli("token", "--profile", "t4")
    assert result.returncode == 6
    assert result.stderr.count("\n") == 1
    assert str(shown) in result.stderr
    assert result.stderr.rstrip().endswith(
        "log in again to replace it: `loopauth login --profile t4 --provider flickr`"
    )
    login = cli("login", "--profile", "t4", "--consumer-key", "k", "--consumer-secret", "s", "--no-browser")
    assert login.returncode == 2
    assert login.stderr.count("\n") == 1
    assert "profile 't4' cannot be read, so --provider must say where to log in" in login.stderr
    assert "`loopauth login --profile t4 --provider flickr`" in login.stderr
    assert shown.exists()

    (profiles / "t5.json").write_text("{\x00\x01 nothing left")
    result = cli("token", "--profile", "t5")
    assert result.returncode == 6
    assert "naming the provider (the file no longer says which): `loopauth login --profile t5 --provider NAME`" in (
        result.stderr
    )
    login = cli("login", "--profile", "t5", "--no-browser")
    assert login.returncode == 2
    assert "--provider must say" in login.stderr
    assert "--provider NAME" in login.stderr

    demo = cli("demo", "--profile", "t4", "--auto")  # naming the provider (here: the demo) replaces it
    assert demo.returncode == 0, demo.stderr
    assert CredentialStore().load("t4").provider == "demo"
