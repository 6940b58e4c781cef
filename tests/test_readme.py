"""README claims that can rot: the CLI synopsis and the exit-code table must match the real CLI."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

from loopauth import errors
from loopauth.cli import build_parser

README = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")


def _synopsis() -> dict[str, set[str]]:
    block = README.split("## Command line", 1)[1].split("```", 2)[1]
    flags: dict[str, set[str]] = {}
    command = ""
    for line in block.splitlines():
        match = re.match(r"loopauth (\w+|-)", line)
        if match:
            command = "" if match.group(1) == "-" else match.group(1)  # `loopauth --version`: the top level
        if match or command:
            flags.setdefault(command, set()).update(re.findall(r"--[a-z][a-z0-9-]*", line))
    return flags


def _subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return {"": parser, **sub.choices}


def _subparser_flags(command: str) -> set[str]:
    parsers = [_subcommands()[command]]
    if command:  # `credential git|kubectl|docker`: the flags of a subcommand's own subcommands count too
        parsers += [
            nested
            for action in parsers[0]._actions
            if isinstance(action, argparse._SubParsersAction)
            for nested in action.choices.values()
        ]
    return {opt for parser in parsers for action in parser._actions for opt in action.option_strings}


@pytest.mark.parametrize("command", sorted(_synopsis()))
def test_every_flag_in_the_readme_synopsis_exists(command: str) -> None:
    """Each flag the README's synopsis shows is accepted by that subcommand."""
    assert _synopsis()[command] <= _subparser_flags(command)


def test_the_readme_synopsis_shows_every_subcommand_and_version() -> None:
    """No subcommand is missing from the synopsis, nor is `loopauth --version`."""
    assert set(_synopsis()) == set(_subcommands())
    assert "--version" in _synopsis()[""]


def test_every_subcommands_help_has_examples_and_only_the_top_level_the_exit_codes() -> None:
    """`loopauth CMD --help` ends with one or two example lines, each running that command (`login`'s: one per
    protocol); the exit-code table, 126 and 127 included, is in `loopauth --help` alone, after an example."""
    for name, parser in _subcommands().items():
        help = parser.format_help()
        if not name:
            assert "\n  127  exec: the command is not found\n" in help
            assert "\nexamples:\n  loopauth " in help.split("\nexit codes:\n", 1)[0]
            continue
        assert "exit codes:" not in help, name
        heading = "\nexamples:\n" if "\nexamples:\n" in help else "\nexample:\n"
        examples = help.split(heading, 1)[1].rstrip("\n").split("\n") if heading in help else []
        assert 1 <= len(examples) <= 2, name
        assert all(f"loopauth {name}" in example for example in examples), name
        assert len(examples) == 2 if heading == "\nexamples:\n" else len(examples) == 1, name
    login = _subcommands()["login"].format_help()
    assert "(OAuth 1.0a" in login
    assert "(OAuth 2.0" in login


def test_version_prints_the_package_version(capsys: pytest.CaptureFixture[str]) -> None:
    """`loopauth --version`: `loopauth X.Y.Z`, the installed version."""
    from loopauth import __version__

    with pytest.raises(SystemExit) as exited:
        build_parser().parse_args(["--version"])
    assert exited.value.code == 0
    assert capsys.readouterr().out == f"loopauth {__version__}\n"
    assert re.fullmatch(r"\d+\.\d+\.\d+", __version__)


def test_every_listing_command_has_json() -> None:
    """list, providers and status, the commands that list things, each take --json."""
    for name in ("list", "providers", "status"):
        assert "--json" in _subparser_flags(name), name


def test_readme_exit_codes_match_the_code() -> None:
    """The README's exit-code table lists exactly the codes loopauth uses."""
    table = {int(code) for code in re.findall(r"^\| (\d+) \|", README, re.MULTILINE)}
    used = {value for name, value in vars(errors).items() if name.startswith("EXIT_")}
    assert table == used
