"""The argparse tree: every command's arguments, apart from the code that runs it.

It only routes. Each subcommand names the class that implements it as ``"module:Class"``, and :func:`parse` imports
that one module after parsing: ``loopauth status`` loads ``status.py`` and nothing of ``login``, ``add`` or the
HTTP client, and ``--help`` and ``--version`` load no command at all (tests/test_fastpath.py checks both). So this
module imports only what the definitions need: the login's defaults; the signature methods only with login's
parser.

A subcommand's parser is made when argparse picks that subcommand (:class:`_Subcommands`), not all sixteen at
every start; :func:`build_parser` gives the whole tree, for completion and the tests.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, NoReturn, Protocol, cast

from .._version import __version__
from ..errors import UsageError
from ..loopback.defaults import DEFAULT_CALLBACK_PATH, DEFAULT_PORT, DEFAULT_TIMEOUT

DEFAULT_PREFIX = "LOOPAUTH_"
"""``token --env``'s and ``exec``'s variable prefix (``loopauth.cli.token`` has its own copy: it never loads this)."""
STORES = ("file", "keyring")
"""``loopauth.store.STORES``, here so that defining ``--store`` loads no store (tests/test_fastpath.py checks both
agree)."""

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
EXAMPLES = """\
examples:
  loopauth demo                     log in to the embedded demo provider (no keys, no network)
  loopauth login --provider x       log in to X; then: eval "$(loopauth token)"
  loopauth COMMAND --help           a command's options and examples
"""
SHELLS = ("bash", "zsh", "fish")
CHECK_TIMEOUT = 10.0
"""``status --check``'s default --timeout, seconds."""


class Command(Protocol):
    """A parsed command line: its options, typed, and the work to do."""

    def run(self) -> int: ...


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (and exit 2), like every other failure, with a "did you mean"."""

    _width = 78
    """Help's width: argparse's own default looks at the terminal with shutil, which is a few ms to import (it
    brings bz2 and lzma) and makes a formatter to check each argument added; only printed help needs the width."""

    def _get_formatter(self) -> argparse.HelpFormatter:
        return argparse.RawDescriptionHelpFormatter(self.prog, width=self._width)

    def format_help(self) -> str:
        import shutil

        self._width = shutil.get_terminal_size().columns - 2  # what argparse's formatter would have used
        return super().format_help()

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
    import difflib  # only for a mistake: with heapq, a few ms every other command line would pay

    close = difflib.get_close_matches(word, candidates, n=1, cutoff=0.6)
    return f"; did you mean {close[0]}?" if close else ""


if TYPE_CHECKING:
    _SubParsersAction = argparse._SubParsersAction[Parser]
else:  # generic in typeshed only
    _SubParsersAction = argparse._SubParsersAction


class _Subcommands(_SubParsersAction):
    """argparse's subcommand action, but a subcommand's parser is made only when argparse chooses it.

    Each ArgumentParser asks gettext for three translations as it is made (each a few file-system probes), and
    its arguments take their own time: sixteen of them were most of what a command line spent in argparse.
    Until it is made, a subcommand is its name in ``choices`` (so argparse accepts it, or suggests it) and its
    line in the top-level help.
    """

    _pending: dict[str, Callable[[], Parser]]

    def add_later(self, name: str, help: str, make: Callable[[], Parser]) -> None:
        if not hasattr(self, "_pending"):
            self._pending = {}
        self._pending[name] = make
        self._choices_actions.append(self._ChoicesPseudoAction(name, (), help))
        self._name_parser_map[name] = cast(Parser, None)  # a placeholder until make() runs: only the name counts

    def make(self, name: str) -> None:
        make = self._pending.pop(name, None)
        if make is not None:
            del self._name_parser_map[name]  # add_parser refuses a name it has, and puts the parser there itself
            make()

    def make_all(self) -> None:
        for name in list(self._pending):
            self.make(name)

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: str | Sequence[Any] | None,
        option_string: str | None = None,
    ) -> None:
        if isinstance(values, Sequence) and values:
            self.make(values[0])
        super().__call__(parser, namespace, values, option_string)


class Commands:
    """Adds subcommands, each with its examples; the exit-code table is the top level's alone."""

    def __init__(self, sub: _Subcommands) -> None:
        self._sub = sub

    def add(
        self,
        name: str,
        help: str,
        command: str,
        *examples: str,
        usage: str | None = None,
        arguments: Callable[[Parser], None] | None = None,
    ) -> None:
        """``command`` is the implementing class as ``"module:Class"`` (a module of this package), imported only
        when this subcommand is the one run; each example is a line, its own explanation after it; ``arguments``
        adds the subcommand's arguments to its parser, made when it is chosen."""
        lines = "".join(f"  {example}\n" for example in examples)

        def make() -> Parser:
            # No help= here: that line of the top-level help is add_later's.
            parser = self._sub.add_parser(
                name,
                description=help,
                usage=usage,
                epilog=f"example{'s' if len(examples) > 1 else ''}:\n{lines}",
            )
            parser.set_defaults(runs=command)
            if arguments is not None:
                arguments(parser)
            return parser

        self._sub.add_later(name, help, make)


