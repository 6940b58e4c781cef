"""`loopauth add`: credentials the user already has, from stdin or a no-echo prompt (never argv), verified with the
real demo providers, saved like a login's and marked as added."""

from __future__ import annotations

import asyncio
import json
import os
import pty
import select
import shutil
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from loopauth.demo import DEMO_SCREEN_NAME, DEMO_USER_ID
from loopauth.models import Credentials, OAuth2Credentials
from loopauth.store import CredentialStore

from .conftest import Cli, CliAsync, run_cli_async
from .demo_probes import DemoOAuth2Provider, DemoProvider
from .test_oauth2 import Browser, login2
from .test_tools import _demo_table, _login, _write_providers


@pytest.fixture
async def demo2() -> AsyncIterator[DemoOAuth2Provider]:
    async with DemoOAuth2Provider() as provider:
        yield provider


async def _minted(demo: DemoProvider, config_dir: Path) -> tuple[Credentials, dict[str, str]]:
    """Tokens the demo really issued (a login as 'minted'), a providers.toml [mine] for it, and the consumer's
    environment for `add`."""
    await _login(demo, "--profile", "minted")
    creds = CredentialStore().load("minted")
    assert isinstance(creds, Credentials)
    _write_providers(config_dir, _demo_table(demo))
    return creds, {"LOOPAUTH_CONSUMER_KEY": demo.consumer_key, "LOOPAUTH_CONSUMER_SECRET": demo.consumer_secret}


def _stdin(*lines: str) -> bytes:
    return "".join(f"{line}\n" for line in lines).encode()


async def test_add_reads_the_tokens_from_stdin_verifies_and_saves_them_as_added(
    cli_async: CliAsync, demo: DemoProvider, config_dir: Path, cli: Cli
) -> None:
    """Token and secret on stdin, the consumer from the environment: verified (which names the account), saved
    0600 like a login, marked as added, and usable at once."""
    minted, env = await _minted(demo, config_dir)
    result = await run_cli_async(
        "add", "--profile", "copy", "--provider", "mine",
        stdin=_stdin(minted.oauth_token, minted.oauth_token_secret), env=env,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout == (
        f"Added credentials for mine as @{DEMO_SCREEN_NAME} (user id {DEMO_USER_ID}) (verified by mine); "
        f"saved as profile 'copy' in {config_dir / 'profiles' / 'copy.json'}\n"
    )
    for secret in (minted.oauth_token, minted.oauth_token_secret, demo.consumer_secret):
        assert secret not in result.stdout + result.stderr
    copy = CredentialStore().load("copy")
    assert isinstance(copy, Credentials)
    assert (copy.oauth_token, copy.oauth_token_secret) == (minted.oauth_token, minted.oauth_token_secret)
    assert (copy.screen_name, copy.origin, copy.provider) == (DEMO_SCREEN_NAME, "add", "mine")
    assert (config_dir / "profiles" / "copy.json").stat().st_mode & 0o777 == 0o600
    verified = await cli_async("verify", "--profile", "copy")
    assert verified.returncode == 0, verified.stderr
    status = await asyncio.to_thread(cli, "status", "--profile", "copy", "--json")
    assert json.loads(status.stdout)[0]["origin"] == "add"
    assert "added with `loopauth add`" in (await asyncio.to_thread(cli, "status", "--profile", "copy")).stdout
    assert "logged in" in (await asyncio.to_thread(cli, "status", "--profile", "minted")).stdout
    assert "origin" not in json.loads((await asyncio.to_thread(cli, "token", "--profile", "copy", "--json")).stdout)


async def test_tokens_the_provider_rejects_are_exit_5_with_its_message_and_nothing_is_saved(
    demo: DemoProvider, config_dir: Path
) -> None:
    """A garbage token: the provider's own words, exit 5, no profile; --no-verify stores it unchecked."""
    _, env = await _minted(demo, config_dir)
    garbage = _stdin("1234-garbage-token", "garbage-secret")
    result = await run_cli_async("add", "--profile", "bad", "--provider", "mine", stdin=garbage, env=env)
    assert result.returncode == 5
    assert "mine answered 401: Could not authenticate you. (code 32)" in result.stderr
    assert "nothing saved" in result.stderr
    assert "garbage" not in result.stderr
    assert "bad" not in CredentialStore().names()
    unchecked = await run_cli_async(
        "add", "--profile", "bad", "--provider", "mine", "--no-verify", stdin=garbage, env=env
    )
    assert unchecked.returncode == 0, unchecked.stderr
    assert "(not verified (--no-verify))" in unchecked.stdout
    stored = CredentialStore().load("bad")
    assert (stored.user_id, stored.screen_name, stored.origin) == ("1234", None, "add")  # Twitter's id-in-token


async def test_the_tokens_are_never_in_the_command_line_or_environment_of_a_running_add(
    demo: DemoProvider, config_dir: Path
) -> None:
    """While `add` waits for its stdin, /proc/PID/cmdline (what `ps` shows every user) and its environment hold
    neither token; given on stdin, they are saved."""
    minted, env = await _minted(demo, config_dir)
    argv = ["add", "--profile", "copy", "--provider", "mine"]
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "loopauth", *argv,
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, **env},
    )  # fmt: skip
    # Until the child has exec'd, /proc shows the parent's image (or nothing): wait for loopauth's own.
    deadline = time.monotonic() + 20
    while b"loopauth" not in (cmdline := Path(f"/proc/{proc.pid}/cmdline").read_bytes()):
        assert time.monotonic() < deadline, cmdline
        await asyncio.sleep(0.01)
    environ = Path(f"/proc/{proc.pid}/environ").read_bytes()
    assert proc.stdin is not None
    proc.stdin.write(_stdin(minted.oauth_token, minted.oauth_token_secret))
    await proc.stdin.drain()
    proc.stdin.close()
    _, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 0, err
    assert cmdline.split(b"\0") == [sys.executable.encode(), b"-m", b"loopauth", *(a.encode() for a in argv), b""]
    for secret in (minted.oauth_token, minted.oauth_token_secret):
        assert secret.encode() not in cmdline + environ
    assert CredentialStore().load("copy").origin == "add"


