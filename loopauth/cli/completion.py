"""``loopauth completion bash|zsh|fish``: a completion script, made from the argparse tree so it never drifts.

Subcommands, their flags and fixed choices are written into the script; profile and provider names are
asked for at each <TAB> (``loopauth completion --profiles`` / ``--providers``, :mod:`.names`), from the
program the user typed (``${COMP_WORDS[0]}``), so a virtualenv's loopauth completes its own profiles.
"""

from __future__ import annotations

import argparse
import re
import shlex
from collections.abc import Sequence
from dataclasses import dataclass

from ..errors import EXIT_OK
from ..protocols import every_env_field

FILE_OPTIONS = frozenset({"--consumer-secret-file", "--client-secret-file", "--rsa-key", "--tls-cert", "--tls-key"})
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD")
GIT_ACTIONS = ("get", "store", "erase")


@dataclass(frozen=True)
class CompletionCommand:
    shell: str

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> CompletionCommand:
        return cls(args.shell)

    def run(self) -> int:
        from .parser import build_parser

        commands = spec(build_parser())
        print({"bash": bash, "zsh": zsh, "fish": fish}[self.shell](commands), end="")
        return EXIT_OK


# -- what there is to complete -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Option:
    flags: tuple[str, ...]
    help: str
    takes: str
    """``""`` for a flag; else what its value is: ``profile``, ``provider``, ``file``, ``choice`` or ``value``."""
    choices: tuple[str, ...] = ()
    repeats: bool = False


@dataclass(frozen=True)
class Subcommand:
    name: str
    help: str
    options: tuple[Option, ...]
    positional: str
    """What a word that is not an option completes to: ``profile``, ``choice``, ``method``, ``command`` or ``""``."""
    choices: tuple[str, ...] = ()
    tools: tuple[Subcommand, ...] = ()
    """A group's own subcommands (``credential git``), named with the group's name first; its ``choices`` name them."""

    @property
    def flags(self) -> list[str]:
        return [flag for o in self.options for flag in o.flags]


def spec(parser: argparse.ArgumentParser) -> list[Subcommand]:
    """The subcommands of ``parser``, in its order, with what each option and positional takes."""
    return _subcommands(parser, "")


def _subcommands(parser: argparse.ArgumentParser, group: str) -> list[Subcommand]:
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    helps = {action.dest: action.help or "" for action in sub._choices_actions}
    commands = []
    for name, command in sub.choices.items():
        full = f"{group} {name}".strip()
        options = []
        positional = ""
        choices: tuple[str, ...] = ()
        tools: tuple[Subcommand, ...] = ()
        for action in command._actions:
            if action.help == argparse.SUPPRESS:
                continue
            if isinstance(action, argparse._SubParsersAction):
                tools = tuple(_subcommands(command, full))
                positional, choices = "choice", tuple(action.choices)
                continue
            if not action.option_strings:
                if not positional:
                    positional, choices = _positional(full, action)
                continue
            options.append(_option(action))
        commands.append(Subcommand(full, helps.get(name, ""), tuple(options), positional, choices, tools))
    return commands


def _every(commands: Sequence[Subcommand]) -> list[Subcommand]:
    """The commands with each group's tools after it: what a script has a case for."""
    return [c for top in commands for c in (top, *top.tools)]


def _option(action: argparse.Action) -> Option:
    flags = tuple(action.option_strings)
    repeats = isinstance(action, argparse._AppendAction)
    if action.nargs in (0, argparse.OPTIONAL):
        # An optional value (`--client-secret` alone asks for it) is never completed: offer what follows instead.
        return Option(flags, action.help or "", "")
    if action.choices:
        return Option(flags, action.help or "", "choice", tuple(str(c) for c in action.choices), repeats)
    if "--field" in flags:  # token --field: the fields of both protocols
        return Option(flags, action.help or "", "choice", every_env_field())
    if "--profile" in flags:
        return Option(flags, action.help or "", "profile", repeats=repeats)
    if "--provider" in flags:
        return Option(flags, action.help or "", "provider", repeats=repeats)
    if FILE_OPTIONS.intersection(flags):
        return Option(flags, action.help or "", "file", repeats=repeats)
    return Option(flags, action.help or "", "value", repeats=repeats)