def build_parser(*, lazy: bool = False) -> Parser:
    """The whole tree; ``lazy``: each subcommand's parser made only once argparse chooses it (what :func:`parse`
    uses)."""
    parser = Parser(
        prog="loopauth",
        description="One-command OAuth login through a loopback callback.",
        epilog=f"{EXAMPLES}\n{EXIT_CODES}",
    )
    parser.add_argument("--version", action="version", version=f"loopauth {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser, action=_Subcommands)
    assert isinstance(sub, _Subcommands)
    sub.required = True
    commands = Commands(sub)
    _logins(commands)
    _profiles(commands)
    _calls(commands)
    _credentials(commands)
    _others(commands)
    if not lazy:
        sub.make_all()
    return parser


def parse(argv: Sequence[str]) -> Command:
    import importlib

    parser = build_parser(lazy=True)
    args, extras = parser.parse_known_args(argv)
    if extras:
        # argparse would report them from the top parser ("see 'loopauth --help'"); the subcommand's own
        # parser knows its options and names its own --help.
        sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        owner: Parser = sub.choices.get(args.command, parser)
        owner.unrecognized(extras)
    module, _, name = str(args.runs).partition(":")
    command: Command = getattr(importlib.import_module(f"{__package__}.{module}"), name).from_args(args)
    return command


# -- login, demo, add (implemented in login.py and add.py) --------------------------------------------------------


def _logins(commands: Commands) -> None:
    commands.add(
        "login",
        "log in through the browser and store the credentials",
        "login:LoginCommand",
        "loopauth login --provider x     (OAuth 1.0a: $LOOPAUTH_CONSUMER_KEY and _SECRET, or a prompt)",
        "loopauth login --provider x-oauth2 --client-id ID --profile work     (OAuth 2.0 with PKCE)",
        usage="%(prog)s [--provider NAME] [--profile NAME] [options]",
        arguments=_login_arguments,
    )

    commands.add(
        "demo",
        "log in to the embedded demo provider (no keys, no network)",
        "login:DemoCommand",
        "loopauth demo --auto     (approves by itself: no browser needed)",
        "loopauth demo --serve --oauth2     (keeps the provider running, prints what to try against it)",
        arguments=_demo_arguments,
    )

    commands.add(
        "add",
        "store credentials you already have (tokens from a prompt or stdin, never the command line)",
        "add:AddCommand",
        "loopauth add --profile bot --provider x     (asks for the token and its secret, without echo)",
        "pass show x/bot | loopauth add --profile bot --provider x     (or reads them from stdin: token, secret)",
        arguments=_add_arguments,
    )


def _login_arguments(p: Parser) -> None:
    p.add_argument("--profile", help="store the login as this profile (default: the active one)")
    _add_store_option(p)
    _add_provider_options(p)
    _add_callback_options(p, default_port=DEFAULT_PORT)
    _add_headless_options(p)
    _add_verbose_option(p)


def _demo_arguments(p: Parser) -> None:
    p.add_argument("--profile", default="demo", help="the profile to store the demo login as (default 'demo')")
    _add_store_option(p)
    p.add_argument("--auto", action="store_true", help="approve in the demo page automatically, even with a browser")
    p.add_argument("--deny", action="store_true", help="with --auto (or no browser): refuse instead of approving")
    p.add_argument("--oauth2", action="store_true", help="log in with OAuth 2.0 (code + PKCE) instead of OAuth 1.0a")
    p.add_argument(
        "--device",
        action="store_true",
        help="with --oauth2: the device grant (RFC 8628): a code to enter on the demo's page instead of the callback",
    )
    p.add_argument(
        "--serve",
        action="store_true",
        help="keep the demo provider (with --oauth2, the OAuth 2.0 one) running until Ctrl-C, print its endpoints "
        "and commands to try, and log in the profile against it; --port is then the provider's port",
    )
    p.add_argument(
        "--token-lifetime",
        type=int,
        metavar="SECONDS",
        help="with --serve --oauth2: how long access tokens last (default 7200, X's two hours); short shows a refresh",
    )
    p.add_argument("--https", action="store_true", help="with --serve: https, with a throwaway certificate")
    p.add_argument(
        "--registered-callback",
        metavar="URL",
        help="with --serve: the one callback the demo app accepts; any other gets Twitter's error 415",
    )
    _add_callback_options(p, default_port=0)


def _add_arguments(p: Parser) -> None:
    p.add_argument("--profile", help="the profile to store them as (default: the active profile)")
    p.add_argument("--provider", required=True, help="a preset (twitter/x, x-oauth2, …) or a providers.toml table")
    p.add_argument(
        "--consumer-key", metavar="K", help="OAuth 1.0a: the app's consumer key (default: $LOOPAUTH_CONSUMER_KEY)"
    )
    secret = p.add_mutually_exclusive_group()
    secret.add_argument(
        "--consumer-secret",
        metavar="S",
        help="OAuth 1.0a: the app's consumer secret; `ps` shows it, so prefer $LOOPAUTH_CONSUMER_SECRET, "
        "--consumer-secret-file or the prompt",
    )
    secret.add_argument(
        "--consumer-secret-file", metavar="FILE", help="read the consumer secret from FILE (its first line)"
    )
    p.add_argument("--rsa-key", metavar="FILE", help="OAuth 1.0a: PEM private key for RSA-SHA1 (needs loopauth[rsa])")
    p.add_argument("--client-id", metavar="ID", help="OAuth 2.0: the app's client id (default: $LOOPAUTH_CLIENT_ID)")
    add_client_secret_options(p, "(for refreshes; default: $LOOPAUTH_CLIENT_SECRET)")
    p.add_argument("--scope", metavar="'A B C'", help="OAuth 2.0: the scopes the token was granted, if you know them")
    p.add_argument("--no-verify", action="store_true", help="store them without asking the provider first")
    p.add_argument("--json", action="store_true", help="print the stored profile (no secret) as one JSON object")


def _add_store_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--store",
        choices=STORES,
        metavar="|".join(STORES),
        help="the secrets in a 0600 file or the OS keyring (needs loopauth[keyring]); default: $LOOPAUTH_STORE, "
        "else the profile's own, else config.toml's, else file",
    )


