"""The ``loopauth`` command: argparse subcommands over the library.

Each subcommand imports only what it needs, so ``loopauth token`` never pays
for aiohttp or oauthlib. Every failure is one line on stderr and a
documented exit code.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

from . import __version__
from .errors import (
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_OK,
    LoopAuthError,
    UsageError,
)
from .models import Credentials
from .store import CredentialStore

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

ENV_FIELDS = ("consumer_key", "consumer_secret", "oauth_token", "oauth_token_secret", "user_id", "screen_name")


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (and exit 2), like every other failure."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see '{self.prog} --help')")


def _add_login_options(p: argparse.ArgumentParser, *, with_provider: bool = True) -> None:
    from .defaults import DEFAULT_CALLBACK_PATH, DEFAULT_PORT, DEFAULT_TIMEOUT

    if with_provider:
        p.add_argument(
            "--provider",
            default=None,
            help="a preset (twitter/x, trello, flickr, …) or a providers.toml "
            "table; default twitter, or custom with the three URL options",
        )
        p.add_argument(
            "--consumer-key",
            default=os.environ.get("LOOPAUTH_CONSUMER_KEY"),
            metavar="K",
            help="the app's consumer key (default: $LOOPAUTH_CONSUMER_KEY)",
        )
        p.add_argument(
            "--consumer-secret",
            default=os.environ.get("LOOPAUTH_CONSUMER_SECRET"),
            metavar="S",
            help="the app's consumer secret (default: $LOOPAUTH_CONSUMER_SECRET)",
        )
        p.add_argument("--request-token-url", metavar="U")
        p.add_argument("--authorize-url", metavar="U")
        p.add_argument("--access-token-url", metavar="U")
        p.add_argument(
            "--authorize-param",
            action="append",
            default=[],
            metavar="KEY=VALUE",
            help="an extra parameter for the authorize page (repeatable)",
        )
    p.add_argument("--host", default="127.0.0.1", help="loopback address to listen on (default 127.0.0.1)")
    p.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        help=f"callback port (default {DEFAULT_PORT}, register http://127.0.0.1:{DEFAULT_PORT}/callback; "
        "0 picks a free one)",
    )
    p.add_argument("--callback-path", default=DEFAULT_CALLBACK_PATH, help="callback path (default /callback)")
    p.add_argument(
        "--timeout",
        type=float,
        default=DEFAULT_TIMEOUT,
        metavar="SECONDS",
        help=f"how long to wait for the browser (default {DEFAULT_TIMEOUT:g})",
    )
    p.add_argument("--no-browser", action="store_true", help="don't open a browser; print the URL to open")
    p.add_argument("--json", action="store_true", help="print the credentials as one JSON object")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="loopauth",
        description="One-command OAuth 1.0a login through a loopback callback.",
        epilog=EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"loopauth {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True

    def command(name: str, help: str) -> argparse.ArgumentParser:
        return sub.add_parser(
            name, help=help, description=help, epilog=EXIT_CODES, formatter_class=argparse.RawDescriptionHelpFormatter
        )

    p = command("login", "log in through the browser and store the credentials")
    p.add_argument("--profile", default="default", help="profile name (default 'default')")
    _add_login_options(p)
    p.set_defaults(run=cmd_login)

    p = command("token", "print a profile's credentials (for other tools)")
    p.add_argument("--profile", default="default")
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="one JSON object")
    fmt.add_argument("--env", action="store_true", help="POSIX 'export NAME=value' lines (the default)")
    fmt.add_argument("--field", metavar="NAME", help=f"one bare value: {', '.join(ENV_FIELDS)}")
    p.add_argument("--prefix", default="LOOPAUTH_", help="variable prefix for --env (default LOOPAUTH_)")
    p.set_defaults(run=cmd_token)

    p = command("list", "list the stored profiles (never a secret)")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=cmd_list)

    p = command("logout", "delete a profile's stored credentials")
    p.add_argument("--profile", default="default")
    p.set_defaults(run=cmd_logout)

    p = command("demo", "log in to the embedded demo provider (no keys, no network)")
    p.add_argument("--profile", default="demo", help="profile to store the demo login in (default 'demo')")
    p.add_argument("--auto", action="store_true", help="approve in the demo page automatically, even with a browser")
    p.add_argument("--deny", action="store_true", help="with --auto (or no browser): refuse instead of approving")
    _add_login_options(p, with_provider=False)
    p.set_defaults(run=cmd_demo, port=0)

    p = command("path", "print the directory where credentials are stored")
    p.set_defaults(run=cmd_path)
    return parser


def _store() -> CredentialStore:
    return CredentialStore()


def _print_json(data: Any) -> None:
    print(json.dumps(data, indent=2, ensure_ascii=False))


def _summary(creds: Credentials, store: CredentialStore) -> str:
    from .flow import account_name

    uid = f" (user id {creds.user_id})" if creds.user_id and creds.screen_name else ""
    return (
        f"Logged in to {creds.provider} as {account_name(creds)}{uid}; "
        f"saved as profile '{creds.profile}' in {store.path_for(creds.profile)}"
    )


def _parse_pairs(pairs: Sequence[str], what: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise UsageError(f"{what} takes KEY=VALUE, got {pair!r}")
        out[key] = value
    return out


def _provider_from_args(args: argparse.Namespace) -> Any:
    from .models import Provider

    urls = (args.request_token_url, args.authorize_url, args.access_token_url)
    if any(urls):
        if not all(urls):
            raise UsageError(
                "a custom provider needs all three of --request-token-url, --authorize-url, --access-token-url"
            )
        return Provider(args.provider or "custom", *urls)
    return args.provider or "twitter"


def _run_login(args: argparse.Namespace, **kwargs: Any) -> int:
    import asyncio

    from .flow import login_async

    store = _store()
    creds = asyncio.run(
        login_async(
            profile=args.profile,
            host=args.host,
            port=args.port,
            callback_path=args.callback_path,
            timeout=args.timeout,
            store=store,
            **kwargs,
        )
    )
    if args.json:
        _print_json(creds.to_dict())
    else:
        print(_summary(creds, store))
    return EXIT_OK


def cmd_login(args: argparse.Namespace) -> int:
    return _run_login(
        args,
        provider=_provider_from_args(args),
        consumer_key=args.consumer_key,
        consumer_secret=args.consumer_secret,
        authorize_params=_parse_pairs(args.authorize_param, "--authorize-param"),
        open_browser=not args.no_browser,
    )


def cmd_demo(args: argparse.Namespace) -> int:
    import asyncio

    from .browser import browser_available
    from .demo import DemoProvider, play_user

    auto = args.auto or args.deny or not browser_available() or not sys.stdin.isatty()
    if auto and not args.no_browser:
        print(
            "loopauth demo: no browser or no terminal here, so the demo plays the user and "
            f"{'denies' if args.deny else 'approves'} on the demo's authorize page.",
            file=sys.stderr,
        )

    async def run() -> int:
        async with DemoProvider() as demo:
            tasks: set[asyncio.Task[str]] = set()

            async def play(url: str) -> bool:
                task = asyncio.create_task(play_user(url, approve=not args.deny))
                tasks.add(task)
                return True

            opener: Any = play if auto and not args.no_browser else not args.no_browser
            return await _demo_login(args, demo.provider, demo.consumer_key, demo.consumer_secret, opener)

    code = asyncio.run(run())
    if code == EXIT_OK and not args.json:
        print(
            f"Next: loopauth token --profile {args.profile} --json   |   loopauth logout --profile {args.profile}",
            file=sys.stderr,
        )
    return code


async def _demo_login(args: argparse.Namespace, provider: Any, key: str, secret: str, opener: Any) -> int:
    from .flow import login_async

    store = _store()
    creds = await login_async(
        provider=provider,
        consumer_key=key,
        consumer_secret=secret,
        profile=args.profile,
        host=args.host,
        port=args.port,
        callback_path=args.callback_path,
        timeout=args.timeout,
        store=store,
        open_browser=opener,
    )
    if args.json:
        _print_json(creds.to_dict())
    else:
        print(_summary(creds, store))
    return EXIT_OK


def cmd_token(args: argparse.Namespace) -> int:
    creds = _store().load(args.profile)
    data = creds.to_dict()
    if args.json:
        _print_json(data)
    elif args.field:
        if args.field not in data or isinstance(data[args.field], dict):
            raise UsageError(f"unknown field {args.field!r} (choose from {', '.join(ENV_FIELDS)})")
        value = data[args.field]
        print("" if value is None else value)
    else:
        prefix = args.prefix
        if (prefix and not (prefix[0].isalpha() or prefix[0] == "_")) or not prefix.replace("_", "a").isalnum():
            raise UsageError(f"--prefix must be a valid shell variable prefix, got {prefix!r}")
        for name in ENV_FIELDS:
            value = data.get(name)
            if value is not None:
                print(f"export {prefix}{name.upper()}={shlex.quote(str(value))}")
    return EXIT_OK


def cmd_list(args: argparse.Namespace) -> int:
    store = _store()
    entries = store.profiles()
    if args.json:
        _print_json(
            [
                {**e.credentials.public_dict(), "path": str(e.path)}
                if e.credentials
                else {"profile": e.name, "path": str(e.path), "error": e.error}
                for e in entries
            ]
        )
        return EXIT_OK
    if not entries:
        print(
            f"No profiles yet (credentials would be stored in {store.root}). Log in with: loopauth login",
            file=sys.stderr,
        )
        return EXIT_OK
    rows = [("PROFILE", "PROVIDER", "ACCOUNT", "USER ID", "CREATED")]
    for e in entries:
        c = e.credentials
        if c is None:
            rows.append((e.name, "-", f"(unreadable: {e.error})", "-", "-"))
        else:
            rows.append(
                (
                    c.profile,
                    c.provider,
                    f"@{c.screen_name}" if c.screen_name else "-",
                    c.user_id or "-",
                    c.created_at or "-",
                )
            )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip())
    print(f"Stored unencrypted (mode 0600) in {store.root}", file=sys.stderr)
    return EXIT_OK


def cmd_logout(args: argparse.Namespace) -> int:
    from .errors import NotLoggedIn

    store = _store()
    if not store.delete(args.profile):
        raise NotLoggedIn(f"not logged in: no profile '{args.profile}'", profile=args.profile)
    print(f"Logged out: deleted profile '{args.profile}'", file=sys.stderr)
    return EXIT_OK


def cmd_path(args: argparse.Namespace) -> int:
    print(_store().root)
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        run: Callable[[argparse.Namespace], int] = args.run
        return run(args)
    except LoopAuthError as exc:
        print(f"loopauth: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("loopauth: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # `loopauth token | head -c0`: the reader left; not our failure to report.
        sys.stderr.close()
        return EXIT_OK
    except Exception as exc:
        if os.environ.get("LOOPAUTH_DEBUG"):
            raise
        print(
            f"loopauth: internal error: {exc.__class__.__name__}: {exc} (set LOOPAUTH_DEBUG=1 for a traceback)",
            file=sys.stderr,
        )
        return EXIT_INTERNAL
