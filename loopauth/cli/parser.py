"""The argparse tree. It only routes: each verb group adds its subcommands, and parsing yields a typed command."""

from __future__ import annotations

import argparse
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
  7    not logged in: no such profile
  130  interrupted (Ctrl-C)
"""


class Command(Protocol):
    """A parsed command line: its options, typed, and the work to do."""

    def run(self) -> int: ...


Make = Callable[[argparse.Namespace], Command]


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (and exit 2), like every other failure."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see '{self.prog} --help')")


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
    from . import calls, login, profiles, providers

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
    profiles.register(commands)
    calls.register(commands)
    providers.register(commands)
    return parser


def parse(argv: Sequence[str]) -> Command:
    args = build_parser().parse_args(argv)
    make: Make = args.make
    return make(args)
