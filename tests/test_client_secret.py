"""An OAuth 2.0 client secret off the command line, as the consumer secret is: `--client-secret-file FILE`, or
`--client-secret` alone for a prompt without echo, in `login` and `add`; `--help` says why."""

from __future__ import annotations

import os
import pty
import select
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from loopauth.cli.parser import parse
from loopauth.models import OAuth2Credentials
from loopauth.store import CredentialStore

from .conftest import Cli, run_cli

SECRET = "CS-from-a-file +/&=%"


@pytest.mark.parametrize("verb", ["login", "add"])
def test_help_says_every_local_user_can_read_a_command_line(verb: str) -> None:
    """--help next to --client-secret: the environment, the file, the prompt, and why."""
    out = " ".join(run_cli(verb, "--help").stdout.split())  # argparse wraps the help: read it as one line
    assert "every local user can read a command line (ps, /proc/PID/cmdline)" in out
    assert "$LOOPAUTH_CLIENT_SECRET" in out
    assert "--client-secret alone, which asks for it on the terminal without echo" in out


def test_login_reads_the_client_secret_from_its_file(tmp_path: Path) -> None:
    """The first line of --client-secret-file, stripped, is the login's client secret."""
    path = tmp_path / "secret"
    path.write_text(f"{SECRET}\nignored\n")
    command = parse(["login", "--provider", "x-oauth2", "--client-secret-file", str(path)])
    assert command.options.client_secret == SECRET  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("--client-secret-file", "/nonexistent/secret"), "--client-secret-file /nonexistent/secret: cannot read"),
        (("--client-secret-file", "EMPTY"), "expected the secret on its first line"),
        (("--client-secret", "S", "--client-secret-file", "F"), "not allowed with argument"),
    ],
)
def test_a_bad_client_secret_file_is_a_usage_error(cli: Cli, tmp_path: Path, args: tuple[str, ...], words: str) -> None:
    """Exit 2, one line, for login and add alike."""
    empty = tmp_path / "empty"
    empty.write_text("\n")
    argv = [str(empty) if a == "EMPTY" else a for a in args]
    for verb in ("login", "add"):
        result = cli(verb, "--provider", "x-oauth2", "--client-id", "id", *argv)
        assert result.returncode == 2, result.stderr
        assert words in result.stderr
        assert result.stderr.count("\n") == 1


def test_add_stores_the_client_secret_from_its_file(tmp_path: Path) -> None:
    """`add --client-secret-file`: the secret is stored with the tokens (for refreshes), and never on argv."""
    path = tmp_path / "secret"
    path.write_text(SECRET + "\n")
    result = run_cli(
        "add", "--provider", "x-oauth2", "--client-id", "id", "--client-secret-file", str(path), "--no-verify",
        input="AT-1\nRT-1\n",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    creds = CredentialStore().load("default")
    assert isinstance(creds, OAuth2Credentials)
    assert (creds.client_secret, creds.access_token, creds.refresh_token) == (SECRET, "AT-1", "RT-1")


def test_client_secret_alone_without_a_terminal_says_where_else_to_give_it() -> None:
    """Nothing to prompt on: exit 2, one line naming the environment variable and the file option."""
    result = run_cli("add", "--provider", "x-oauth2", "--client-id", "id", "--client-secret", "--no-verify")
    assert result.returncode == 2
    assert result.stderr == (
        "loopauth: error: --client-secret without a value asks on a terminal, and there is none: "
        "use $LOOPAUTH_CLIENT_SECRET or --client-secret-file FILE\n"
    )


@pytest.mark.skipif(shutil.which("setsid") is None, reason="util-linux's setsid is not installed")
def test_client_secret_alone_asks_on_the_terminal_without_echo(config_dir: Path) -> None:
    """`--client-secret` alone on a terminal: asked for, not echoed, stored; then the tokens, not echoed either."""
    master, terminal = pty.openpty()
    argv = ["add", "--provider", "x-oauth2", "--client-id", "id", "--client-secret", "--no-verify"]
    # `setsid -c` makes the pseudo-terminal loopauth's controlling one, as a login shell's is (getpass uses /dev/tty).
    with subprocess.Popen(
        ["setsid", "-c", sys.executable, "-m", "loopauth", *argv],
        stdin=terminal, stdout=terminal, stderr=terminal,
    ) as proc:  # fmt: skip
        os.close(terminal)
        seen = b""
        try:
            for prompt, answer in (
                (b"OAuth 2.0 client secret (not shown): ", SECRET),
                (b"Access token for x-oauth2 (not shown): ", "AT-typed"),
                (b"Refresh token, if any (Enter for none) (not shown): ", ""),
            ):
                seen += _read_until(master, prompt, seen)
                os.write(master, answer.encode() + b"\n")
            seen += _read_until(master, b"saved as profile 'default'", seen)
            assert proc.wait(timeout=30) == 0, seen
        finally:
            os.close(master)
    assert SECRET.encode() not in seen
    assert b"AT-typed" not in seen
    creds = CredentialStore().load("default")
    assert isinstance(creds, OAuth2Credentials)
    assert (creds.client_secret, creds.access_token) == (SECRET, "AT-typed")


def _read_until(fd: int, wanted: bytes, before: bytes, timeout: float = 20) -> bytes:
    """What the terminal shows next, up to and including ``wanted``."""
    got = b""
    deadline = time.monotonic() + timeout
    while wanted not in got:
        left = deadline - time.monotonic()
        assert left > 0, f"no {wanted!r} after {before + got!r}"
        if select.select([fd], [], [], left)[0]:
            try:
                chunk = os.read(fd, 4096)
            except OSError:
                break
            got += chunk
    return got