@pytest.mark.skipif(shutil.which("setsid") is None, reason="util-linux's setsid is not installed")
def test_a_terminal_is_prompted_without_echo(demo_threaded: DemoProvider, config_dir: Path) -> None:
    """On a terminal: three prompts (consumer secret, token, secret), none echoing what is typed."""
    demo = demo_threaded
    _write_providers(config_dir, _demo_table(demo))
    from .threaded_demos import log_in_oauth1

    minted = log_in_oauth1(demo, profile="minted")
    env = {**os.environ, "LOOPAUTH_CONSUMER_KEY": demo.consumer_key}
    master, terminal = pty.openpty()
    # `setsid -c` makes the pseudo-terminal loopauth's controlling one, as a login shell's is: getpass then
    # talks to /dev/tty, as it does for a user. (No fork in this threaded process: it would warn, and may hang.)
    with subprocess.Popen(
        ["setsid", "-c", sys.executable, "-m", "loopauth", "add", "--provider", "mine"],
        stdin=terminal, stdout=terminal, stderr=terminal, env=env,
    ) as proc:  # fmt: skip
        os.close(terminal)
        seen = b""
        try:
            for prompt, answer in (
                (b"Consumer secret for mine (not shown): ", demo.consumer_secret),
                (b"Access token for mine (not shown): ", minted.oauth_token),
                (b"Access token secret (not shown): ", minted.oauth_token_secret),
            ):
                seen += _read_until(master, prompt, seen)
                os.write(master, answer.encode() + b"\n")
            seen += _read_until(master, b"saved as profile 'default'", seen)
            assert proc.wait(timeout=30) == 0, seen
        finally:
            os.close(master)
    for secret in (demo.consumer_secret, minted.oauth_token, minted.oauth_token_secret):
        assert secret.encode() not in seen
    assert CredentialStore().load("default").origin == "add"


def _read_until(fd: int, wanted: bytes, before: bytes, timeout: float = 20) -> bytes:
    got = b""
    deadline = time.monotonic() + timeout
    while wanted not in before + got:
        left = deadline - time.monotonic()
        assert left > 0, f"no {wanted!r} in {before + got!r}"
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            try:
                chunk = os.read(fd, 4096)
            except OSError:  # EIO: the child closed the terminal
                break
            if not chunk:
                break
            got += chunk
    return got


@pytest.fixture
def demo_threaded() -> Iterator[DemoProvider]:
    from .threaded_demos import in_a_thread

    with in_a_thread(DemoProvider()) as provider:
        yield provider