def _add_provider_options(p: argparse.ArgumentParser) -> None:
    from ..models import SIGNATURE_METHODS  # with login's own parser only

    p.add_argument(
        "--provider",
        default=None,
        help="a preset (twitter/x, x-oauth2, trello, …; see loopauth providers) or a providers.toml table "
        "(default twitter)",
    )
    # No default here: an existing profile's own consumer comes before the environment's (see relogin_options).
    p.add_argument("--consumer-key", metavar="K", help="OAuth 1.0a: the app's key (default: $LOOPAUTH_CONSUMER_KEY)")
    secret = p.add_mutually_exclusive_group()
    secret.add_argument(
        "--consumer-secret",
        metavar="S",
        help="OAuth 1.0a: the app's secret; `ps` shows it, so prefer $LOOPAUTH_CONSUMER_SECRET, the file or the prompt",
    )
    secret.add_argument(
        "--consumer-secret-file", metavar="FILE", help="read the consumer secret from FILE (its first line)"
    )
    p.add_argument("--client-id", metavar="ID", help="OAuth 2.0: the app's client id (default: $LOOPAUTH_CLIENT_ID)")
    add_client_secret_options(p, "(default: $LOOPAUTH_CLIENT_SECRET; none for a public client)")
    p.add_argument("--scope", metavar="'A B C'", help="OAuth 2.0: the scopes to ask for (default: the provider's)")
    p.add_argument(
        "--client-auth", choices=("basic", "post"), help="OAuth 2.0: client_secret_basic (the default) or _post"
    )
    p.add_argument("--request-token-url", metavar="U", help="OAuth 1.0a: a custom provider's request-token endpoint")
    p.add_argument("--authorize-url", metavar="U", help="a custom provider's authorize page")
    p.add_argument("--access-token-url", metavar="U", help="OAuth 1.0a: a custom provider's access-token endpoint")
    p.add_argument("--token-url", metavar="U", help="OAuth 2.0: a custom provider's token endpoint")
    p.add_argument(
        "--issuer",
        metavar="URL",
        help="OpenID Connect (or RFC 8414): the provider's issuer URL, whose endpoints are discovered at login",
    )
    p.add_argument(
        "--device",
        action="store_true",
        help="OAuth 2.0: the device grant (RFC 8628): enter the code it shows in any browser, on any device",
    )
    p.add_argument("--device-url", metavar="U", help="OAuth 2.0: the provider's device authorization endpoint")
    p.add_argument("--verify-url", metavar="U", help="a custom provider's verify-credentials endpoint")
    p.add_argument("--revoke-url", metavar="U", help="a custom provider's token-revoke endpoint")
    p.add_argument(
        "--authorize-param",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="an extra parameter for the authorize page (repeatable)",
    )
    p.add_argument("--access-type", choices=("read", "write"), help="Twitter/X: ask for read or read-write access")
    p.add_argument("--force-login", action="store_true", help="Twitter/X: ask for the password again")
    p.add_argument("--screen-name", metavar="NAME", help="Twitter/X: prefill this account on the login page")
    p.add_argument(
        "--signature-method",
        choices=SIGNATURE_METHODS,
        metavar="METHOD",
        help=f"OAuth 1.0a: {', '.join(SIGNATURE_METHODS)} (default: the provider's)",
    )
    p.add_argument("--rsa-key", metavar="FILE", help="OAuth 1.0a: PEM private key for RSA-SHA1 (needs loopauth[rsa])")