def _positional(command: str, action: argparse.Action) -> tuple[str, tuple[str, ...]]:
    if action.nargs == argparse.REMAINDER:
        return "command", ()
    if action.choices:
        return "choice", tuple(str(c) for c in action.choices)
    if action.dest == "profile":
        return "profile", ()
    if action.dest == "method":
        return "method", METHODS
    if command == "credential git":
        # Not argparse choices: git's protocol says a helper ignores an action it does not know.
        return "choice", GIT_ACTIONS
    return "", ()


def _short(text: str, limit: int = 70) -> str:
    """An option's help cut to its first clause, for the one-line descriptions shells show."""
    text = re.split(r"[;(]", text, maxsplit=1)[0].strip().rstrip(":,.")
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


# -- bash --------------------------------------------------------------------------------------------------------


def bash(top: Sequence[Subcommand]) -> str:
    commands = _every(top)

    def pairs(kind: str | None) -> str:
        """``"cmd --flag"`` case patterns for the options whose value is ``kind`` (None: any value)."""
        return "|".join(
            f'"{c.name} {flag}"' for c in commands for o in c.options if o.takes and kind in (None, o.takes)
            for flag in o.flags
        )  # fmt: skip

    value_cases = []
    for kind, reply in (
        ("profile", "_loopauth_offer_names --profiles"),
        ("provider", "_loopauth_offer_names --providers"),
        ("file", 'compopt -o filenames 2>/dev/null; _loopauth_read < <(compgen -f -- "$cur")'),
    ):
        if pairs(kind):
            value_cases.append(f"        {pairs(kind)})\n            {reply}\n            return ;;")
    for c in commands:
        for o in c.options:
            if o.takes == "choice":
                patterns = "|".join(f'"{c.name} {flag}"' for flag in o.flags)
                reply = f"_loopauth_offer {_bash_words(o.choices)}"
                value_cases.append(f"        {patterns})\n            {reply}\n            return ;;")
    # Any other value (a URL, a key, a number): nothing to offer, and certainly not the options.
    value_cases.append(f"        {pairs('value')})\n            return ;;")
    positional_cases = []
    for c in commands:
        if c.positional == "profile":
            reply = "_loopauth_offer_names --profiles"
        elif c.positional in ("choice", "method"):
            reply = f"_loopauth_offer {_bash_words(c.choices)}"
        elif c.positional == "command":
            reply = '_loopauth_read < <(compgen -c -- "$cur")'
        else:
            continue
        positional_cases.append(
            f"            {shlex.quote(c.name)})\n                {reply}\n                return ;;"
        )
    flag_cases = [
        f"        {shlex.quote(c.name)}) opts=({_bash_words([f for f in c.flags if f != '-h'])}) ;;" for c in commands
    ]
    groups = "|".join(c.name for c in top if c.tools)
    return _BASH.format(
        commands=_bash_words([c.name for c in top]),
        group_scan=_BASH_GROUP.format(groups=groups) if groups else "",
        value_pairs=pairs(None),
        value_cases="\n".join(value_cases),
        positional_cases="\n".join(positional_cases),
        flag_cases="\n".join(flag_cases),
    )


def _bash_words(words: Sequence[str]) -> str:
    return " ".join(shlex.quote(word) for word in words)


_BASH_GROUP = """\
    # A group's tool is its next word that is not an option; the words after it are the tool's (credential git).
    case $cmd in
        {groups})
            for ((i = at + 1; i < COMP_CWORD; i++)); do
                word=${{COMP_WORDS[i]}}
                if [[ $word != -* ]]; then
                    cmd="$cmd $word"
                    at=$i
                    break
                fi
            done ;;
    esac
"""

