"""The ``loopauth`` command: argparse subcommands over the library.

Each subcommand imports only what it needs, so ``loopauth token`` never pays
for aiohttp or oauthlib; a plain ``loopauth token`` (the call other tools make
at every start) is read before argparse is even imported. Every failure is one
line on stderr and a documented exit code.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import sys
from collections.abc import Callable, Sequence

from . import __version__
from .errors import (
    EXIT_INTERNAL,
    EXIT_INTERRUPTED,
    EXIT_LOCAL,
    EXIT_OK,
    LoopAuthError,
    UsageError,
)
from .models import SIGNATURE_METHODS, Credentials
from .store import CredentialStore

TYPE_CHECKING = False  # not typing's: importing typing is a few ms on the token path
if TYPE_CHECKING:
    import argparse
    from typing import Any, TypedDict

    from .prepare import EarlyStart

    class TokenArgs(TypedDict):
        profile: str
        json_out: bool
        field: str | None
        prefix: str


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
            "--verify-url", metavar="U", help="with the three URLs: the provider's verify-credentials endpoint"
        )
        p.add_argument("--revoke-url", metavar="U", help="with the three URLs: the provider's token-revoke endpoint")
        p.add_argument(
            "--authorize-param",
            action="append",
            default=[],
            metavar="KEY=VALUE",
            help="an extra parameter for the authorize page (repeatable)",
        )
        p.add_argument(
            "--access-type",
            choices=("read", "write"),
            help="Twitter/X: ask for read or read-write access (x_auth_access_type)",
        )
        p.add_argument(
            "--force-login", action="store_true", help="Twitter/X: ask for the password even if already signed in"
        )
        p.add_argument("--screen-name", metavar="NAME", help="Twitter/X: prefill this account on the login page")
        p.add_argument(
            "--signature-method",
            choices=SIGNATURE_METHODS,
            help="how to sign (default: the provider's, usually HMAC-SHA1); the profile remembers it",
        )
        p.add_argument(
            "--rsa-key",
            metavar="FILE",
            help="PEM private key for RSA-SHA1 (implies --signature-method RSA-SHA1; needs loopauth[rsa])",
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


def _add_headless_options(p: argparse.ArgumentParser) -> None:
    """For a browser that is elsewhere: another callback, the PIN flow, TLS."""
    p.add_argument(
        "--callback-url",
        metavar="URL",
        help="the callback to register and send, replacing --host/--port/--callback-path; served when it is "
        "loopback we can bind, otherwise paste the address the browser lands on (or 'oob')",
    )
    p.add_argument("--oob", action="store_true", help="PIN flow: the provider shows a PIN; type it here")
    p.add_argument("--tls-cert", metavar="FILE", help="serve the callback over https with this PEM certificate")
    p.add_argument("--tls-key", metavar="FILE", help="... and this PEM private key (unencrypted)")
    p.add_argument(
        "--tls-self-signed",
        action="store_true",
        help="serve https with a throwaway self-signed certificate (needs 'cryptography'; the browser warns)",
    )


def _headless_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    """login_async's keywords for --callback-url, --oob and the TLS options; usage errors before anything starts."""
    import ssl

    if args.oob and args.callback_url:
        raise UsageError("--oob and --callback-url exclude each other (--oob is --callback-url oob)")
    if bool(args.tls_cert) != bool(args.tls_key):
        raise UsageError("--tls-cert and --tls-key go together")
    if args.tls_self_signed and args.tls_cert:
        raise UsageError("--tls-self-signed and --tls-cert exclude each other")
    from .protocol import plan_callback

    # The same checks login_async makes, but before a certificate is generated or a warning printed about it.
    tls = bool(args.tls_cert or args.tls_self_signed)
    plan_callback(args.callback_url, oob=args.oob, host=args.host, port=args.port, path=args.callback_path, tls=tls)
    context: ssl.SSLContext | None = None
    if args.tls_cert:
        from .tls import server_context

        context = server_context(args.tls_cert, args.tls_key)
    elif args.tls_self_signed:
        from .tls import self_signed_context

        context = self_signed_context()
        print(
            "loopauth: using a throwaway self-signed certificate: the browser will warn that the connection is "
            "not private; accept it for this one page (it only receives a one-time verifier).",
            file=sys.stderr,
        )
    return {"callback_url": args.callback_url, "oob": args.oob, "ssl_context": context, "paste": True}


