"""`loopauth exec`: credentials in the command's environment only, and the process, signals, stdin/stdout and exit
status are the command's own. Each test runs loopauth as a process: it replaces itself with the command."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from loopauth.models import OAuth2Credentials
from loopauth.store import CredentialStore

from .conftest import Cli, run_cli, run_cli_async
from .demo_probes import DemoOAuth2Provider
from .test_oauth2 import Browser, login2
from .test_store import make_creds

LOOPAUTH = [sys.executable, "-m", "loopauth"]
DUMP_ENV = "import json, os; print(json.dumps({k: v for k, v in os.environ.items() if k.isupper()}))"
# Says it is ready once its handlers are in place, then waits; SIGTERM and SIGINT end it with codes of its own.
TRAPPER = """
import os, signal, sys, time
signal.signal(signal.SIGTERM, lambda *_: sys.exit(43))
signal.signal(signal.SIGINT, lambda *_: sys.exit(44))
print(os.getpid(), flush=True)
time.sleep(30)
sys.exit(1)
"""


def _env_of(*args: str, env: dict[str, str] | None = None) -> dict[str, str]:
    result = run_cli("exec", *args, "--", sys.executable, "-c", DUMP_ENV, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    data: dict[str, str] = json.loads(result.stdout)
    return data


def test_the_command_gets_token_envs_names_and_nothing_is_printed() -> None:
    """The same variables as `token --env`, in the command's environment; loopauth itself prints nothing."""
    CredentialStore().save(make_creds("default"))
    env = _env_of()
    exports = run_cli("token", "--env").stdout
    for line in exports.splitlines():
        name, _, value = line.removeprefix("export ").partition("=")
        assert env[name] == value.strip("'")
    assert env["LOOPAUTH_OAUTH_TOKEN_SECRET"].startswith("ts-1-")
    quiet = run_cli("exec", "--", "true")
    assert (quiet.returncode, quiet.stdout, quiet.stderr) == (0, "", "")


def test_map_renames_fields_and_stale_values_from_the_parent_are_cleared() -> None:
    """--map oauth_token=TWITTER_ACCESS_TOKEN puts it there and not under its prefixed name; a value another profile
    left in the parent's environment, or a field this profile lacks, is not passed on as this profile's."""
    CredentialStore().save(make_creds("default").replace(screen_name=None))
    parent = {"LOOPAUTH_OAUTH_TOKEN": "stale", "LOOPAUTH_SCREEN_NAME": "someone-else", "TW_USER": "stale"}
    env = _env_of(
        "--map", "oauth_token=TWITTER_ACCESS_TOKEN",
        "--map", "oauth_token_secret=TWITTER_ACCESS_TOKEN_SECRET",
        "--map", "screen_name=TW_USER",
        "--prefix", "X_",
        env=parent,
    )  # fmt: skip
    assert env["TWITTER_ACCESS_TOKEN"] == "tok-1"
    assert env["TWITTER_ACCESS_TOKEN_SECRET"].startswith("ts-1-")
    assert "X_OAUTH_TOKEN" not in env
    assert env["X_CONSUMER_KEY"] == "ck-1"
    assert "TW_USER" not in env
    # Not this command's names: another prefix's variables are left as they were.
    assert env["LOOPAUTH_OAUTH_TOKEN"] == "stale"
    assert "LOOPAUTH_SCREEN_NAME" not in _env_of(env=parent)


_DANGEROUS = (
    "PATH", "BASH_ENV", "ENV", "IFS", "PYTHONPATH", "PYTHONSTARTUP", "PERL5OPT", "PERL5LIB", "NODE_OPTIONS",
    "SHELLOPTS", "PS4", "GCONV_PATH", "LOCPATH", "JAVA_TOOL_OPTIONS", "RUBYOPT", "GIT_SSH_COMMAND", "GIT_ASKPASS",
    "GLIBC_TUNABLES", "https_proxy", "BROWSER", "HOME",
)  # fmt: skip


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("--map", "refresh_token=R"), "never leaves loopauth"),
        (("--map", "nope=X"), "unknown field 'nope'"),
        (("--map", "oauth_token=1X"), "--map takes FIELD=VAR"),
        (("--map", "oauth_token"), "--map takes FIELD=VAR"),
        (("--prefix", "1X"), "--prefix must be"),
        (("--map", "oauth_token=A-B"), "--map takes FIELD=VAR"),
        (("--map", "oauth_token=LD_PRELOAD"), "refusing $LD_PRELOAD"),
        (("--map", "screen_name=ld_audit"), "refusing $ld_audit"),
        (("--map", "oauth_token=DYLD_INSERT_LIBRARIES"), "refusing $DYLD_INSERT_LIBRARIES"),
        *((("--map", f"user_id={name}"), f"refusing ${name}") for name in _DANGEROUS),
        (("--prefix", "LD_"), "refusing $LD_CONSUMER_KEY"),
        (("--prefix", "PYTHON"), "refusing $PYTHONCONSUMER_KEY"),
    ],
)
def test_bad_maps_are_usage_errors_before_anything_runs(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: tuple[str, ...], words: str
) -> None:
    """Exit 2, one line; the command never ran."""
    CredentialStore().save(make_creds("default"))
    marker = tmp_path / "ran"

    def execvpe(*args: object) -> None:
        # In process, a real exec would replace the test run itself with `touch`.
        raise AssertionError("the command was run")

    monkeypatch.setattr("os.execvpe", execvpe)
    result = cli("exec", *args, "--", "touch", str(marker))
    assert result.returncode == 2
    assert words in result.stderr
    assert result.stderr.count("\n") == 1
    assert not marker.exists()