ASK = "\0ask"
"""``--client-secret`` given alone: ask for it on the terminal (no real secret has a NUL in it)."""


def add_client_secret_options(p: argparse.ArgumentParser, default: str) -> None:
    """``--client-secret [S]`` (alone: asked for without echo) or ``--client-secret-file FILE``."""
    secret = p.add_mutually_exclusive_group()
    secret.add_argument(
        "--client-secret",
        metavar="S",
        nargs="?",
        const=ASK,
        help="OAuth 2.0: a confidential client's secret; every local user can read a command line (ps, "
        "/proc/PID/cmdline), so prefer $LOOPAUTH_CLIENT_SECRET, --client-secret-file, or --client-secret alone, "
        f"which asks for it on the terminal without echo {default}",
    )
    secret.add_argument(
        "--client-secret-file", metavar="FILE", help="OAuth 2.0: read the client secret from FILE (its first line)"
    )


def _add_callback_options(p: argparse.ArgumentParser, *, default_port: int) -> None:
    p.add_argument("--host", default="127.0.0.1", help="loopback address to listen on (default 127.0.0.1)")
    p.add_argument(
        "--port",
        type=int,
        default=default_port,
        help=f"callback port (default {default_port}; 0: a free one)"
        if default_port
        else "callback port (default: a free one); with --serve, the demo provider's port (default: a free one)",
    )
    p.add_argument("--callback-path", default=DEFAULT_CALLBACK_PATH, metavar="PATH", help="(default /callback)")
    p.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT,
        metavar="SECONDS",
        help=f"how long to wait for the browser (default {DEFAULT_TIMEOUT:g})",
    )
    p.add_argument("--no-browser", action="store_true", help="don't open a browser; print the URL to open")
    p.add_argument("--json", action="store_true", help="print the credentials as one JSON object")