def _add_data_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "-d",
        "--data",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a form parameter, sent x-www-form-urlencoded and signed (repeatable; UTF-8)",
    )


def build_parser() -> argparse.ArgumentParser:
    import argparse
    from typing import NoReturn

    class _Parser(argparse.ArgumentParser):
        """argparse, but a usage error is one line (and exit 2), like every other failure."""

        def error(self, message: str) -> NoReturn:
            raise UsageError(f"{message} (see '{self.prog} --help')")

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
    _add_headless_options(p)
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
    p.add_argument("--revoke", action="store_true", help="first ask the provider to invalidate the token (signed POST)")
    p.add_argument("--force", action="store_true", help="with --revoke: delete the profile even if revoking fails")
    p.set_defaults(run=cmd_logout)

    p = command("header", "print the Authorization header for a request (to use with curl)")
    p.add_argument("--profile", default="default")
    p.add_argument("method", metavar="METHOD", help="GET, POST, …")
    p.add_argument("url", metavar="URL", help="the full URL, query included (the query is signed)")
    _add_data_option(p)
    p.set_defaults(run=cmd_header)

    p = command("request", "make a signed request and print the response body")
    p.add_argument("--profile", default="default")
    p.add_argument("-X", "--method", metavar="METHOD", help="HTTP method (default GET, or POST with -d)")
    p.add_argument("url", metavar="URL", help="the full URL, query included (the query is signed)")
    _add_data_option(p)
    p.add_argument(
        "-H", "--header", action="append", default=[], metavar="'Name: value'", help="an extra header (repeatable)"
    )
    p.add_argument("-i", "--include", action="store_true", help="print the status line and headers on stderr")
    p.add_argument("--timeout", type=float, default=30.0, metavar="SECONDS", help="give up after this long (30)")
    p.set_defaults(run=cmd_request)

    p = command("verify", "ask the provider who a profile's token belongs to")
    p.add_argument("--profile", default="default")
    p.add_argument("--json", action="store_true", help="one JSON object, with the provider's answer")
    p.set_defaults(run=cmd_verify)

    p = command("providers", "list the built-in providers and those in providers.toml")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=cmd_providers)

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
        from .protocol import check_endpoint

        for flag, url in (("--verify-url", args.verify_url), ("--revoke-url", args.revoke_url)):
            if url:
                check_endpoint(url, flag)
        return Provider(args.provider or "custom", *urls, verify_url=args.verify_url, revoke_url=args.revoke_url)
    if args.verify_url or args.revoke_url:
        raise UsageError(
            "--verify-url and --revoke-url go with the three URL options; for a named provider, "
            "put verify_url / revoke_url in providers.toml"
        )
    return args.provider or "twitter"


def _signing_from_args(args: argparse.Namespace) -> dict[str, Any]:
    method = args.signature_method
    if args.rsa_key:
        if method not in (None, "RSA-SHA1"):
            raise UsageError(f"--rsa-key is for RSA-SHA1, not {method}")
        method = "RSA-SHA1"
    return {"signature_method": method, "rsa_key_file": args.rsa_key}


def _twitter_params(args: argparse.Namespace) -> tuple[dict[str, str], dict[str, str]]:
    """Twitter/X's extras: (request-token parameters, authorize parameters)."""
    request_token = {"x_auth_access_type": args.access_type} if args.access_type else {}
    authorize: dict[str, str] = {}
    if args.force_login:
        authorize["force_login"] = "true"
    if args.screen_name:
        authorize["screen_name"] = args.screen_name
    return request_token, authorize


async def _login(args: argparse.Namespace, early: EarlyStart | None = None, **kwargs: Any) -> int:
    """Run login_async with the options login and demo share, then print the result."""
    from .flow import login_async

    store = kwargs.setdefault("store", _store())
    creds = await login_async(**_login_kwargs(args, kwargs), early=early)
    if args.json:
        _print_json(creds.to_dict())
    else:
        print(_summary(creds, store))
    return EXIT_OK


def _login_kwargs(args: argparse.Namespace, kwargs: dict[str, Any]) -> dict[str, Any]:
    return {
        "profile": args.profile,
        "host": args.host,
        "port": args.port,
        "callback_path": args.callback_path,
        "timeout": args.timeout,
        **kwargs,
    }


