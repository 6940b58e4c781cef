"""The active profile: `switch`, the first login, logout of the active profile, and every command's default."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from loopauth.store import CredentialStore

from .conftest import Cli, browser_env, demo_login_args, run_cli, run_cli_async
from .demo_probes import DemoProvider
from .test_store import make_creds


def _save(*names: str) -> None:
    for n, name in enumerate(names, start=1):
        CredentialStore().save(make_creds(name, n))


def test_switch_makes_a_profile_the_default_of_token_through_both_readings(cli: Cli, config_dir: Path) -> None:
    """After `switch work`, `token` (the no-argparse fast path, and argparse's) prints work's token."""
    _save("default", "work")
    switched = cli("switch", "work")
    assert switched.returncode == 0, switched.stderr
    assert switched.stdout == ""
    assert "Active profile: 'work' (@alice on example)" in switched.stderr
    assert (config_dir / "active").read_text() == "work\n"
    for args in (["token", "--field", "oauth_token"], ["token", "--fie", "oauth_token"]):
        assert run_cli(*args).stdout == "tok-2\n"  # a subprocess: the fast path is in loopauth.cli's dispatch
        assert cli(*args).stdout == "tok-2\n"


def test_the_environment_overrides_the_switched_profile_and_the_option_overrides_both(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--profile beats $LOOPAUTH_PROFILE, which beats `switch`; switching under the variable says it still wins."""
    _save("default", "work", "bot")
    assert cli("switch", "work").returncode == 0
    env = {"LOOPAUTH_PROFILE": "bot"}
    assert run_cli("token", "--field", "oauth_token", env=env).stdout == "tok-3\n"
    assert run_cli("token", "--field", "oauth_token", "--profile", "default", env=env).stdout == "tok-1\n"
    monkeypatch.setenv("LOOPAUTH_PROFILE", "bot")
    switched = cli("switch", "default")
    assert "$LOOPAUTH_PROFILE=bot overrides it in this shell" in switched.stderr
    monkeypatch.setenv("LOOPAUTH_PROFILE", "../etc")
    assert cli("token").returncode == 2


def test_switch_to_a_missing_profile_exits_7_and_changes_nothing(cli: Cli, config_dir: Path) -> None:
    """A profile nobody logged in to cannot become the default; a bad name is a usage error."""
    _save("work")
    assert cli("switch", "work").returncode == 0
    missing = cli("switch", "nobody")
    assert missing.returncode == 7
    assert missing.stderr == (
        "loopauth: error: not logged in: no profile 'nobody' (run `loopauth login --profile nobody`, or see "
        "`loopauth list` for the stored ones)\n"
    )
    assert cli("switch", "../x").returncode == 2
    assert (config_dir / "active").read_text() == "work\n"


@pytest.mark.parametrize(
    "args",
    [
        ("token",),
        ("token", "--js"),
        ("header", "GET", "https://example.com/"),
        ("request", "https://example.com/"),
        ("verify",),
        ("logout",),
        ("status",),
        ("exec", "--", "true"),  # in this process: exit 7 comes before anything could replace it
    ],
    ids=lambda args: " ".join(args),
)
def test_every_command_that_reads_a_profile_defaults_to_the_active_one(cli: Cli, args: tuple[str, ...]) -> None:
    """With 'work' active and not logged in, each command without --profile looks for 'work' (exit 7)."""
    _save("default")
    CredentialStore().set_active("work")
    result = cli(*args)
    assert result.returncode == 7, result.stderr
    assert "'work'" in result.stderr


def test_list_stars_the_active_profile_and_its_json_says_active(cli: Cli) -> None:
    """`list` marks the active profile after its name; `list --json` carries "active" on every entry."""
    _save("default", "work")
    cli("switch", "work")
    listed = cli("list")
    rows = {line.split()[0]: line for line in listed.stdout.splitlines()[1:]}
    assert rows["work"].startswith("work *")
    assert not rows["default"].startswith("default *")
    assert "* marks the active profile" in listed.stderr
    data = json.loads(cli("list", "--json").stdout)
    assert {e["profile"]: e["active"] for e in data} == {"default": False, "work": True}


def test_list_says_when_the_active_profile_does_not_exist(cli: Cli) -> None:
    """An active file naming a profile that was deleted by hand: `list` says so and how to pick another."""
    _save("default")
    CredentialStore().set_active("gone")
    assert "the active profile, 'gone', does not exist" in cli("list").stderr


def test_logging_out_of_the_active_profile_hands_it_over_and_says_so(cli: Cli, config_dir: Path) -> None:
    """No dangling default: logout of the active profile makes 'default' (or the first other) active, and the
    last logout removes the active file."""
    _save("default", "work", "zeta")
    cli("switch", "work")
    out = cli("logout")
    assert out.returncode == 0
    assert "Logged out: deleted profile 'work'" in out.stderr
    assert "Active profile is now 'default'; `loopauth switch NAME` picks another" in out.stderr
    assert CredentialStore().active() == "default"
    out = cli("logout")
    assert "Active profile is now 'zeta'\n" in out.stderr
    assert (config_dir / "active").read_text() == "zeta\n"
    out = cli("logout", "--profile", "zeta")
    assert "No profiles left; the next login becomes the active profile" in out.stderr
    assert not (config_dir / "active").exists()


def test_logging_out_of_another_profile_leaves_the_active_one_alone(cli: Cli, config_dir: Path) -> None:
    """Only the active profile's logout touches the active file."""
    _save("default", "work")
    cli("switch", "work")
    out = cli("logout", "--profile", "default")
    assert "Active profile" not in out.stderr
    assert (config_dir / "active").read_text() == "work\n"


async def test_the_first_login_becomes_active_and_a_later_one_leaves_it(demo: DemoProvider, config_dir: Path) -> None:
    """The first login (as any profile) writes the active file; logging in as another profile keeps the active one
    and says how to switch; `login` without --profile logs in again as the active profile."""
    first = await run_cli_async(*demo_login_args(demo, "--profile", "work"), env=browser_env())
    assert first.returncode == 0, first.stderr
    assert "Active profile: 'work'" in first.stderr
    assert (config_dir / "active").read_text() == "work\n"
    second = await run_cli_async(*demo_login_args(demo, "--profile", "bot"), env=browser_env())
    assert second.returncode == 0, second.stderr
    assert "the active profile is still 'work'; `loopauth switch bot` makes 'bot' the default" in second.stderr
    assert (config_dir / "active").read_text() == "work\n"
    again = await run_cli_async(*demo_login_args(demo), env=browser_env())
    assert again.returncode == 0, again.stderr
    assert "saved as profile 'work'" in again.stdout
    assert "Active profile" not in again.stderr
    assert CredentialStore().names() == ["bot", "work"]


async def test_a_first_login_as_default_writes_the_active_file_quietly(demo: DemoProvider, config_dir: Path) -> None:
    """Logging in as 'default' the first time: the file says so, and nothing more is printed about it."""
    result = await run_cli_async(*demo_login_args(demo), env=browser_env())
    assert result.returncode == 0, result.stderr
    assert (config_dir / "active").read_text() == "default\n"
    assert "Active profile" not in result.stderr


def test_profiles_from_before_the_active_file_keep_default_active(cli: Cli, config_dir: Path) -> None:
    """A config dir from an older loopauth (profiles, no active file): 'default' stays the active profile."""
    _save("default", "work")
    assert not (config_dir / "active").exists()
    assert json.loads(cli("token", "--json").stdout)["oauth_token"] == "tok-1"