def _add_headless_options(p: argparse.ArgumentParser) -> None:
    """For a browser that is elsewhere: another callback, the PIN flow, TLS."""
    p.add_argument(
        "--callback-url",
        metavar="URL",
        help="the callback to send instead; not one we can serve: paste where the browser lands (or 'oob')",
    )
    p.add_argument("--oob", action="store_true", help="PIN flow: the provider shows a PIN; type it here")
    p.add_argument("--tls-cert", metavar="FILE", help="serve the callback over https with this PEM certificate")
    p.add_argument("--tls-key", metavar="FILE", help="... and this PEM private key (unencrypted)")
    p.add_argument(
        "--tls-self-signed", action="store_true", help="https with a throwaway certificate (needs cryptography)"
    )


def _add_verbose_option(p: argparse.ArgumentParser, what: str | None = None) -> None:
    p.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="print " + (what or "each HTTP exchange on stderr, with no secret in it (safe for a bug report)"),
    )


# -- the stored profiles (profiles.py, switch.py, status.py, execute.py) -----------------------------------------


def _profiles(commands: Commands) -> None:
    commands.add(
        "token",
        "print a profile's credentials (for other tools)",
        "profiles:TokenCommand",
        'eval "$(loopauth token)"     (exports LOOPAUTH_OAUTH_TOKEN and the rest)',
        "loopauth token --field oauth_token --profile work",
        arguments=_token_arguments,
    )

    commands.add(
        "list",
        "list the stored profiles (never a secret)",
        "profiles:ListCommand",
        "loopauth list --json",
        arguments=_list_arguments,
    )

    commands.add(
        "logout",
        "delete a profile's stored credentials",
        "profiles:LogoutCommand",
        "loopauth logout --profile work --revoke",
        arguments=_logout_arguments,
    )

    commands.add(
        "move",
        "move a profile to the other store: its secrets into the OS keyring, or back into its file",
        "profiles:MoveCommand",
        "loopauth move --profile work --to keyring",
        arguments=_move_arguments,
    )

    commands.add(
        "path",
        "print the config directory (profiles/ and providers.toml are in it)",
        "profiles:PathCommand",
        'ls "$(loopauth path)/profiles"',
    )

    commands.add(
        "switch",
        "make a profile the active one: the default of every command's --profile",
        "switch:SwitchCommand",
        "loopauth switch work     (then loopauth token, loopauth verify, … use 'work')",
        arguments=_switch_arguments,
    )

    commands.add(
        "status",
        "show each profile: account, where it is stored, expiry, whether it needs a login, which is active",
        "status:StatusCommand",
        "loopauth status",
        "loopauth status --check --profile work     (also asks the provider whether the token works)",
        arguments=_status_arguments,
    )

    commands.add(
        "exec",
        "run a command with a profile's credentials in its environment (and nowhere else)",
        "execute:ExecCommand",
        "loopauth exec --profile work -- python my_bot.py     (it reads $LOOPAUTH_OAUTH_TOKEN and the rest)",
        "loopauth exec --map oauth_token=TWITTER_ACCESS_TOKEN -- python my_bot.py",
        arguments=_exec_arguments,
    )


def _token_arguments(p: Parser) -> None:
    p.add_argument("--profile", help="the profile to print (default: the active profile)")
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="one JSON object")
    fmt.add_argument("--env", action="store_true", help="POSIX 'export NAME=value' lines (the default)")
    from ..protocols import every_env_field  # only when token's own parser is made

    fmt.add_argument("--field", metavar="NAME", help=f"one bare value: {', '.join(every_env_field())}")
    p.add_argument("--prefix", default=DEFAULT_PREFIX, help=f"variable prefix for --env (default {DEFAULT_PREFIX})")


def _list_arguments(p: Parser) -> None:
    p.add_argument("--json", action="store_true", help="one JSON array")


