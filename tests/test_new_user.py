"""The rough edges a new user meets after the first login: help, typos, a corrupt profile, what `path` prints."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from loopauth.store import CredentialStore

from .conftest import Cli
from .test_store import make_creds

ROOT = Path(__file__).parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_demo_help_says_the_port_is_a_free_one(cli: Cli, capsys: pytest.CaptureFixture[str]) -> None:
    """`demo --help` does not claim the login's fixed port 8470: the demo picks a free one."""
    with pytest.raises(SystemExit):
        cli("demo", "--help")
    text = capsys.readouterr().out
    assert "8470" not in text
    assert "a free one" in text


def test_every_option_of_every_command_has_help() -> None:
    """`--profile`, the URL options and every other option explain themselves in `--help`."""
    import argparse

    from loopauth.cli import build_parser

    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    missing = [
        f"{name} {action.option_strings or action.dest}"
        for name, parser in sub.choices.items()
        for action in parser._actions
        if not action.help
    ]
    assert missing == []


@pytest.mark.parametrize(
    ("args", "suggestion", "help_of"),
    [
        (("login", "--provdier", "x"), "did you mean --provider?", "loopauth login --help"),
        (("request", "--heder", "A: b", "https://e.example/"), "did you mean --header?", "loopauth request --help"),
        (("request", "--jsn", "{}", "https://e.example/"), "did you mean --json?", "loopauth request --help"),
        (("logn",), "did you mean login?", "loopauth --help"),
        (("login", "--signature-method", "HMAC-SHA-1"), "did you mean HMAC-SHA1?", "loopauth login --help"),
    ],
)
def test_a_typo_gets_a_did_you_mean_and_the_subcommands_help(
    cli: Cli, args: tuple[str, ...], suggestion: str, help_of: str
) -> None:
    """A mistyped option or command: exit 2, one line with the likely meant one and the right --help."""
    result = cli(*args)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert suggestion in result.stderr
    assert f"(see '{help_of}')" in result.stderr


def test_a_mistyped_secret_option_does_not_print_the_secret(cli: Cli) -> None:
    """`--consumer-secert S` is reported by its name alone: the value after it is never repeated."""
    result = cli("login", "--consumer-secert", "s3cr3t-value")
    assert result.returncode == 2
    assert "did you mean --consumer-secret?" in result.stderr
    assert "s3cr3t-value" not in result.stderr


def test_list_marks_a_corrupt_profile_briefly_and_says_where_the_detail_is(config_dir: Path, cli: Cli) -> None:
    """The ACCOUNT column holds a short marker; `list --json` and `token` give the reason, worded once."""
    CredentialStore().save(make_creds("good"))
    (config_dir / "profiles" / "broken.json").write_text('{"profile": "broken", "provider": "x')
    listed = cli("list")
    assert listed.returncode == 0
    row = next(line for line in listed.stdout.splitlines() if line.startswith("broken"))
    assert "(unreadable)" in row
    assert len(row) < 80
    assert "loopauth token --profile broken" in listed.stderr
    error = next(e for e in json.loads(cli("list", "--json").stdout) if e["profile"] == "broken")["error"]
    token = cli("token", "--profile", "broken")
    assert token.returncode == 6
    for message in (error, token.stderr):
        assert "not valid JSON (Unterminated string starting at line 1, column 35)" in message
        assert "at at" not in message


def test_path_prints_the_config_directory_as_the_readme_says(config_dir: Path, cli: Cli) -> None:
    """`loopauth path` prints the config directory (profiles/ and providers.toml are in it), and every README
    sentence about it says the same."""
    assert cli("path").stdout == f"{config_dir}\n"
    sentences = [s for s in re.split(r"(?<=[.;])\s", README) if re.search(r"`(loopauth )?path`", s)]
    assert sentences
    for sentence in sentences:
        assert "config" in sentence, sentence


def test_documents_named_in_the_project_exist() -> None:
    """No docstring, comment or README names a Markdown document the project does not have."""
    # The project's own files: its packages and the top level, never a virtualenv's (.venv, .venv-3.13, ...).
    files = [*ROOT.glob("*.md"), *(p for d in ("loopauth", "tests", "scripts") for p in (ROOT / d).rglob("*.py"))]
    for path in files:
        for name in re.findall(r"\b[A-Za-z_]+\.md\b", path.read_text(encoding="utf-8")):
            assert list(ROOT.glob(f"**/{name}")), f"{path.relative_to(ROOT)} names {name}"


@pytest.mark.parametrize("args", [("token", "--profile", "wrok"), ("verify", "--profile", "wrok"), ("switch", "wrok")])
def test_an_unknown_profile_name_suggests_loopauth_list(cli: Cli, args: tuple[str, ...]) -> None:
    """A profile name that is not there (a typo, often) while others are: exit 7, and the line names `loopauth
    list` beside the login; with no profile stored at all, there is nothing to list and only the login is named."""
    alone = cli(*args)
    assert alone.returncode == 7
    assert alone.stderr == ("loopauth: error: not logged in: no profile 'wrok' (run `loopauth login --profile wrok`)\n")
    CredentialStore().save(make_creds("work"))
    typo = cli(*args)
    assert typo.returncode == 7
    assert typo.stderr == (
        "loopauth: error: not logged in: no profile 'wrok' (run `loopauth login --profile wrok`, or see "
        "`loopauth list` for the stored ones)\n"
    )
