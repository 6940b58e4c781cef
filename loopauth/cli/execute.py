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
from ..protocols import access_for, every_env_field
from .token import env_pairs

_VARIABLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

# Variables whose value makes the dynamic loader, a shell, an interpreter or a tool load or run code, or send
# traffic or trust elsewhere. A credential must never land in one: its value is the provider's to choose (an
# access token may be "/tmp/x.so"; an account name may be anything), so `--map screen_name=LD_PRELOAD` would let
# the provider pick a library for every program CMD starts. Compared case-insensitively (http_proxy, Windows).
_DANGEROUS_PREFIXES = (
    "LD_", "DYLD_", "_RLD", "GLIBC_", "MALLOC_",  # ld.so and glibc (glibc's unsecvars.h, Looney Tunables)
    "BASH_FUNC_",  # exported bash functions
    "PYTHON", "PERL", "RUBY", "NODE_", "LUA_", "JAVA_", "_JAVA_", "JDK_JAVA_", "DOTNET_", "COMPLUS_",  # interpreters
    "GIT_",  # GIT_SSH_COMMAND, GIT_ASKPASS, GIT_CONFIG_*, GIT_EXEC_PATH, ...
    "LC_", "OPENSSL_", "SSL_",  # locale files, OpenSSL engines and trust
)  # fmt: skip
_DANGEROUS_NAMES = frozenset(
    {
        # shells
        "PATH", "IFS", "ENV", "BASH_ENV", "CDPATH", "SHELLOPTS", "BASHOPTS", "GLOBIGNORE", "PROMPT_COMMAND",
        "PS1", "PS2", "PS3", "PS4", "ZDOTDIR", "HOME", "SHELL", "TMPDIR", "INPUTRC", "HISTFILE",
        # glibc: modules, locales, resolver (unsecvars.h)
        "GCONV_PATH", "GETCONF_DIR", "HOSTALIASES", "LOCALDOMAIN", "LOCPATH", "NIS_PATH", "NLSPATH",
        "RESOLV_HOST_CONF", "RES_OPTIONS", "TZDIR", "LANG", "LANGUAGE", "TERMINFO", "TERMINFO_DIRS",
        # interpreters and their search paths
        "CLASSPATH", "PHPRC", "PHP_INI_SCAN_DIR", "TCLLIBPATH",
        # programs that other programs run
        "EDITOR", "VISUAL", "PAGER", "MANPAGER", "BROWSER", "LESSOPEN", "LESSCLOSE", "SSH_ASKPASS", "SUDO_ASKPASS",
        "XDG_CONFIG_HOME", "XDG_CONFIG_DIRS", "XDG_DATA_HOME", "XDG_DATA_DIRS",
        # where traffic goes and whom it trusts
        "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "FTP_PROXY", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE",
        # which profiles and providers a loopauth that CMD runs would use
        "LOOPAUTH_CONFIG_DIR", "LOOPAUTH_STORE", "LOOPAUTH_PROFILE",
    }
)  # fmt: skip


def dangerous_variable(name: str) -> bool:
    """Whether a credential must not be put in ``$name`` (see ``_DANGEROUS_NAMES``)."""
    upper = name.upper()
    return upper in _DANGEROUS_NAMES or upper.startswith(_DANGEROUS_PREFIXES)


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
        if dangerous_variable(var):
            raise UsageError(
                f"--map {field}={var}: refusing ${var}, which makes programs load or run code (or send traffic) "
                "from its value; choose a name of your own"
            )
        maps.append((field, var))
    return maps


def check_prefix(prefix: str) -> str:
    """--prefix, refused when one of the names it makes (for either protocol) is a dangerous variable."""
    for field in every_env_field():
        name = f"{prefix}{field.upper()}"
        if dangerous_variable(name):
            raise UsageError(f"--prefix {prefix}: refusing ${name}, which makes programs load or run code")
    return prefix


def exec_environment(
    creds: AnyCredentials, prefix: str, maps: Sequence[tuple[str, str]], base: Mapping[str, str]
) -> dict[str, str]:
    """``base`` with the profile's credentials added: ``token --env``'s names, except the fields ``maps`` renames.

    Every name the profile's fields could have is cleared first, so a value another profile left in the
    parent's environment (an earlier ``eval "$(loopauth token)"``) never passes for this profile's.
    """
    data = creds.token_dict()
    names = access_for(creds).env_fields
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
        return cls(args.profile, check_prefix(args.prefix), parse_maps(args.map), command)

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