def _logout_arguments(p: Parser) -> None:
    p.add_argument("--profile", help="the profile to delete (default: the active profile)")
    p.add_argument("--revoke", action="store_true", help="first ask the provider to invalidate the token (signed POST)")
    p.add_argument("--force", action="store_true", help="with --revoke: delete the profile even if revoking fails")


def _move_arguments(p: Parser) -> None:
    p.add_argument("--profile", default=None, help="the profile to move (default: the active one, usually 'default')")
    p.add_argument(
        "--to",
        required=True,
        choices=STORES,
        help="keyring: the secrets into the OS keyring (needs loopauth[keyring]); file: back into the profile's file",
    )


def _switch_arguments(p: Parser) -> None:
    p.add_argument("profile", metavar="PROFILE", help="a stored profile (loopauth list shows them)")


def _status_arguments(p: Parser) -> None:
    p.add_argument("--profile", help="only this profile (default: every profile, and the active one)")
    p.add_argument("--json", action="store_true", help="one JSON array, an object per profile")
    p.add_argument(
        "--check",
        action="store_true",
        help="also ask each provider's verify endpoint whether the token works (all at once)",
    )
    p.add_argument(
        "--timeout",
        type=float,
        default=CHECK_TIMEOUT,
        metavar="SECONDS",
        help=f"with --check: give up on the providers after this long ({CHECK_TIMEOUT:g})",
    )


def _exec_arguments(p: Parser) -> None:
    p.add_argument("--profile", help="the profile whose credentials to pass (default: the active profile)")
    p.add_argument(
        "--prefix", default=DEFAULT_PREFIX, help=f"variable prefix, as for token --env (default {DEFAULT_PREFIX})"
    )
    p.add_argument(
        "--map",
        action="append",
        default=[],
        metavar="FIELD=VAR",
        help="pass FIELD (one of `loopauth token --json`'s) as $VAR instead of its prefixed name (repeatable)",
    )
    p.add_argument(
        "command",
        nargs=argparse.REMAINDER,
        metavar="-- CMD [ARGS...]",
        help="the command to run, found on PATH like a shell does; its exit status is loopauth's",
    )


# -- signed calls (calls.py) -------------------------------------------------------------------------------------


def _calls(commands: Commands) -> None:
    commands.add(
        "header",
        "print the Authorization header for a request (to use with curl)",
        "calls:HeaderCommand",
        'curl -H "$(loopauth header GET https://api.x.com/2/users/me)" https://api.x.com/2/users/me',
        arguments=_header_arguments,
    )

    commands.add(
        "request",
        "make a signed request and print the response body",
        "calls:RequestCommand",
        "loopauth request https://api.x.com/2/users/me",
        'loopauth request --json \'{"text": "hello"}\' https://api.x.com/2/tweets',
        arguments=_request_arguments,
    )

    commands.add(
        "verify",
        "ask the provider who a profile's token belongs to",
        "calls:VerifyCommand",
        "loopauth verify --profile work",
        arguments=_verify_arguments,
    )


def _header_arguments(p: Parser) -> None:
    p.add_argument("--profile", help="the profile that signs (default: the active profile)")
    p.add_argument("method", metavar="METHOD", help="GET, POST, …")
    p.add_argument("url", metavar="URL", help="the full URL, query included (the query is signed)")
    _add_data_option(p)
    _add_verbose_option(p, "what was signed (no secret: Authorization shows its parameter names only)")