def _run_login(args: argparse.Namespace, **kwargs: Any) -> int:
    from .prepare import start_early

    kwargs.setdefault("store", _store())
    # Checked, bound and the browser on its way before asyncio and aiohttp are imported (a quarter
    # of a second): the kernel holds the browser's connection until the server takes the socket.
    early = start_early(**_login_kwargs(args, kwargs))
    try:
        import asyncio

        return asyncio.run(_login(args, early, **kwargs))
    finally:
        if early is not None:
            early.listeners.close()


def cmd_login(args: argparse.Namespace) -> int:
    request_token_params, twitter_authorize = _twitter_params(args)
    return _run_login(
        args,
        provider=_provider_from_args(args),
        consumer_key=args.consumer_key,
        consumer_secret=args.consumer_secret,
        authorize_params={**twitter_authorize, **_parse_pairs(args.authorize_param, "--authorize-param")},
        request_token_params=request_token_params,
        open_browser=not args.no_browser,
        **_headless_kwargs(args),
        **_signing_from_args(args),
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
            return await _login(
                args,
                provider=demo.provider,
                consumer_key=demo.consumer_key,
                consumer_secret=demo.consumer_secret,
                open_browser=opener,
            )

    code = asyncio.run(run())
    if code == EXIT_OK and not args.json:
        print(
            f"Next: loopauth token --profile {args.profile} --json   |   loopauth logout --profile {args.profile}",
            file=sys.stderr,
        )
    return code


def cmd_token(args: argparse.Namespace) -> int:
    return print_token(args.profile, json_out=args.json, field=args.field, prefix=args.prefix)


def print_token(profile: str, *, json_out: bool = False, field: str | None = None, prefix: str = "LOOPAUTH_") -> int:
    creds = _store().load(profile)
    data = creds.to_dict()
    if json_out:
        _print_json(data)
    elif field:
        if field not in data or isinstance(data[field], dict):
            raise UsageError(f"unknown field {field!r} (choose from {', '.join(ENV_FIELDS)})")
        value = data[field]
        print("" if value is None else value)
    else:
        if (prefix and not (prefix[0].isalpha() or prefix[0] == "_")) or not prefix.replace("_", "a").isalnum():
            raise UsageError(f"--prefix must be a valid shell variable prefix, got {prefix!r}")
        import shlex

        for name in ENV_FIELDS:
            value = data.get(name)
            if value is not None:
                print(f"export {prefix}{name.upper()}={shlex.quote(str(value))}")
    return EXIT_OK


_TOKEN_FLAGS = ("--json", "--env")
_TOKEN_OPTIONS = ("--profile", "--field", "--prefix")


def plain_token_args(argv: Sequence[str]) -> TokenArgs | None:
    """``print_token``'s arguments for a plain ``token`` command line, read without argparse.

    Plain means: only the full option names, each at most once, no two formats, and no
    value that starts with '-'. Anything else (help, abbreviations, mistakes) returns None
    and goes through argparse, which has the answer and the error messages for it.
    tests/test_fastpath.py checks that both readings agree.
    """
    if not argv or argv[0] != "token":
        return None
    values: dict[str, str] = {}
    flags: set[str] = set()
    rest = list(argv[1:])
    while rest:
        name, eq, value = rest.pop(0).partition("=")
        if name in values or name in flags:
            return None
        if name in _TOKEN_FLAGS and not eq:
            flags.add(name)
        elif name in _TOKEN_OPTIONS:
            if not eq:
                if not rest or rest[0].startswith("-"):
                    return None
                value = rest.pop(0)
            values[name] = value
        else:
            return None
    if len(flags) + ("--field" in values) > 1:
        return None
    return {
        "profile": values.get("--profile", "default"),
        "json_out": "--json" in flags,
        "field": values.get("--field"),
        "prefix": values.get("--prefix", "LOOPAUTH_"),
    }


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
    if args.force and not args.revoke:
        raise UsageError("--force only applies with --revoke")
    if args.revoke:
        _revoke(store.load(args.profile), force=args.force)
    if not store.delete(args.profile):
        raise NotLoggedIn(f"not logged in: no profile '{args.profile}'", profile=args.profile)
    print(f"Logged out: deleted profile '{args.profile}'", file=sys.stderr)
    return EXIT_OK


def _revoke(creds: Credentials, *, force: bool) -> None:
    import asyncio

    from .calls import revoke
    from .errors import ProviderError

    try:
        asyncio.run(revoke(creds))
    except ProviderError as exc:
        if not force:
            # The token may still work at the provider: keeping the profile lets the user retry
            # instead of losing the only copy of a token they wanted dead.
            raise ProviderError(
                f"{exc.message}; kept profile '{creds.profile}' (retry, or add --force to delete it anyway)",
                status=exc.status,
                body=exc.body,
            ) from None
        print(
            f"loopauth: warning: {exc.message}; deleting the profile anyway (--force): the token may still be "
            f"valid, so revoke the app's access in {creds.provider}'s settings",
            file=sys.stderr,
        )
    else:
        print(f"Revoked the token at {creds.provider}", file=sys.stderr)


_TCHAR = frozenset("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")


def _parse_form(pairs: Sequence[str]) -> list[tuple[str, str]]:
    """-d KEY=VALUE, in order and with repeats kept (a form may repeat a name)."""
    form: list[tuple[str, str]] = []
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise UsageError(f"-d takes KEY=VALUE, got {pair!r}")
        for text in (key, value):
            try:
                text.encode("utf-8")
            except UnicodeEncodeError:
                raise UsageError(f"-d {key[:20]!r}…: not valid UTF-8 (check the terminal's locale)") from None
        form.append((key, value))
    return form


def _parse_headers(lines: Sequence[str]) -> dict[str, str]:
    headers: dict[str, str] = {}
    for line in lines:
        name, sep, value = line.partition(":")
        name, value = name.strip(), value.strip()
        if not sep or not name or not set(name) <= _TCHAR or any(c in value for c in "\r\n\0"):
            raise UsageError(f"-H takes 'Name: value', got {line!r}")
        if name.lower() == "authorization":
            raise UsageError("-H Authorization: loopauth signs the request and sets that header itself")
        headers[name] = value
    return headers


def _method(name: str) -> str:
    if not name or not set(name) <= _TCHAR:
        raise UsageError(f"invalid HTTP method {name!r}")
    return name.upper()


def cmd_header(args: argparse.Namespace) -> int:
    from .calls import sign_for

    method, form = _method(args.method), _parse_form(args.data)
    creds = _store().load(args.profile)
    signed = sign_for(creds, method, args.url, form=form)
    # The user asked for this line, secrets and all (PLAINTEXT carries them in clear).
    print(f"Authorization: {signed.headers['Authorization']}")
    return EXIT_OK


def cmd_request(args: argparse.Namespace) -> int:
    import asyncio

    from .calls import request
    from .errors import ProviderError
    from .protocol import provider_message

    # Syntax first: a typo is reported as such even for a profile that does not exist.
    form = _parse_form(args.data)
    headers = _parse_headers(args.header)
    method = _method(args.method) if args.method is not None else ("POST" if form else "GET")
    if args.timeout <= 0:
        raise UsageError("--timeout must be a positive number of seconds")
    creds = _store().load(args.profile)
    response = asyncio.run(request(creds, method, args.url, form=form, headers=headers, timeout=args.timeout))
    if args.include:
        lines = [f"{response.version} {response.status} {response.reason}".rstrip()]
        lines += [f"{name}: {value}" for name, value in response.headers.items()]
        print("\n".join(lines) + "\n", file=sys.stderr, flush=True)
    # Exactly the bytes the provider sent: JSON, images or anything else, with no newline added.
    sys.stdout.buffer.write(response.body)
    sys.stdout.flush()
    if not 200 <= response.status < 300:
        text = response.text()
        raise ProviderError(
            f"{method} {_where(args.url)} answered {response.status} {response.reason}: "
            f"{provider_message(response.content_type, text)}",
            status=response.status,
            body=text,
        )
    return EXIT_OK


def _where(url: str) -> str:
    """Scheme, host and path of a URL: enough to say which call failed, without a query that may hold values."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


def cmd_verify(args: argparse.Namespace) -> int:
    import asyncio

    from .calls import verify

    creds = _store().load(args.profile)
    who = asyncio.run(verify(creds))
    if args.json:
        _print_json(
            {
                "profile": creds.profile,
                "provider": creds.provider,
                "screen_name": who.screen_name,
                "user_id": who.user_id,
                "response": who.response,
            }
        )
        return EXIT_OK
    if who.screen_name or who.user_id:
        account = f"@{who.screen_name}" if who.screen_name else f"user {who.user_id}"
        uid = f" (user id {who.user_id})" if who.screen_name and who.user_id else ""
        print(f"{account}{uid} on {creds.provider}: profile '{creds.profile}' is valid")
    else:
        print(f"profile '{creds.profile}' is valid on {creds.provider} (its answer names no account)")
    return EXIT_OK


def cmd_providers(args: argparse.Namespace) -> int:
    from .providers import ALIASES, PRESETS, load_custom, providers_file

    path = providers_file(_store().root)
    custom = load_custom(path)
    entries: list[dict[str, Any]] = []
    for name, provider in PRESETS.items():
        entry: dict[str, Any] = {**provider.to_dict(), "source": "preset"}
        aliases = sorted(alias for alias, target in ALIASES.items() if target == name)
        if aliases:
            entry["aliases"] = aliases
        if name in custom:
            entry["overridden_by"] = str(path)
        entries.append(entry)
    for provider in custom.values():
        entries.append({**provider.to_dict(), "source": str(path)})
    if args.json:
        _print_json(entries)
        return EXIT_OK
    labels = {
        "request_token_url": "request token",
        "authorize_url": "authorize",
        "access_token_url": "access token",
        "verify_url": "verify",
        "revoke_url": "revoke",
        "signature_method": "signature",
    }
    for i, entry in enumerate(entries):
        source = "preset" if entry["source"] == "preset" else "providers.toml"
        notes = [source]
        if entry.get("aliases"):
            notes.append(f"alias {', '.join(entry['aliases'])}")
        if entry.get("overridden_by"):
            notes.append("overridden by providers.toml")
        print(("\n" if i else "") + f"{entry['name']} ({'; '.join(notes)})")
        for key, label in labels.items():
            if entry.get(key):
                print(f"  {label:<14} {entry[key]}")
        if entry.get("authorize_params"):
            params = " ".join(f"{k}={v}" for k, v in entry["authorize_params"].items())
            print(f"  {'authorize with':<14} {params}")
    print(f"\nCustom providers: {path}", file=sys.stderr)
    return EXIT_OK


def cmd_path(args: argparse.Namespace) -> int:
    print(_store().root)
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    try:
        code = _dispatch(argv)
        sys.stdout.flush()  # so a failed write of buffered output is reported below, not at exit
        return code
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
    except OSError as exc:
        if exc.errno not in _OUTPUT_ERRNOS:
            return _internal_error(exc)
        # Our own file and network errors arrive wrapped (StoreError, ProviderError); a bare one
        # like these comes from writing to stdout: a full disk, a vanished terminal.
        print(f"loopauth: error: cannot write the output: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_LOCAL
    except Exception as exc:
        return _internal_error(exc)


_OUTPUT_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO})


def _dispatch(argv: Sequence[str]) -> int:
    plain = plain_token_args(argv)
    if plain is not None:
        return print_token(**plain)
    args = build_parser().parse_args(argv)
    command: Callable[[argparse.Namespace], int] = args.run
    return command(args)


def _internal_error(exc: Exception) -> int:
    if os.environ.get("LOOPAUTH_DEBUG"):
        raise exc
    print(
        f"loopauth: internal error: {exc.__class__.__name__}: {exc} (set LOOPAUTH_DEBUG=1 for a traceback)",
        file=sys.stderr,
    )
    return EXIT_INTERNAL


def run() -> None:
    """The ``loopauth`` command (console script and ``python -m loopauth``): main(), then exit at once.

    After a login the interpreter would spend about 60 ms tearing down aiohttp's modules and
    collecting garbage before the process ends, while the user (or the tool that started us)
    waits. Everything that matters is done by then: main() has flushed the output, the
    credentials are fsynced, the sockets closed, asyncio's executor shut down, and loopauth
    starts no non-daemon threads. So leave with os._exit. Library callers use main(), which
    just returns.
    """
    code = main()
    for stream in (sys.stdout, sys.stderr):
        # Already flushed by main(), or closed after a reader left; nothing more to report.
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    os._exit(code)
