"""The CLI as a user and other tools run it: its output and its exit codes, in a subprocess where a process
matters (a login, a browser) and in this process (``cli``) for the rest."""

from __future__ import annotations

import json
import shlex
import socket
import subprocess
import sys
import time

import pytest

from loopauth.demo import DEMO_SCREEN_NAME, DEMO_USER_ID
from loopauth.models import Credentials
from loopauth.store import CredentialStore

from .conftest import Cli, browser_env, demo_login_args, run_cli, run_cli_async
from .demo_probes import DemoProvider, Failure


async def test_login_through_browser_then_token_json(demo: DemoProvider) -> None:
    """`loopauth login` opens $BROWSER, catches the callback, and `token --json` hands out the credentials."""
    result = await run_cli_async(*demo_login_args(demo), env=browser_env())
    assert result.returncode == 0, result.stderr
    assert f"@{DEMO_SCREEN_NAME}" in result.stdout
    assert "oauth_token=" in result.stderr  # the authorize URL is always printed too
    token = run_cli("token", "--json")
    assert token.returncode == 0
    data = json.loads(token.stdout)
    assert data["user_id"] == DEMO_USER_ID
    assert data["screen_name"] == DEMO_SCREEN_NAME
    assert data["consumer_key"] == demo.consumer_key
    for key in ("profile", "provider", "consumer_secret", "oauth_token", "oauth_token_secret"):
        assert data[key]


async def test_login_json_prints_one_object_and_no_secret_on_stderr(demo: DemoProvider) -> None:
    """--json prints the credentials; stderr never carries the token secret."""
    result = await run_cli_async(*demo_login_args(demo, "--json"), env=browser_env())
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["profile"] == "default"
    assert data["oauth_token_secret"] not in result.stderr
    assert data["oauth_token"] not in result.stderr


async def test_blocking_terminal_browser_does_not_delay_exit(demo: DemoProvider) -> None:
    """A BROWSER that keeps running (like w3m) neither blocks the callback nor the exit."""
    started = time.monotonic()
    result = await run_cli_async(*demo_login_args(demo), env=browser_env("--linger", "30"), timeout=25)
    assert result.returncode == 0, result.stderr
    assert time.monotonic() - started < 15


async def test_denied_exits_3(demo: DemoProvider) -> None:
    """Refusing on the provider page: exit 3, one line, nothing stored."""
    result = await run_cli_async(*demo_login_args(demo), env=browser_env("--deny"))
    assert result.returncode == 3
    assert "denied" in result.stderr.splitlines()[-1]
    assert run_cli("token").returncode == 7


async def test_timeout_exits_4(demo: DemoProvider) -> None:
    """Nobody comes back: exit 4 and the message says so."""
    args = demo_login_args(demo, "--no-browser")
    # The deadline covers the request-token call too: long enough for it on a loaded machine, short to wait out.
    args[args.index("--timeout") + 1] = "4"
    result = await run_cli_async(*args)
    assert result.returncode == 4, result.stderr
    assert "timed out" in result.stderr.splitlines()[-1]


async def test_provider_error_exits_5_with_its_message(demo: DemoProvider) -> None:
    """A provider failure at request-token time: exit 5 with status and message."""
    demo.failures["request_token"] = Failure(
        401, '{"errors":[{"code":32,"message":"Could not authenticate you."}]}', "application/json"
    )
    result = await run_cli_async(*demo_login_args(demo, "--no-browser"))
    assert result.returncode == 5
    last = result.stderr.strip().splitlines()[-1]
    assert "401" in last
    assert "Could not authenticate you." in last
    assert "Traceback" not in result.stderr


def test_unreachable_provider_exits_5() -> None:
    """No network (connection refused): exit 5, one line."""
    result = run_cli(
        "login",
        "--consumer-key",
        "k",
        "--consumer-secret",
        "s",
        "--port",
        "0",
        "--no-browser",
        "--request-token-url",
        "http://127.0.0.1:9/rt",
        "--authorize-url",
        "http://127.0.0.1:9/a",
        "--access-token-url",
        "http://127.0.0.1:9/at",
        "--timeout",
        "5",
    )
    assert result.returncode == 5
    assert "cannot reach http://127.0.0.1:9/rt: connection refused" in result.stderr
    assert "Traceback" not in result.stderr


def test_unknown_provider_host_exits_5() -> None:
    """A name that does not resolve: exit 5, one line saying the lookup failed."""
    result = run_cli("login", "--consumer-key", "k", "--consumer-secret", "s", "--port", "0", "--no-browser",
                     "--request-token-url", "https://nonexistent.invalid/rt", "--authorize-url",
                     "https://nonexistent.invalid/a", "--access-token-url", "https://nonexistent.invalid/at",
                     "--timeout", "10")  # fmt: skip
    assert result.returncode == 5
    assert "cannot reach https://nonexistent.invalid/rt: name lookup failed" in result.stderr.splitlines()[-1]