def _request_arguments(p: Parser) -> None:
    p.add_argument("--profile", help="the profile that signs (default: the active profile)")
    p.add_argument("-X", "--method", metavar="METHOD", help="HTTP method (default GET, or POST with a body)")
    p.add_argument("url", metavar="URL", help="the full URL, query included (the query is signed)")
    _add_data_option(p)
    body = p.add_mutually_exclusive_group()
    body.add_argument(
        "--json",
        metavar="JSON|@FILE",
        help="a JSON body (Content-Type and Accept application/json); like every body but a form, not signed",
    )
    body.add_argument("--data-raw", metavar="TEXT", help="a raw body, as written; give its -H 'Content-Type: …'")
    body.add_argument(
        "--data-binary", metavar="DATA|@FILE", help="a raw body, or a file's bytes; give its -H 'Content-Type: …'"
    )
    p.add_argument(
        "-F",
        "--form",
        action="append",
        default=[],
        metavar="NAME=VALUE|NAME=@FILE",
        help="a multipart/form-data field or file upload, ';type=MIME' after a file (repeatable; not signed)",
    )
    p.add_argument(
        "-H", "--header", action="append", default=[], metavar="'Name: value'", help="an extra header (repeatable)"
    )
    p.add_argument("-i", "--include", action="store_true", help="print the status line and headers on stderr")
    p.add_argument("--timeout", type=float, default=30.0, metavar="SECONDS", help="give up after this long (30)")
    _add_verbose_option(p)


def _verify_arguments(p: Parser) -> None:
    p.add_argument("--profile", help="the profile to check (default: the active profile)")
    p.add_argument("--json", action="store_true", help="one JSON object, with the provider's answer")
    _add_verbose_option(p)


def _add_data_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "-d",
        "--data",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a form parameter, sent x-www-form-urlencoded and signed (repeatable; UTF-8)",
    )


# -- providers.py, completion.py ---------------------------------------------------------------------------------


def _others(commands: Commands) -> None:
    commands.add(
        "providers",
        "list the built-in providers and those in providers.toml",
        "providers:ProvidersCommand",
        "loopauth providers --json",
        arguments=_providers_arguments,
    )

    commands.add(
        "completion",
        "print a shell completion script: subcommands, options, provider and profile names",
        "completion:CompletionCommand",
        "source <(loopauth completion bash)     (add it to ~/.bashrc; zsh and fish: see the README)",
        arguments=_completion_arguments,
    )


def _credentials(commands: Commands) -> None:
    commands.add(
        "credential",
        "answer git, kubectl or docker when they ask for credentials (their own protocols)",
        "credential:CredentialCommand",
        "git config --global credential.https://gitlab.com.helper '!loopauth credential git --profile gitlab'",
        "loopauth credential docker --add ghcr.io --profile github     (then docker-credential-loopauth answers)",
        arguments=_credential_arguments,
    )


def _credential_arguments(p: Parser) -> None:
    tools = p.add_subparsers(dest="tool", metavar="TOOL", parser_class=Parser, help="the tool that asks")
    tools.required = True
    git = tools.add_parser(
        "git", help="git's credential helper: get, store, erase on stdin/stdout (git help credential)"
    )
    git.add_argument("action", metavar="ACTION", help="what git asks: get, store or erase (others are ignored)")
    git.add_argument("--profile", help="the OAuth 2.0 profile (default: the active one)")
    git.add_argument(
        "--host",
        action="append",
        default=[],
        dest="hosts",
        metavar="HOST[:PORT]",
        help="also answer for this host (the provider's own hosts always match); repeatable",
    )
    kubectl = tools.add_parser("kubectl", help="a kubectl exec credential plugin: prints an ExecCredential")
    kubectl.add_argument("--profile", help="the OAuth 2.0 profile (default: the active one)")
    kubectl.add_argument(
        "--access-token",
        action="store_true",
        help="send the access token even when the profile has an ID token (for clusters that take access tokens)",
    )
    docker = tools.add_parser("docker", help="map registries to profiles for docker-credential-loopauth (credHelpers)")
    what = docker.add_mutually_exclusive_group(required=True)
    what.add_argument("--add", metavar="SERVER", help="answer for this registry with --profile's token")
    what.add_argument("--remove", metavar="SERVER", help="stop answering for this registry")
    what.add_argument("--list", action="store_true", help="the registries mapped, with their profiles")
    docker.add_argument("--profile", help="with --add: the OAuth 2.0 profile (default: the active one)")
    docker.add_argument("--username", help="with --add: the user name to send (default: the provider's convention)")


def _providers_arguments(p: Parser) -> None:
    p.add_argument("--json", action="store_true", help="one JSON array")


def _completion_arguments(p: Parser) -> None:
    p.add_argument("shell", choices=SHELLS, metavar="bash|zsh|fish", help="the shell the script is for")