def test_a_missing_profile_is_exit_7_before_anything_runs(tmp_path: Path) -> None:
    """No profile: nothing is run, one line, exit 7."""
    marker = tmp_path / "ran"
    result = run_cli("exec", "--profile", "nobody", "--", "touch", str(marker))
    assert result.returncode == 7
    assert "no profile 'nobody'" in result.stderr
    assert not marker.exists()


def test_no_command_is_a_usage_error(cli: Cli) -> None:
    CredentialStore().save(make_creds("default"))
    for args in (("exec",), ("exec", "--")):
        result = cli(*args)
        assert result.returncode == 2
        assert "exec needs a command" in result.stderr


def test_the_exit_status_stdin_and_stdout_are_the_commands() -> None:
    """Whatever the command exits with, loopauth exits with; it reads our stdin and writes our stdout."""
    CredentialStore().save(make_creds("default"))
    assert run_cli("exec", "--", "sh", "-c", "exit 42").returncode == 42
    echoed = run_cli("exec", "--", "cat", input="line one\nline two\n")
    assert (echoed.returncode, echoed.stdout, echoed.stderr) == (0, "line one\nline two\n", "")


def test_a_command_that_is_not_found_is_127_and_one_that_cannot_run_is_126(tmp_path: Path) -> None:
    """As a shell says: 127 not found (on PATH or at a path), 126 not executable; one line each."""
    CredentialStore().save(make_creds("default"))
    for command in ("no-such-command-here", str(tmp_path / "missing")):
        result = run_cli("exec", "--", command)
        assert result.returncode == 127
        assert result.stderr == f"loopauth: error: {command}: command not found\n"
    script = tmp_path / "script"
    script.write_text("#!/bin/sh\necho hi\n")
    script.chmod(0o644)
    result = run_cli("exec", "--", str(script))
    assert result.returncode == 126
    assert result.stderr == f"loopauth: error: {script}: permission denied\n"
    assert run_cli("exec", "--", str(tmp_path)).returncode == 126


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGTERM, 43), (signal.SIGINT, 44)], ids=["TERM", "INT"])
def test_signals_sent_to_loopauth_reach_the_command_which_is_the_same_process(signum: int, code: int) -> None:
    """loopauth's PID *is* the command's after exec: a signal sent to it is the command's to handle, and the exit
    status is the one its handler chose."""
    CredentialStore().save(make_creds("default"))
    with subprocess.Popen(
        [*LOOPAUTH, "exec", "--", sys.executable, "-c", TRAPPER],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    ) as proc:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == str(proc.pid)
        proc.send_signal(signum)
        assert proc.wait(timeout=20) == code
        assert proc.stderr is not None
        assert proc.stderr.read() == ""


def test_an_untrapped_signal_ends_the_command_as_it_would_end_it_alone() -> None:
    """SIGTERM to a command with no handler: killed by the signal, which is what the parent sees. And SIGPIPE is
    the default again (Python ignores it), so a writer into a closed pipe ends quietly."""
    CredentialStore().save(make_creds("default"))
    with subprocess.Popen(
        [*LOOPAUTH, "exec", "--", "sh", "-c", "echo up; exec sleep 30"], stdout=subprocess.PIPE, text=True
    ) as proc:
        assert proc.stdout is not None
        assert proc.stdout.readline() == "up\n"
        proc.terminate()
        assert proc.wait(timeout=20) == -signal.SIGTERM
    started = time.monotonic()
    script = f'{" ".join(LOOPAUTH)} exec -- yes | head -1; echo "${{PIPESTATUS[0]}}"'
    piped = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=30)
    assert piped.stdout == f"y\n{128 + signal.SIGPIPE}\n"
    assert piped.stderr == ""
    assert time.monotonic() - started < 20


def test_no_secret_is_on_the_commands_command_line(tmp_path: Path) -> None:
    """The credentials travel in the environment only: /proc/PID/cmdline of the running command has none."""
    CredentialStore().save(make_creds("default"))
    with subprocess.Popen(
        [*LOOPAUTH, "exec", "--", sys.executable, "-c", TRAPPER], stdout=subprocess.PIPE, text=True
    ) as proc:
        assert proc.stdout is not None
        proc.stdout.readline()
        cmdline = Path(f"/proc/{proc.pid}/cmdline").read_bytes().decode()
        environ = Path(f"/proc/{proc.pid}/environ").read_bytes().decode()
        proc.terminate()
        proc.wait(timeout=20)
    assert "tok-1" not in cmdline
    assert "ts-1-" not in cmdline
    assert "LOOPAUTH_OAUTH_TOKEN=tok-1" in environ.split("\0")


async def test_an_oauth2_profile_gets_a_fresh_access_token_first(demo2: DemoOAuth2Provider) -> None:
    """A due OAuth 2.0 token is refreshed before the command starts; it gets the new access token, never the
    refresh token."""
    creds = await login2(demo2, Browser())
    now = int(time.time())
    CredentialStore().save(creds.replace(expires_at=now - 60, issued_at=now - 7260))
    result = await run_cli_async("exec", "--map", "access_token=BEARER", "--", sys.executable, "-c", DUMP_ENV)
    assert result.returncode == 0, result.stderr
    env = json.loads(result.stdout)
    stored = CredentialStore().load("default")
    assert isinstance(stored, OAuth2Credentials)
    assert demo2.refreshes == 1
    assert env["BEARER"] == stored.access_token != creds.access_token
    assert env["LOOPAUTH_USERNAME"] == creds.screen_name
    assert "LOOPAUTH_ACCESS_TOKEN" not in env
    assert stored.refresh_token is not None
    assert all(stored.refresh_token not in value for value in env.values())
    assert all(str(creds.refresh_token) not in value for value in env.values())


@pytest.fixture
async def demo2() -> AsyncIterator[DemoOAuth2Provider]:
    async with DemoOAuth2Provider() as provider:
        yield provider
