"""Issue 6: the paths other tools hit at every start stay free of the heavy imports."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import loopauth.cli
from loopauth.cli import build_parser
from loopauth.cli.names import plain_names_flag
from loopauth.cli.token import plain_token_args

# keyring (and what it brings, ~60 ms) only for a keyring profile; config.toml (tomllib) only when choosing a store.
HEAVY = (
    "aiohttp",
    "oauthlib",
    "asyncio",
    "argparse",
    "dataclasses",
    "platformdirs",
    "keyring",
    "secretstorage",
    "jeepney",
    "tomllib",
    "loopauth.store.keyring",
    "loopauth.store.choice",
)
CREDS = {
    "profile": "default",
    "provider": "demo",
    "consumer_key": "ck",
    "consumer_secret": "cs",
    "oauth_token": "t",
    "oauth_token_secret": "ts",
    "user_id": "1",
    "screen_name": "u",
}


def write_profile(config: Path) -> None:
    profiles = config / "profiles"
    profiles.mkdir()
    f = profiles / "default.json"
    f.write_text(json.dumps(CREDS))
    f.chmod(0o600)


@pytest.mark.parametrize(
    "code",
    [
        "import loopauth; loopauth.load()",
        "from loopauth.cli import main; main(['token', '--json'])",
    ],
)
def test_fast_paths_import_nothing_heavy(tmp_path: Path, code: str) -> None:
    write_profile(tmp_path)
    check = f"{code}\nimport sys\nprint([m for m in {HEAVY!r} if m in sys.modules])"
    out = subprocess.run(
        [sys.executable, "-c", check],
        env=dict(os.environ, LOOPAUTH_CONFIG_DIR=str(tmp_path)),
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert out.strip().splitlines()[-1] == "[]"


# A plain `loopauth token` is read without argparse; these must mean the same either way.
PLAIN_TOKEN_ARGVS = [
    ["token"],
    ["token", "--json"],
    ["token", "--env"],
    ["token", "--profile", "work"],
    ["token", "--profile=work", "--json"],
    ["token", "--json", "--profile", "work"],
    ["token", "--field", "oauth_token"],
    ["token", "--field=user_id", "--profile=x"],
    ["token", "--prefix", "TW_"],
    ["token", "--prefix=", "--env"],
    ["token", "--profile", ""],
    ["token", "--profile", "a=b"],
]
# Left to argparse: abbreviations, help, repeats, conflicts, mistakes, other commands.
ARGPARSE_ARGVS = [
    ["token", "--js"],
    ["token", "--prof", "work"],
    ["token", "-h"],
    ["token", "--help"],
    ["token", "--json", "--json"],
    ["token", "--profile", "a", "--profile", "b"],
    ["token", "--json", "--env"],
    ["token", "--json", "--field", "user_id"],
    ["token", "--profile"],
    ["token", "--profile", "-x"],
    ["token", "--json=1"],
    ["token", "--", "--json"],
    ["token", "extra"],
    ["--version"],
    ["list"],
    [],
]


@pytest.mark.parametrize("argv", PLAIN_TOKEN_ARGVS, ids=" ".join)
def test_plain_token_args_read_as_argparse_does(argv: list[str]) -> None:
    args = build_parser().parse_args(argv)
    expected = {"profile": args.profile, "json_out": args.json, "field": args.field, "prefix": args.prefix}
    assert plain_token_args(argv) == expected


@pytest.mark.parametrize("argv", ARGPARSE_ARGVS, ids=lambda argv: " ".join(argv) or "(none)")
def test_anything_else_is_left_to_argparse(argv: list[str]) -> None:
    assert plain_token_args(argv) is None


def test_plain_and_argparse_token_paths_print_the_same(tmp_path: Path) -> None:
    """The same request through the fast reading and through argparse (an abbreviation) prints the same bytes."""
    write_profile(tmp_path)
    env = dict(os.environ, LOOPAUTH_CONFIG_DIR=str(tmp_path))

    def run(*args: str) -> tuple[int, str, str]:
        proc = subprocess.run([sys.executable, "-m", "loopauth", *args], env=env, capture_output=True, text=True)
        return proc.returncode, proc.stdout, proc.stderr

    for fast, slow in [
        (["token", "--json"], ["token", "--js"]),
        (["token", "--env"], ["token", "--en"]),
        (["token", "--field", "screen_name"], ["token", "--fie", "screen_name"]),
        (["token", "--prefix", "X_"], ["token", "--pre", "X_"]),
        (["token", "--prefix", "1X"], ["token", "--pre", "1X"]),
        (["token", "--field", "nope"], ["token", "--fie", "nope"]),
        (["token", "--profile", "missing"], ["token", "--prof", "missing"]),
        (["token", "--profile", "../x"], ["token", "--prof", "../x"]),
    ]:
        assert plain_token_args(fast) is not None
        assert plain_token_args(slow) is None
        assert run(*fast) == run(*slow)
    assert run("token", "--json")[0] == 0
    assert run("token", "--profile", "missing")[0] == 7


@pytest.mark.parametrize("unbuffered", ["", "1"], ids=["buffered", "unbuffered"])
def test_output_that_cannot_be_written_is_an_error_not_a_silent_exit(tmp_path: Path, unbuffered: str) -> None:
    """run() leaves with os._exit, so the output is flushed before: a full disk must still be reported."""
    write_profile(tmp_path)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    env.update(LOOPAUTH_CONFIG_DIR=str(tmp_path), PYTHONUNBUFFERED=unbuffered)
    cmd = [sys.executable, "-m", "loopauth", "token", "--json"]
    with open("/dev/full", "w") as full:
        proc = subprocess.run(cmd, env=env, stdout=full, stderr=subprocess.PIPE, text=True)
    assert proc.returncode == 6
    assert proc.stderr == "loopauth: error: cannot write the output: No space left on device\n"
    # A reader that leaves early is not a failure (`loopauth token | head -c0`).
    with subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as gone:
        assert gone.stdout is not None
        assert gone.stderr is not None
        gone.stdout.close()
        assert gone.stderr.read() == b""
        assert gone.wait() == 0


# The modules that implement subcommands (and their helpers). The routing (loopauth.cli, cli.parser) and the fast
# path (cli.token, which every command line passes first) are not among them.
COMMAND_MODULES = tuple(
    f"loopauth.cli.{name}"
    for name in (
        "add",
        "bodies",
        "calls",
        "completion",
        "errors",
        "execute",
        "login",
        "names",
        "output",
        "profiles",
        "providers",
        "serve",
        "status",
        "switch",
    )
)
# What only a login or a request needs: none of it for a verb that reads a profile and prints.
LOGIN_AND_NETWORK = ("aiohttp", "asyncio", "http.client", "ssl", "loopauth.api", "loopauth.loopback.options")
OAUTH2_CREDS = {
    "protocol": "oauth2",
    "profile": "default",
    "provider": "x-oauth2",
    "client_id": "cid",
    "access_token": "at",
    "token_type": "bearer",
    "expires_at": 4_000_000_000,
    "issued_at": 1_700_000_000,
    "scope": "tweet.read",
    "user_id": "1",
    "screen_name": "u",
    "endpoints": {
        "name": "x-oauth2",
        "protocol": "oauth2",
        "authorize_url": "https://x.com/i/oauth2/authorize",
        "token_url": "https://api.x.com/2/oauth2/token",
        "scopes": ["tweet.read"],
    },
}


def _loaded_by(config: Path, argv: list[str]) -> tuple[int | str | None, set[str]]:
    """``main(argv)`` in a fresh interpreter: its exit code (argparse's SystemExit for --help/--version) and the
    modules it loaded."""
    code = (
        "import json, sys\n"
        "from loopauth.cli import main\n"
        "try:\n"
        f"    code = main({argv!r})\n"
        "except SystemExit as exc:\n"
        "    code = exc.code\n"
        "print(json.dumps([code, sorted(sys.modules)]), file=sys.stderr)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        env=dict(os.environ, LOOPAUTH_CONFIG_DIR=str(config)),
        capture_output=True,
        text=True,
        check=True,
    )
    exit_code, modules = json.loads(proc.stderr.strip().splitlines()[-1])
    return exit_code, set(modules)


@pytest.mark.parametrize("argv", [["--version"], ["--help"], ["login", "--help"]], ids=" ".join)
def test_help_and_version_import_no_command(tmp_path: Path, argv: list[str]) -> None:
    """The argparse tree is built without importing what runs any subcommand."""
    exit_code, loaded = _loaded_by(tmp_path, argv)
    assert exit_code == 0
    assert "loopauth.cli.parser" in loaded  # the check looks where it should
    assert sorted(loaded.intersection(COMMAND_MODULES)) == []
    assert sorted(loaded.intersection(LOGIN_AND_NETWORK)) == []


@pytest.mark.parametrize(
    ("protocol", "argv", "own"),
    [
        ("oauth1", ["header", "GET", "https://api.example/x"], {"calls", "errors", "output"}),
        ("oauth2", ["header", "GET", "https://api.example/x"], {"calls", "errors", "output"}),
        ("oauth1", ["status"], {"status", "output"}),
        ("oauth1", ["list"], {"profiles", "output"}),
        ("oauth1", ["exec", "--", "true"], {"execute", "errors"}),
    ],
    ids=lambda value: value if isinstance(value, str) else " ".join(value) if isinstance(value, list) else "",
)
def test_each_verb_imports_only_its_own_command(tmp_path: Path, protocol: str, argv: list[str], own: set[str]) -> None:
    """A verb loads its own module (and the shared output and error helpers), no other verb's, and nothing of the
    login or the network: an OAuth 2.0 header is the token, no request; an OAuth 1.0a one loads http.client only
    because oauthlib's signing does."""
    if protocol == "oauth2":
        profiles = tmp_path / "profiles"
        profiles.mkdir()
        (profiles / "default.json").write_text(json.dumps(OAUTH2_CREDS))
        (profiles / "default.json").chmod(0o600)
    else:
        write_profile(tmp_path)
    if argv[0] == "exec":
        # exec replaces the process; ask for a command that is not there, so main() returns (127) and reports.
        argv = ["exec", "--", "loopauth-no-such-command"]
    exit_code, loaded = _loaded_by(tmp_path, argv)
    assert exit_code == (127 if argv[0] == "exec" else 0)
    assert sorted(loaded.intersection(COMMAND_MODULES)) == sorted(f"loopauth.cli.{name}" for name in own)
    network = [m for m in LOGIN_AND_NETWORK if m in loaded]
    assert network == (["http.client", "ssl"] if protocol == "oauth1" and argv[0] == "header" else [])


def test_the_parsers_copies_of_store_names_and_prefix_agree_with_their_owners() -> None:
    """parser.py spells out ``--store``'s choices and the env prefix so that defining them loads no store."""
    from loopauth.cli import parser, token
    from loopauth.store import STORES

    assert parser.STORES == STORES
    assert parser.DEFAULT_PREFIX == token.DEFAULT_PREFIX


@pytest.mark.parametrize(
    ("argv", "flag"),
    [
        (["completion", "--profiles"], "--profiles"),
        (["completion", "--providers"], "--providers"),
        (["completion", "--profiles", "--providers"], None),
        (["completion", "--profiles", "--profiles"], None),
        (["completion", "--profiles=x"], None),
        (["completion", "--prof"], None),
        (["completion", "bash"], None),
        (["completion"], None),
        (["token", "--profiles"], None),
    ],
    ids=lambda value: " ".join(value) if isinstance(value, list) else str(value),
)
def test_the_names_a_completion_asks_for_are_read_plainly(argv: list[str], flag: str | None) -> None:
    assert plain_names_flag(argv) == flag


def test_every_line_read_without_argparse_is_read_by_the_one_reader() -> None:
    """The modules `_dispatch` reads command lines for (token, credential, the completion names) hand them to
    cli/plain.py's reader: none of them reads options itself."""
    cli = Path(loopauth.cli.__file__).parent
    for module in ("__init__.py", "token.py", "credential.py", "names.py"):
        source = (cli / module).read_text(encoding="utf-8")
        assert 'partition("=")' not in source, module
        assert ".pop(0)" not in source, module
    assert 'partition("=")' in (cli / "plain.py").read_text(encoding="utf-8")