_BASH = """\
# bash completion for loopauth. Load it in ~/.bashrc:  source <(loopauth completion bash)
# or save it once:  loopauth completion bash > ~/.local/share/bash-completion/completions/loopauth

# Names come from the loopauth the user typed (a virtualenv's completes its own profiles).
_loopauth_names() {{
    local program=${{COMP_WORDS[0]/#\\~/$HOME}}
    command "$program" completion "$1" 2>/dev/null
}}

# COMPREPLY gets each word that starts with $cur, quoted for the command line. Never `compgen -W`, which
# expands its words again: a name such as $(cmd) would run cmd at <TAB>.
_loopauth_offer() {{
    local word quoted
    for word in "$@"; do
        if [[ $word == "$cur"* ]]; then
            printf -v quoted %q "$word"
            COMPREPLY+=("$quoted")
        fi
    done
}}

# The names `loopauth completion --profiles|--providers` prints, one a line, offered as they are.
_loopauth_offer_names() {{
    local name names=()
    while IFS= read -r name; do
        names+=("$name")
    done < <(_loopauth_names "$1")
    _loopauth_offer ${{names[@]+"${{names[@]}}"}}
}}

# COMPREPLY gets each line of stdin (file or command names from compgen), unsplit and unglobbed.
_loopauth_read() {{
    local line
    while IFS= read -r line; do
        COMPREPLY+=("$line")
    done
}}

# Whether option $2 of subcommand $1 takes a value (the next word, or the one after `=`).
_loopauth_takes_value() {{
    case "$1 $2" in
        {value_pairs})
            return 0 ;;
    esac
    return 1
}}

_loopauth() {{
    local cur=${{COMP_WORDS[COMP_CWORD]}} prev= cmd= at=0 i word opts=() positionals=0 start=0
    ((COMP_CWORD > 0)) && prev=${{COMP_WORDS[COMP_CWORD - 1]}}
    # --option=value: bash splits the word at '=' (COMP_WORDBREAKS) into --option, =, value.
    if [[ $cur == = ]]; then
        cur=
    elif [[ $prev == = ]] && ((COMP_CWORD > 1)); then
        prev=${{COMP_WORDS[COMP_CWORD - 2]}}
    fi
    COMPREPLY=()
    for ((i = 1; i < COMP_CWORD; i++)); do
        word=${{COMP_WORDS[i]}}
        if [[ $word != -* ]]; then
            cmd=$word
            at=$i
            break
        fi
    done
{group_scan}    if [[ -z $cmd ]]; then
        if [[ $cur == -* ]]; then
            _loopauth_offer --help --version
        else
            _loopauth_offer {commands}
        fi
        return
    fi
    # The words given so far: options, their values, positionals; for exec, where the command to run starts
    # (after `--`, or at the first word that is neither an option nor an option's value).
    for ((i = at + 1; i < COMP_CWORD; i++)); do
        word=${{COMP_WORDS[i]}}
        if [[ $cmd == exec && $word == -- ]]; then
            start=$((i + 1))
            break
        elif [[ $word == -* ]]; then
            if _loopauth_takes_value "$cmd" "$word"; then
                [[ ${{COMP_WORDS[i + 1]}} == = ]] && ((i++))
                ((i++))
            fi
        elif [[ $word != = ]]; then
            if [[ $cmd == exec ]]; then
                start=$i
                break
            fi
            positionals=$((positionals + 1))
        fi
    done
    if ((start > 0)); then
        if ((COMP_CWORD == start)); then
            _loopauth_read < <(compgen -c -- "$cur")
        else
            compopt -o default 2>/dev/null
        fi
        return
    fi
    case "$cmd $prev" in
{value_cases}
    esac
    if [[ $cur != -* ]] && ((positionals == 0)); then
        case $cmd in
{positional_cases}
        esac
    fi
    case $cmd in
{flag_cases}
    esac
    _loopauth_offer ${{opts[@]+"${{opts[@]}}"}}
}}

complete -F _loopauth loopauth
"""


# -- zsh ---------------------------------------------------------------------------------------------------------


