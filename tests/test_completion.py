"""`loopauth completion`: the scripts, loaded in a real bash (and zsh and fish, where installed), asked what they
offer; and the names they ask loopauth for at each <TAB>, read fast and without an error ever reaching the line."""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from loopauth.cli import build_parser
from loopauth.store import CredentialStore

from .test_store import make_creds

BIN = str(Path(sys.executable).parent)
"""Where this virtualenv's `loopauth` is: the scripts run the program the user typed, found on PATH."""


def _env(config_dir: Path) -> dict[str, str]:
    return {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}", "LOOPAUTH_CONFIG_DIR": str(config_dir)}


def bash_complete(
    config_dir: Path, *words: str, env: dict[str, str] | None = None, cwd: Path | None = None
) -> list[str]:
    """What `_loopauth` offers for a command line whose last word is being completed, in a real bash that sourced
    `loopauth completion bash` as the README says."""
    script = (
        "source <(loopauth completion bash) || exit 9\n"
        f"COMP_WORDS=({' '.join(shlex.quote(w) for w in words)})\n"
        f"COMP_CWORD={len(words) - 1}\n"
        'COMP_LINE="${COMP_WORDS[*]}"\n'
        "_loopauth\n"
        'printf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    result = subprocess.run(
        ["bash", "--norc", "--noprofile", "-c", script],
        env=env or _env(config_dir), cwd=cwd, capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    return [line for line in result.stdout.splitlines() if line]


@pytest.fixture
def profiles(config_dir: Path) -> list[str]:
    names = ["default", "work", "bot-2"]
    for name in names:
        CredentialStore().save(make_creds(name))
    return sorted(names)


def test_bash_registers_the_function_for_loopauth(config_dir: Path) -> None:
    """Sourcing the script makes `complete -p loopauth` name its function."""
    result = subprocess.run(
        ["bash", "--norc", "-c", "source <(loopauth completion bash) && complete -p loopauth"],
        env=_env(config_dir), capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert result.stdout == "complete -F _loopauth loopauth\n"


def test_bash_completes_profile_names_after_profile_from_the_config_dir(config_dir: Path, profiles: list[str]) -> None:
    """`loopauth token --profile <TAB>` offers the stored profiles, read at completion time (a profile saved a
    moment ago included); `--profile=<TAB>` and a prefix too."""
    assert bash_complete(config_dir, "loopauth", "token", "--profile", "") == profiles
    CredentialStore().save(make_creds("just-now"))
    assert "just-now" in bash_complete(config_dir, "loopauth", "token", "--profile", "")
    assert bash_complete(config_dir, "loopauth", "token", "--profile", "w") == ["work"]
    assert bash_complete(config_dir, "loopauth", "verify", "--profile", "=", "b") == ["bot-2"]
    assert "work" in bash_complete(config_dir, "loopauth", "exec", "--profile", "=")
    assert bash_complete(config_dir, "loopauth", "switch", "") == [*sorted([*profiles, "just-now"])]


def test_bash_completes_subcommands_and_each_ones_options(config_dir: Path) -> None:
    """Every subcommand, and every option of each, as argparse knows them (the script is made from its tree)."""
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    assert bash_complete(config_dir, "loopauth", "") == list(sub.choices)
    assert bash_complete(config_dir, "loopauth", "st") == ["status"]
    assert bash_complete(config_dir, "loopauth", "--v") == ["--version"]
    for name, parser in sub.choices.items():
        flags = {f for action in parser._actions for f in action.option_strings if f.startswith("--")}
        assert flags <= set(bash_complete(config_dir, "loopauth", name, "--")), name
    assert bash_complete(config_dir, "loopauth", "status", "--c") == ["--check"]


def test_bash_completes_providers_choices_and_fixed_values(config_dir: Path) -> None:
    """--provider: the presets, their aliases and providers.toml's tables; choices; positionals with fixed values;
    and nothing at all where a free value goes."""
    config_dir.mkdir(parents=True, exist_ok=True)
    (config_dir / "providers.toml").write_text(
        '[mycorp]\nrequest_token_url = "https://e.example/rt"\nauthorize_url = "https://e.example/a"\n'
        'access_token_url = "https://e.example/at"\n'
    )
    providers = bash_complete(config_dir, "loopauth", "login", "--provider", "")
    assert {"twitter", "x", "x-oauth2", "trello", "mycorp"} <= set(providers)
    assert bash_complete(config_dir, "loopauth", "add", "--provider", "my") == ["mycorp"]
    assert bash_complete(config_dir, "loopauth", "login", "--client-auth", "") == ["basic", "post"]
    assert bash_complete(config_dir, "loopauth", "completion", "") == ["bash", "zsh", "fish"]
    assert bash_complete(config_dir, "loopauth", "header", "") == ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"]
    assert "oauth_token" in bash_complete(config_dir, "loopauth", "token", "--field", "")
    assert bash_complete(config_dir, "loopauth", "login", "--consumer-key", "") == []
    assert bash_complete(config_dir, "loopauth", "request", "--json", "") == []


def test_bash_completes_the_credential_tools_and_their_own_words(config_dir: Path, profiles: list[str]) -> None:
    """`credential` is a group: its tools, then each tool's options, values and git's actions."""
    assert bash_complete(config_dir, "loopauth", "credential", "") == ["git", "kubectl", "docker"]
    assert bash_complete(config_dir, "loopauth", "credential", "k") == ["kubectl"]
    assert bash_complete(config_dir, "loopauth", "credential", "git", "") == ["get", "store", "erase"]
    assert bash_complete(config_dir, "loopauth", "credential", "git", "--") == ["--help", "--profile", "--host"]
    assert bash_complete(config_dir, "loopauth", "credential", "git", "--profile", "w") == ["work"]
    assert bash_complete(config_dir, "loopauth", "credential", "git", "--profile", "work", "") == [
        "get",
        "store",
        "erase",
    ]
    assert bash_complete(config_dir, "loopauth", "credential", "kubectl", "--") == [
        "--help",
        "--profile",
        "--access-token",
    ]
    assert bash_complete(config_dir, "loopauth", "credential", "kubectl", "--profile", "") == profiles
    docker = bash_complete(config_dir, "loopauth", "credential", "docker", "--")
    assert docker == ["--help", "--add", "--remove", "--list", "--profile", "--username"]
    assert bash_complete(config_dir, "loopauth", "credential", "docker", "--add", "") == []


def test_bash_completes_the_command_exec_runs(config_dir: Path, profiles: list[str]) -> None:
    """After `--` (or the options and their values), exec's first word is a command."""
    assert "echo" in bash_complete(config_dir, "loopauth", "exec", "--profile", "work", "--", "ech")
    assert "echo" in bash_complete(config_dir, "loopauth", "exec", "--map", "oauth_token=T", "ech")
    assert "echo" in bash_complete(config_dir, "loopauth", "exec", "--profile", "=", "work", "")


def test_the_names_a_script_asks_for_are_read_without_argparse_and_never_an_error(config_dir: Path) -> None:
    """`completion --profiles` imports nothing heavy (it runs at every <TAB>); an unusable config dir prints
    nothing at all rather than an error in the middle of the command line."""
    CredentialStore().save(make_creds("work"))
    heavy = ("argparse", "aiohttp", "oauthlib", "asyncio", "dataclasses", "platformdirs", "tomllib")
    code = (
        "from loopauth.cli import main; main(['completion', '--profiles'])\n"
        f"import sys; print([m for m in {heavy!r} if m in sys.modules])"
    )
    result = subprocess.run([sys.executable, "-c", code], env=_env(config_dir), capture_output=True, text=True)
    assert result.stdout == "work\n[]\n"
    config_dir.chmod(0o777)
    try:
        for flag in ("--profiles", "--providers"):
            names = subprocess.run(
                [sys.executable, "-m", "loopauth", "completion", flag], env=_env(config_dir), capture_output=True
            )
            assert (names.returncode, names.stderr) == (0, b"")
            assert (names.stdout == b"") == (flag == "--profiles")  # the presets need no config dir
    finally:
        config_dir.chmod(0o700)


def test_completing_profiles_is_fast(config_dir: Path, profiles: list[str]) -> None:
    """One <TAB> after --profile costs one short Python start: well under half a second even on a busy box."""
    cmd = [f"{BIN}/loopauth", "completion", "--profiles"]
    subprocess.run(cmd, env=_env(config_dir), check=True, capture_output=True)
    best = min(_timed(cmd, _env(config_dir)) for _ in range(3))
    assert best < 0.5


def _timed(cmd: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(cmd, env=env, check=True, capture_output=True)
    return time.perf_counter() - started


# -- zsh and fish, where installed ----------------------------------------------------------------------------------

needs_zsh = pytest.mark.skipif(shutil.which("zsh") is None, reason="zsh is not installed (apt-get install zsh)")
needs_fish = pytest.mark.skipif(shutil.which("fish") is None, reason="fish is not installed (apt-get install fish)")


@pytest.mark.parametrize("shell", [pytest.param("zsh", marks=needs_zsh), pytest.param("fish", marks=needs_fish)])
def test_the_zsh_and_fish_scripts_are_valid(config_dir: Path, shell: str) -> None:
    """`zsh -n` / `fish -n` accept them."""
    script = subprocess.run(
        [f"{BIN}/loopauth", "completion", shell], env=_env(config_dir), capture_output=True, text=True, check=True
    ).stdout
    result = subprocess.run([shell, "-n"], input=script, capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr


# Drives an interactive zsh on a pseudo-terminal (zpty), presses <TAB> after the line, and records every match
# the completion system is given, by wrapping its compadd builtin.
ZSH_DRIVER = r"""
zmodload zsh/zpty
zpty z zsh -f -i
zpty -w z "autoload -U compinit; compinit -u -d $DUMP"
zpty -w z 'source <(loopauth completion zsh)'
zpty -w z 'compadd () { if [[ ${@[1,(i)(-|--)]} == *-(O|A|D)\ * ]]; then builtin compadd "$@"; return; fi;
  local -a hits; builtin compadd -A hits "$@"; local ret=$?; print -l -- $hits >> $OUT; print -- "--end--" >> $OUT;
  builtin compadd "$@"; return ret }'
zpty -n -w z "$LINE"$'\t'
integer i
for (( i = 0; i < 200; i++ )); do
  [[ -s $OUT ]] && grep -q -- --end-- $OUT && break
  zpty -r -t z _ 2>/dev/null
  sleep 0.1
done
zpty -d z
"""


def zsh_complete(config_dir: Path, tmp_path: Path, line: str) -> list[str]:
    """What a real interactive zsh offers first (ZSH_DRIVER) for ``line`` followed by <TAB>."""
    out = tmp_path / "matches"
    out.unlink(missing_ok=True)
    env = {**_env(config_dir), "OUT": str(out), "DUMP": str(tmp_path / "zcompdump"), "LINE": line}
    subprocess.run(["zsh", "-f", "-c", ZSH_DRIVER], env=env, timeout=60, check=True, capture_output=True)
    return [line for line in out.read_text().splitlines() if line != "--end--"]


@needs_zsh
def test_zsh_completes_profile_names_after_profile(config_dir: Path, profiles: list[str], tmp_path: Path) -> None:
    """In a real interactive zsh: `loopauth token --profile <TAB>` offers the stored profiles."""
    matches = zsh_complete(config_dir, tmp_path, "loopauth token --profile ")
    assert sorted(matches) == profiles


@needs_fish
def test_fish_completes_profiles_providers_and_options(config_dir: Path, profiles: list[str]) -> None:
    """fish's own `complete -C` asked about a loaded script: profiles (and not files), providers, options."""

    def fish_complete(line: str) -> list[str]:
        script = f"loopauth completion fish | source; complete -C {shlex.quote(line)}"
        result = subprocess.run(
            ["fish", "--no-config", "-c", script], env=_env(config_dir), capture_output=True, text=True, timeout=30
        )
        assert result.returncode == 0, result.stderr
        return [line.split("\t")[0] for line in result.stdout.splitlines()]

    assert fish_complete("loopauth token --profile ") == profiles
    assert "x-oauth2" in fish_complete("loopauth login --provider ")
    assert "switch" in fish_complete("loopauth sw")
    assert "--check" in fish_complete("loopauth status --")
    assert fish_complete("loopauth switch ") == profiles
    assert fish_complete("loopauth credential ") == ["docker", "git", "kubectl"]
    assert fish_complete("loopauth credential git ") == ["erase", "get", "store"]
    assert fish_complete("loopauth credential kubectl --profile ") == profiles
    assert "--access-token" in fish_complete("loopauth credential kubectl --")
    assert "--access-token" not in fish_complete("loopauth credential git --")


@needs_zsh
def test_zsh_completes_the_credential_tools_and_their_own_words(
    config_dir: Path, profiles: list[str], tmp_path: Path
) -> None:
    assert sorted(zsh_complete(config_dir, tmp_path, "loopauth credential ")) == ["docker", "git", "kubectl"]
    assert sorted(zsh_complete(config_dir, tmp_path, "loopauth credential git ")) == ["erase", "get", "store"]
    assert sorted(zsh_complete(config_dir, tmp_path, "loopauth credential kubectl --profile ")) == profiles


# -- names are never run, whatever they hold ------------------------------------------------------------------------
# loopauth refuses such names in providers.toml and for profiles; the scripts must not depend on it. A `loopauth`
# first on PATH answers `completion --profiles|--providers` with names that are shell code, and otherwise is the
# real one. Each shell completes in an empty directory, which must stay empty.

HOSTILE = ["$(touch${IFS}pwned)", "`touch pwned2`", "x;touch pwned3", "a b", "*", "ok"]


@pytest.fixture
def hostile(tmp_path: Path, config_dir: Path) -> tuple[dict[str, str], Path]:
    """The environment whose `loopauth` prints HOSTILE as names, and the empty directory to complete in."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    names = "".join(f"{shlex.quote(name)} " for name in HOSTILE)
    program = bin_dir / "loopauth"
    program.write_text(
        "#!/bin/sh\n"
        'case "$1 $2" in\n'
        f'"completion --profiles"|"completion --providers") printf "%s\\n" {names};;\n'
        f'*) exec {shlex.quote(BIN)}/loopauth "$@";;\n'
        "esac\n"
    )
    program.chmod(0o755)
    work = tmp_path / "work"
    work.mkdir()
    return {**_env(config_dir), "PATH": f"{bin_dir}{os.pathsep}{BIN}{os.pathsep}{os.environ['PATH']}"}, work


@pytest.mark.parametrize("words", [("token", "--profile", ""), ("login", "--provider", ""), ("switch", "")])
def test_bash_offers_names_quoted_and_never_runs_them(
    config_dir: Path, hostile: tuple[dict[str, str], Path], words: tuple[str, ...]
) -> None:
    """No `compgen -W "$(…)"`: nothing runs, nothing is globbed, and each name is offered quoted for the line."""
    env, work = hostile
    offered = bash_complete(config_dir, "loopauth", *words, env=env, cwd=work)
    assert list(work.iterdir()) == []
    assert offered == [shlex_bash(name) for name in HOSTILE]


def shlex_bash(name: str) -> str:
    """`printf %q`'s quoting, from bash itself."""
    result = subprocess.run(["bash", "-c", 'printf %q "$1"', "_", name], capture_output=True, text=True, check=True)
    return result.stdout


@needs_zsh
def test_zsh_never_runs_names(config_dir: Path, hostile: tuple[dict[str, str], Path], tmp_path: Path) -> None:
    """In a real interactive zsh: the names are offered as they are (compadd quotes them) and none runs."""
    env, work = hostile
    for line in ("loopauth token --profile ", "loopauth login --provider "):
        out = tmp_path / "matches"
        out.unlink(missing_ok=True)
        zenv = {**env, "OUT": str(out), "DUMP": str(tmp_path / "zcompdump"), "LINE": line}
        subprocess.run(["zsh", "-f", "-c", ZSH_DRIVER], env=zenv, cwd=work, timeout=60, check=True, capture_output=True)
        matches = [m for m in out.read_text().splitlines() if m != "--end--"]
        assert sorted(matches) == sorted(HOSTILE), line
        assert list(work.iterdir()) == [], line


@needs_fish
def test_fish_never_runs_names(config_dir: Path, hostile: tuple[dict[str, str], Path]) -> None:
    """fish's `complete -C`: the names as they are, and none runs."""
    env, work = hostile
    for line in ("loopauth token --profile ", "loopauth login --provider "):
        script = f"loopauth completion fish | source; complete -C {shlex.quote(line)}"
        result = subprocess.run(
            ["fish", "--no-config", "-c", script], env=env, cwd=work, capture_output=True, text=True, timeout=30
        )
        assert result.returncode == 0, result.stderr
        assert sorted(c.split("\t")[0] for c in result.stdout.splitlines()) == sorted(HOSTILE), line
        assert list(work.iterdir()) == [], line
