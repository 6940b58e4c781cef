"""``loopauth exec``: run a command with a profile's credentials in its environment, and nowhere else.

The credentials go into the new program's environment only (never its command line, nor our output), under
the names ``loopauth token --env`` prints, or the names ``--map`` gives them. loopauth then *becomes* the
command (``execvpe``): the same process, so signals, the terminal, stdin and stdout are the command's own,
and so is the exit status. What a shell says when a command cannot be run, loopauth says too: 127 when it
is not found, 126 when it cannot be executed.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import sys
from collections.abc import Mapping, Sequence
from typing import NamedTuple  # not dataclasses: its import (inspect) cost every run ~10 ms

from ..errors import EXIT_CANNOT_EXECUTE, EXIT_NOT_FOUND, LoopAuthError, UsageError
from ..fresh import load_fresh
from ..models import AnyCredentials
from .token import ENV_FIELDS, ENV_FIELDS_OAUTH2, env_pairs

_VARIABLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class CommandNotFound(LoopAuthError):
    """``exec``'s command is not on PATH (or not at the path given): exit 127, as a shell's."""

    exit_code = EXIT_NOT_FOUND


class CannotExecute(LoopAuthError):
    """``exec``'s command exists but cannot be run (no permission, not a program): exit 126, as a shell's."""

    exit_code = EXIT_CANNOT_EXECUTE


def parse_maps(pairs: Sequence[str]) -> list[tuple[str, str]]:
    """--map FIELD=VAR, checked for shape (which fields exist depends on the profile's protocol)."""
    maps: list[tuple[str, str]] = []
    for pair in pairs:
        field, sep, var = pair.partition("=")
        if not sep or not field or not _VARIABLE.fullmatch(var):
            raise UsageError(f"--map takes FIELD=VAR, VAR an environment variable name, got {pair!r}")
        maps.append((field, var))
    return maps


def exec_environment(
    creds: AnyCredentials, prefix: str, maps: Sequence[tuple[str, str]], base: Mapping[str, str]
) -> dict[str, str]:
    """``base`` with the profile's credentials added: ``token --env``'s names, except the fields ``maps`` renames.

    Every name the profile's fields could have is cleared first, so a value another profile left in the
    parent's environment (an earlier ``eval "$(loopauth token)"``) never passes for this profile's.
    """
    data = creds.token_dict()
    names = ENV_FIELDS_OAUTH2 if creds.protocol == "oauth2" else ENV_FIELDS
    fields = [name for name, value in data.items() if not isinstance(value, dict)]
    for field, _ in maps:
        if field == "refresh_token":
            raise UsageError("the refresh token never leaves loopauth: it rotates, and loopauth refreshes for you")
        if field not in fields:
            raise UsageError(f"--map: unknown field {field!r} for this profile (choose from {', '.join(fields)})")
    mapped = {field for field, _ in maps}
    env = dict(base)
    for name, _ in env_pairs(dict.fromkeys(names, ""), names, prefix):
        env.pop(name, None)
    env.update(env_pairs(data, [name for name in names if name not in mapped], prefix))
    for field, var in maps:
        env.pop(var, None)
        if data.get(field) is not None:
            env[var] = str(data[field])
    return env


class ExecCommand(NamedTuple):
    profile: str | None
    prefix: str
    maps: list[tuple[str, str]]
    command: list[str]

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> ExecCommand:
        command = list(args.command)
        if command[:1] == ["--"]:
            command = command[1:]
        if not command:
            raise UsageError("exec needs a command to run: loopauth exec [--profile P] -- CMD [ARGS...]")
        return cls(args.profile, args.prefix, parse_maps(args.map), command)

    def run(self) -> int:
        # Everything that can fail for loopauth's own reasons does so before anything runs.
        creds = load_fresh(self.profile)
        env = exec_environment(creds, self.prefix, self.maps, os.environ)
        program = self.command[0]
        sys.stdout.flush()
        sys.stderr.flush()
        _default_signals()
        try:
            # The user's own command line, run as they typed it (no shell): that is what exec is for.
            os.execvpe(program, self.command, env)  # noqa: S606
        except FileNotFoundError:
            raise CommandNotFound(f"{program}: command not found") from None
        except (PermissionError, IsADirectoryError):
            raise CannotExecute(f"{program}: permission denied") from None
        except OSError as exc:
            raise CannotExecute(f"{program}: cannot execute: {exc.strerror or exc}") from None
        raise AssertionError("unreachable: execvpe returns only by raising")


def _default_signals() -> None:
    """Undo what the Python runtime changed: it ignores SIGPIPE and SIGXFSZ, and ignored signals stay ignored
    across exec, so ``loopauth exec -- yes | head -1`` would never end ``yes`` (subprocess restores them too)."""
    for name in ("SIGPIPE", "SIGXFSZ"):
        number = getattr(signal, name, None)
        if number is not None:
            signal.signal(number, signal.SIG_DFL)