@pytest.mark.parametrize(
    ("stdin", "words"),
    [
        (b"", "no access token: give it on the first line of stdin"),
        (b"only-a-token\n", "no access token secret: give it on the second line"),
        (b"a\nb\nc\n", "stdin has 3 lines"),
        (b"tok en\nsecret\n", "the access token has spaces or control characters"),
        (b"token\nxyz\x1bqrs\n", "the access token secret has spaces or control characters"),
        (b"\xff\xfe\n", "stdin is not UTF-8"),
    ],
    ids=["empty", "one-line", "three-lines", "space", "escape", "binary"],
)
async def test_stdin_that_is_not_two_token_lines_is_a_usage_error_that_quotes_nothing(stdin: bytes, words: str) -> None:
    """Exit 2, one line, never the values themselves; nothing saved."""
    env = {"LOOPAUTH_CONSUMER_KEY": "k", "LOOPAUTH_CONSUMER_SECRET": "s"}
    result = await run_cli_async("add", "--provider", "x", stdin=stdin, env=env)
    assert result.returncode == 2
    assert words in result.stderr
    assert result.stderr.count("\n") == 1
    for value in (b"only-a-token", b"tok en", b"xyz"):
        if value in stdin:
            assert value.decode() not in result.stderr
    assert CredentialStore().names() == []


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("add",), "the following arguments are required: --provider"),
        (("add", "--provider", "nope"), "unknown provider 'nope'"),
        (("add", "--provider", "x"), "no consumer key: give --consumer-key (or $LOOPAUTH_CONSUMER_KEY)"),
        (("add", "--provider", "x", "--client-id", "c"), "is an OAuth 1.0a provider"),
        (("add", "--provider", "x-oauth2"), "no client id: give --client-id"),
        (("add", "--provider", "x-oauth2", "--consumer-key", "k"), "is an OAuth 2.0 provider"),
    ],
)
def test_options_are_checked_before_the_tokens_are_read(cli: Cli, args: tuple[str, ...], words: str) -> None:
    """What can be wrong without the tokens is said first, in one line (exit 2)."""
    result = cli(*args)
    assert result.returncode == 2, result.stderr
    assert words in result.stderr


async def test_an_oauth2_access_token_and_refresh_token_are_added_and_refresh_later(
    cli_async: CliAsync, demo2: DemoOAuth2Provider, config_dir: Path
) -> None:
    """OAuth 2.0: the access token, and the refresh token on the second line; verified without a refresh, and
    refreshed by the next command once the provider ends the access token."""
    minted = await login2(demo2, Browser(), profile="minted")
    assert isinstance(minted, OAuth2Credentials)
    assert minted.refresh_token is not None
    e = demo2.endpoints
    _write_providers(
        config_dir, f'[mine2]\nauthorize_url = "{e.authorize_url}"\ntoken_url = "{e.token_url}"\n'
        f'verify_url = "{e.users_me_url}"\n'
    )  # fmt: skip
    args = ["add", "--profile", "copy", "--provider", "mine2", "--client-id", demo2.public_client_id]
    result = await run_cli_async(*args, stdin=_stdin(minted.access_token, minted.refresh_token))
    assert result.returncode == 0, result.stderr
    assert f"as @{DEMO_SCREEN_NAME}" in result.stdout
    copy = CredentialStore().load("copy")
    assert isinstance(copy, OAuth2Credentials)
    assert (copy.refresh_token, copy.expires_at, copy.origin) == (minted.refresh_token, None, "add")
    demo2.expire_access_tokens()
    used = await cli_async("request", "--profile", "copy", e.echo_url)
    assert used.returncode == 0, used.stderr
    assert demo2.refreshes == 1
    refreshed = await cli_async("token", "--profile", "copy", "--field", "access_token")
    assert refreshed.stdout.strip() != minted.access_token


async def test_a_rejected_oauth2_pair_is_exit_5_after_one_refused_refresh(
    demo2: DemoOAuth2Provider, config_dir: Path
) -> None:
    """A garbage pair: the provider's 401 to the access token, then one refresh with the refresh token given (never
    with whatever the store holds), which it refuses: exit 5, nothing saved."""
    e = demo2.endpoints
    _write_providers(
        config_dir, f'[mine2]\nauthorize_url = "{e.authorize_url}"\ntoken_url = "{e.token_url}"\n'
        f'verify_url = "{e.users_me_url}"\n'
    )  # fmt: skip
    args = ["add", "--provider", "mine2", "--client-id", demo2.public_client_id]
    result = await run_cli_async(*args, stdin=_stdin("garbage-access", "garbage-refresh"))
    assert result.returncode == 5, result.stderr
    assert "nothing saved" in result.stderr
    assert demo2.refreshes == 0
    assert demo2.calls["token"] == 1
    assert CredentialStore().names() == []