def test_each_stderr_line_is_one_write() -> None:
    """stderr is shared with the browser a login starts; each of our lines goes out in one write, so a
    neighbour's line can never land between a line's text and its newline. A SOCK_SEQPACKET stderr keeps
    every write a packet of its own."""
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    with ours, theirs:
        result = subprocess.run(
            [sys.executable, "-m", "loopauth", "token", "--profile", "nobody"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=theirs.fileno(), timeout=60, check=False,
        )  # fmt: skip
        theirs.close()
        writes = []
        while packet := ours.recv(65536):
            writes.append(packet.decode())
    assert result.returncode == 7
    assert len(writes) == 1
    assert writes[0].startswith("loopauth: error: ")
    assert writes[0].endswith("\n")


def test_token_for_unknown_profile_exits_7() -> None:
    """Not logged in: exit 7 with one line naming the profile."""
    result = run_cli("token", "--profile", "nobody")
    assert result.returncode == 7
    assert result.stderr.count("\n") == 1
    assert "run `loopauth login --profile nobody`" in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ("login", "--port", "notaport"),
        ("frobnicate",),
        ("login",),  # no consumer key anywhere
        ("login", "--consumer-key", "k", "--consumer-secret", "s", "--host", "0.0.0.0"),  # noqa: S104
        (
            "login",
            "--consumer-key",
            "k",
            "--consumer-secret",
            "s",
            "--request-token-url",
            "http://example.com/x",
            "--authorize-url",
            "http://example.com/a",
            "--access-token-url",
            "http://example.com/t",
        ),
        ("token", "--profile", "../etc"),
        ("login", "--consumer-key", "k", "--consumer-secret", "s", "--port", "70000"),
        ("login", "--consumer-key", "k", "--consumer-secret", "s", "--callback-path", "/call%41back"),
        ("login", "--consumer-key", "k", "--consumer-secret", "s", "--timeout", "nan"),
        ("login", "--consumer-key", "k", "--consumer-secret", "s", "--timeout", "-1"),
    ],
)
def test_usage_errors_exit_2_with_one_line(cli: Cli, args: tuple[str, ...]) -> None:
    """Bad input gets one clear line and exit 2, never a traceback."""
    result = cli(*args)
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith("loopauth: error:")


def test_help_documents_exit_codes() -> None:
    """`loopauth --help` lists the exit codes, once for every command (a subprocess: argparse exits after printing
    help); a subcommand's help leaves them out."""
    result = run_cli("--help")
    assert result.returncode == 0
    for code in ("0", "2", "3", "4", "5", "6", "7", "130"):
        assert f"  {code} " in result.stdout
    assert "exit codes:" not in run_cli("login", "--help").stdout


def test_demo_command_completes_without_a_browser() -> None:
    """`loopauth demo` with no browser and no terminal says a scripted user stands in, and logs in."""
    result = run_cli("demo")
    assert result.returncode == 0, result.stderr
    assert "a scripted user opens the login instead of a browser" in result.stderr
    assert "in your browser" not in result.stderr  # says what happens: no browser is opened
    assert f"@{DEMO_SCREEN_NAME}" in result.stdout
    listed = run_cli("list")
    assert "demo" in listed.stdout
    assert DEMO_SCREEN_NAME in listed.stdout


def _stored(profile: str = "demo") -> Credentials:
    creds = Credentials(
        profile=profile,
        provider="demo",
        consumer_key="ck",
        consumer_secret="consumer secret ' $x",
        oauth_token=f"{DEMO_USER_ID}-token",
        oauth_token_secret='token secret " `y`',
        user_id=DEMO_USER_ID,
        screen_name=DEMO_SCREEN_NAME,
    )
    CredentialStore().save(creds)
    return creds


def test_token_env_and_field_outputs(cli: Cli) -> None:
    """--env prints shell-quoted exports that a shell can eval; --field one bare value."""
    creds = _stored()
    env = cli("token", "--profile", "demo", "--env", "--prefix", "X_").stdout
    pairs = dict(line.removeprefix("export ").split("=", 1) for line in env.splitlines())
    assert shlex.split(pairs["X_OAUTH_TOKEN_SECRET"])[0] == creds.oauth_token_secret
    assert shlex.split(pairs["X_CONSUMER_SECRET"])[0] == creds.consumer_secret
    assert cli("token", "--profile", "demo", "--field", "oauth_token_secret").stdout == creds.oauth_token_secret + "\n"
    assert json.loads(cli("token", "--profile", "demo", "--json").stdout)["oauth_token"] == creds.oauth_token


def test_list_never_shows_secrets_and_logout_removes(cli: Cli) -> None:
    """list shows who is logged in, not the secrets; logout deletes; a second logout exits 7."""
    creds = _stored()
    listed = cli("list", "--json")
    assert creds.oauth_token not in listed.stdout
    assert creds.consumer_secret not in listed.stdout
    assert json.loads(listed.stdout)[0]["screen_name"] == DEMO_SCREEN_NAME
    assert DEMO_SCREEN_NAME in cli("list").stdout
    assert cli("logout", "--profile", "demo").returncode == 0
    assert cli("logout", "--profile", "demo").returncode == 7