def _zsh_quote(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


def _zsh_help(text: str) -> str:
    return _short(text).replace("\\", "\\\\").replace("[", "(").replace("]", ")").replace(":", " -")


def zsh(commands: Sequence[Subcommand]) -> str:
    described = "\n".join(f"                {_zsh_quote(c.name + ':' + _zsh_help(c.help))}" for c in commands)
    cases = [_zsh_case(c, "                ") for c in commands]
    return _ZSH.format(described=described, cases="\n".join(cases))


def _zsh_case(c: Subcommand, indent: str) -> str:
    """The ``case`` branch that completes ``c``'s words: its options and positional, or for a group its tool and,
    once the tool is given (``_arguments`` then shifts the words so the tool is ``$words[1]``), the tool's own."""
    name = c.name.rsplit(" ", 1)[-1]
    specs = [spec for o in c.options for spec in _zsh_option(o)]
    if c.tools:
        specs += [f"1:tool:({' '.join(c.choices)})", "*::argument:->tool"]
    elif c.positional == "profile":
        specs.append("1:profile:_loopauth_profiles")
    elif c.positional in ("choice", "method"):
        specs.append(f"1:{c.positional}:({' '.join(c.choices)})")
    elif c.positional == "command":
        specs.append("*::command:_normal")
    lines = f" \\\n{indent}    ".join(_zsh_quote(s) for s in specs)
    if not c.tools:
        return f"{indent}({name})\n{indent}    _arguments -S {lines} && ret=0 ;;"
    tools = "\n".join(_zsh_case(tool, indent + "                ") for tool in c.tools)
    return (
        f"{indent}({name})\n"
        f"{indent}    state=\n"
        f"{indent}    _arguments -C -S {lines} && ret=0\n"
        f"{indent}    case $state in\n"
        f"{indent}        (tool)\n"
        f"{indent}            curcontext=${{curcontext%:*}}-$words[1]:\n"
        f"{indent}            case $words[1] in\n"
        f"{tools}\n"
        f"{indent}            esac ;;\n"
        f"{indent}    esac ;;"
    )


def _zsh_option(o: Option) -> list[str]:
    """``_arguments`` specs for an option: one per spelling (``-X`` and ``--method``), each excluding the other
    unless the option repeats; ``--long=`` takes ``--long VALUE`` and ``--long=VALUE``, ``-X+`` ``-X VALUE``."""
    help = f"[{_zsh_help(o.help)}]"
    if o.repeats:
        prefix = "*"
    elif len(o.flags) > 1:
        prefix = f"({' '.join(o.flags)})"
    else:
        prefix = ""
    if not o.takes:
        return [f"{prefix}{flag}{help}" for flag in o.flags]
    action = {
        "profile": "_loopauth_profiles",
        "provider": "_loopauth_providers",
        "file": "_files",
        "choice": f"({' '.join(o.choices)})",
    }.get(o.takes, " ")
    value = o.flags[-1].lstrip("-").replace("-", " ")
    return [f"{prefix}{flag}{'=' if flag.startswith('--') else '+'}{help}:{value}:{action}" for flag in o.flags]


_ZSH = """\
#compdef loopauth
# zsh completion for loopauth. Load it in ~/.zshrc, after compinit:  source <(loopauth completion zsh)
# or save it once as _loopauth in a directory of $fpath:  loopauth completion zsh > ~/.zfunc/_loopauth

# Names come from the loopauth the user typed (a virtualenv's completes its own profiles).
_loopauth_profiles() {{
    local -a names
    names=(${{(f)"$(command ${{~_loopauth_program:-loopauth}} completion --profiles 2>/dev/null)"}})
    _wanted profiles expl profile compadd -a names
}}

_loopauth_providers() {{
    local -a names
    names=(${{(f)"$(command ${{~_loopauth_program:-loopauth}} completion --providers 2>/dev/null)"}})
    _wanted providers expl provider compadd -a names
}}

_loopauth() {{
    local _loopauth_program=${{words[1]}}
    local curcontext=$curcontext state line ret=1
    local -A opt_args
    _arguments -C \\
        '(- :)--version[print the version]' \\
        '(- :)'{{-h,--help}}'[show help]' \\
        '1:command:->command' \\
        '*::argument:->argument' && ret=0
    case $state in
        (command)
            local -a commands
            commands=(
{described}
            )
            _describe -t commands 'loopauth command' commands && ret=0 ;;
        (argument)
            curcontext=${{curcontext%:*:*}}:loopauth-$words[1]:
            case $words[1] in
{cases}
            esac ;;
    esac
    return ret
}}

if [[ $funcstack[1] == _loopauth ]]; then
    _loopauth "$@"
else
    compdef _loopauth loopauth
fi
"""


# -- fish --------------------------------------------------------------------------------------------------------


def _fish_quote(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def fish(top: Sequence[Subcommand]) -> str:
    lines = [_FISH_HEAD]
    for c in top:
        lines.append(f"complete -c loopauth -n __fish_use_subcommand -a {c.name} -d {_fish_quote(_short(c.help))}")
    for c in _every(top):
        # A group's own words until its tool is given; a tool's (`credential git`) once it is.
        words = c.name.split(" ")
        condition = "; and ".join(f"__fish_seen_subcommand_from {word}" for word in words)
        if c.tools:
            condition += f"; and not __fish_seen_subcommand_from {' '.join(c.choices)}"
            for tool in c.tools:
                described = f"-a {tool.name.rsplit(' ', 1)[-1]} -d {_fish_quote(_short(tool.help))}"
                lines.append(f"complete -c loopauth -n {_fish_quote(condition)} {described}")
        seen = f"-n {_fish_quote(condition)}"
        for o in c.options:
            lines.append(f"complete -c loopauth {seen} {_fish_option(o)}")
        if c.positional == "profile":
            lines.append(f"complete -c loopauth {seen} -a '(__loopauth_names --profiles)'")
        elif c.positional in ("choice", "method") and not c.tools:
            lines.append(f"complete -c loopauth {seen} -a {_fish_quote(' '.join(c.choices))}")
        elif c.positional == "command":
            lines.append("complete -c loopauth -n __loopauth_exec_at_command -a '(__fish_complete_command)'")
            lines.append("complete -c loopauth -n __loopauth_exec_in_command -F")
    return "\n".join(lines) + "\n"


def _fish_option(o: Option) -> str:
    parts = [f"-s {f[1:]}" if not f.startswith("--") else f"-l {f[2:]}" for f in o.flags]
    if o.takes:
        # -r: it takes a value; -f: not a file name, unless it is one (-F)
        parts.append("-r -F" if o.takes == "file" else "-r -f")
    if o.takes == "profile":
        parts.append("-a '(__loopauth_names --profiles)'")
    elif o.takes == "provider":
        parts.append("-a '(__loopauth_names --providers)'")
    elif o.takes == "choice":
        parts.append(f"-a {_fish_quote(' '.join(o.choices))}")
    parts.append(f"-d {_fish_quote(_short(o.help))}")
    return " ".join(parts)


_FISH_HEAD = """\
# fish completion for loopauth. Save it once:  loopauth completion fish > ~/.config/fish/completions/loopauth.fish

# Names come from the loopauth the user typed (a virtualenv's completes its own profiles).
function __loopauth_names
    set -l program (commandline -opc)[1]
    command $program completion $argv 2>/dev/null
end

# exec: the command to run begins after `--`.
function __loopauth_exec_at_command
    set -l words (commandline -opc)
    contains -- exec $words; and test "$words[-1]" = --
end

function __loopauth_exec_in_command
    set -l words (commandline -opc)
    contains -- exec $words; and contains -- -- $words; and test "$words[-1]" != --
end

complete -c loopauth -f
complete -c loopauth -n __fish_use_subcommand -l version -d 'print the version'
complete -c loopauth -n __fish_use_subcommand -s h -l help -d 'show help'"""
