"""The argparse tree. It only routes: each verb group adds its subcommands, and parsing yields a typed command."""

from __future__ import annotations

import argparse
import difflib
import re
from collections.abc import Callable, Sequence
from typing import NoReturn, Protocol

from .._version import __version__
from ..errors import UsageError

EXIT_CODES = """\
exit codes:
  0    ok
  1    internal error
  2    usage error (bad arguments, unknown provider, malformed providers.toml)
  3    denied: the user refused access on the provider's page
  4    timed out waiting for the browser to come back
  5    provider or network error
  6    local problem: port busy, config dir unusable, corrupt credential file
  7    not logged in: no such profile, or one that needs a new login
  126  exec: the command cannot be run
  127  exec: the command is not found
  130  interrupted (Ctrl-C)
"""


class Command(Protocol):
    """A parsed command line: its options, typed, and the work to do."""

    def run(self) -> int: ...


Make = Callable[[argparse.Namespace], Command]


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (and exit 2), like every other failure, with a "did you mean"."""

    def error(self, message: str) -> NoReturn:
        choice = _INVALID_CHOICE.search(message)
        if choice:
            message += _did_you_mean(choice[1], re.findall(r"[^\s',]+", choice[2]))
        raise UsageError(f"{message} (see '{self.prog} --help')")

    def unrecognized(self, extras: Sequence[str]) -> NoReturn:
        """Arguments this (sub)command does not take, named by this parser so its --help is the one suggested.

        Only the unknown options are repeated, not the values after them: ``--consumer-secert S`` must not
        print the secret.
        """
        options = [extra.split("=", 1)[0] for extra in extras if extra.startswith("-") and extra != "-"]
        if not options:
            self.error(f"unrecognized arguments: {' '.join(extras)}")
        known = [flag for action in self._actions for flag in action.option_strings if flag.startswith("--")]
        hints = "".join(_did_you_mean(option, known) for option in options[:1])
        self.error(f"unrecognized option{'s' if len(options) > 1 else ''} {' '.join(options)}{hints}")


_INVALID_CHOICE = re.compile(r"invalid choice: '([^']*)' \(choose from (.*)\)")


def _did_you_mean(word: str, candidates: Sequence[str]) -> str:
    close = difflib.get_close_matches(word, candidates, n=1, cutoff=0.6)
    return f"; did you mean {close[0]}?" if close else ""


class Commands:
    """Adds subcommands that share the description, epilog and exit-code table."""

    def __init__(self, sub: argparse._SubParsersAction[Parser]) -> None:
        self._sub = sub

    def add(self, name: str, help: str, make: Make, *, example: str | None = None) -> Parser:
        epilog = (f"example:\n  {example}\n\n" if example else "") + EXIT_CODES
        parser = self._sub.add_parser(
            name, help=help, description=help, epilog=epilog, formatter_class=argparse.RawDescriptionHelpFormatter
        )
        parser.set_defaults(make=make)
        return parser


def build_parser() -> Parser:
    from . import add, calls, completion, credential, execute, login, profiles, providers, status, switch

    parser = Parser(
        prog="loopauth",
        description="One-command OAuth login through a loopback callback.",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"loopauth {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    sub.required = True
    commands = Commands(sub)
    login.register(commands)
    add.register(commands)
    profiles.register(commands)
    switch.register(commands)
    status.register(commands)
    execute.register(commands)
    calls.register(commands)
    providers.register(commands)
    completion.register(commands)
    credential.register(commands)
    return parser


def parse(argv: Sequence[str]) -> Command:
    parser = build_parser()
    args, extras = parser.parse_known_args(argv)
    if extras:
        # argparse would report them from the top parser ("see 'loopauth --help'"); the subcommand's own
        # parser knows its options and names its own --help.
        sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        owner: Parser = sub.choices.get(args.command, parser)
        owner.unrecognized(extras)
    make: Make = args.make
    return make(args)
