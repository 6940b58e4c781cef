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
        match = re.match(r"loopauth (\w+)", line)
        if match:
            command = match.group(1)
        if command:
            flags.setdefault(command, set()).update(re.findall(r"--[a-z][a-z0-9-]*", line))
    return flags


def _subparser_flags(command: str) -> set[str]:
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return {opt for action in sub.choices[command]._actions for opt in action.option_strings}


@pytest.mark.parametrize("command", sorted(_synopsis()))
def test_every_flag_in_the_readme_synopsis_exists(command: str) -> None:
    """Each flag the README's synopsis shows is accepted by that subcommand."""
    assert _synopsis()[command] <= _subparser_flags(command)


def test_readme_exit_codes_match_the_code() -> None:
    """The README's exit-code table lists exactly the codes loopauth uses."""
    table = {int(code) for code in re.findall(r"^\| (\d+) \|", README, re.MULTILINE)}
    used = {value for name, value in vars(errors).items() if name.startswith("EXIT_")}
    assert table == used
