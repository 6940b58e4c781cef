"""``loopauth login`` and ``loopauth demo``: the loopback login from the command line.

``login`` prepares, binds, opens the browser and starts the provider's first call before asyncio and
aiohttp are imported (:mod:`loopauth.loopback.runner`), then completes the login in an event loop.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from ..errors import EXIT_OK, UsageError
from ..loopback.options import DEFAULT_CALLBACK_PATH, DEFAULT_PORT, DEFAULT_TIMEOUT, LoginOptions
from ..models import SIGNATURE_METHODS, Credentials, Provider
from ..store import CredentialStore
from .output import login_summary, print_json
from .parser import Commands

if TYPE_CHECKING:
    import ssl

    from ..loopback.runner import Login


def register(commands: Commands) -> None:
    p = commands.add(
        "login",
        "log in through the browser and store the credentials",
        LoginCommand.from_args,
        example="LOOPAUTH_CONSUMER_KEY=… LOOPAUTH_CONSUMER_SECRET=… loopauth login --provider x",
    )
    p.add_argument("--profile", default="default", help="the profile to store the login as (default 'default')")
    _add_provider_options(p)
    _add_callback_options(p, default_port=DEFAULT_PORT)
    _add_headless_options(p)

    p = commands.add(
        "demo",
        "log in to the embedded demo provider (no keys, no network)",
        DemoCommand.from_args,
        example="loopauth demo --auto",
    )
    p.add_argument("--profile", default="demo", help="the profile to store the demo login as (default 'demo')")
    p.add_argument("--auto", action="store_true", help="approve in the demo page automatically, even with a browser")
    p.add_argument("--deny", action="store_true", help="with --auto (or no browser): refuse instead of approving")
    _add_callback_options(p, default_port=0)


def _add_provider_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--provider",
        default=None,
        help="a preset (twitter/x, trello, flickr, …) or a providers.toml table; default twitter, "
        "or the name of a custom provider given by the URL options",
    )
    p.add_argument(
        "--consumer-key",
        default=os.environ.get("LOOPAUTH_CONSUMER_KEY"),
        metavar="K",
        help="the app's consumer key (default: $LOOPAUTH_CONSUMER_KEY)",
    )
    secret = p.add_mutually_exclusive_group()
    secret.add_argument(
        "--consumer-secret",
        metavar="S",
        help="the app's consumer secret; every user's `ps` shows it, so prefer $LOOPAUTH_CONSUMER_SECRET, "
        "--consumer-secret-file, or the prompt (without echo) that a terminal gets when it is missing",
    )
    secret.add_argument(
        "--consumer-secret-file", metavar="FILE", help="read the consumer secret from FILE (its first line)"
    )
    p.add_argument("--request-token-url", metavar="U", help="a custom provider's request-token endpoint")
    p.add_argument("--authorize-url", metavar="U", help="a custom provider's authorize page")
    p.add_argument("--access-token-url", metavar="U", help="a custom provider's access-token endpoint")
    p.add_argument("--verify-url", metavar="U", help="with the three URLs: the provider's verify-credentials endpoint")
    p.add_argument("--revoke-url", metavar="U", help="with the three URLs: the provider's token-revoke endpoint")
    p.add_argument(
        "--authorize-param",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="an extra parameter for the authorize page (repeatable)",
    )
    p.add_argument("--access-type", choices=("read", "write"), help="Twitter/X: ask for read or read-write access")
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


def _add_callback_options(p: argparse.ArgumentParser, *, default_port: int) -> None:
    p.add_argument("--host", default="127.0.0.1", help="loopback address to listen on (default 127.0.0.1)")
    p.add_argument(
        "--port",
        type=int,
        default=default_port,
        help=f"callback port (default {default_port}, register http://127.0.0.1:{default_port}/callback; "
        "0 picks a free one)"
        if default_port
        else "callback port (default: a free one)",
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


def parse_pairs(pairs: Sequence[str], what: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise UsageError(f"{what} takes KEY=VALUE, got {pair!r}")
        out[key] = value
    return out


def _provider(args: argparse.Namespace) -> Provider | str:
    urls = (args.request_token_url, args.authorize_url, args.access_token_url)
    if any(urls):
        if not all(urls):
            raise UsageError(
                "a custom provider needs all three of --request-token-url, --authorize-url, --access-token-url"
            )
        return Provider(args.provider or "custom", *urls, verify_url=args.verify_url, revoke_url=args.revoke_url)
    if args.verify_url or args.revoke_url:
        raise UsageError(
            "--verify-url and --revoke-url go with the three URL options; for a named provider, "
            "put verify_url / revoke_url in providers.toml"
        )
    return str(args.provider or "twitter")


MAX_SECRET_FILE = 64 * 1024


def _consumer_secret(args: argparse.Namespace) -> str | None:
    """--consumer-secret, else the first line of --consumer-secret-file, else $LOOPAUTH_CONSUMER_SECRET."""
    if args.consumer_secret is not None:
        return str(args.consumer_secret)
    if args.consumer_secret_file is None:
        return os.environ.get("LOOPAUTH_CONSUMER_SECRET")
    path = args.consumer_secret_file
    try:
        with open(path, "rb") as f:
            raw = f.read(MAX_SECRET_FILE + 1)
    except OSError as exc:
        raise UsageError(f"--consumer-secret-file {path}: cannot read: {exc.strerror or exc}") from None
    lines = raw.decode("utf-8", "replace").splitlines()
    if len(raw) > MAX_SECRET_FILE or not lines or not lines[0].strip():
        raise UsageError(f"--consumer-secret-file {path}: expected the secret on its first line")
    return lines[0].strip()


def _ask_for_secret(options: LoginOptions) -> LoginOptions:
    """The options with the consumer secret asked for on the terminal (no echo), when only it is missing."""
    if (
        options.consumer_secret is not None
        or not options.consumer_key
        or options.rsa_key_file
        or options.signature_method == "RSA-SHA1"
        or not _foreground_terminal()
    ):
        return options
    import getpass

    provider = options.provider if isinstance(options.provider, str) else options.provider.name
    try:
        secret = getpass.getpass(f"Consumer secret for {provider} (not shown): ", stream=sys.stderr)
    except EOFError:
        return options  # Ctrl-D: the usual "no consumer secret" error follows
    return replace(options, consumer_secret=secret or None)


def _foreground_terminal() -> bool:
    """Whether stdin is a terminal we may prompt on: `loopauth login &` would be stopped (SIGTTOU) instead."""
    if not os.isatty(0):
        return False
    try:
        return os.tcgetpgrp(0) == os.getpgrp()
    except OSError:
        return True  # not our controlling terminal, so prompting on it cannot stop us


@dataclass(frozen=True)
class Tls:
    """The TLS options, checked; the context itself is made when the command runs (it may print a warning)."""

    cert: str | None = None
    key: str | None = None
    self_signed: bool = False

    def context(self) -> ssl.SSLContext | None:
        if self.cert and self.key:
            from ..loopback.tls import server_context

            return server_context(self.cert, self.key)
        if self.self_signed:
            from ..loopback.tls import self_signed_context

            context = self_signed_context()
            print(
                "loopauth: using a throwaway self-signed certificate: the browser will warn that the connection is "
                "not private; accept it for this one page (it only receives a one-time verifier).",
                file=sys.stderr,
            )
            return context
        return None


@dataclass(frozen=True)
class LoginCommand:
    options: LoginOptions
    tls: Tls
    json_out: bool

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> LoginCommand:
        if args.oob and args.callback_url:
            raise UsageError("--oob and --callback-url exclude each other (--oob is --callback-url oob)")
        if bool(args.tls_cert) != bool(args.tls_key):
            raise UsageError("--tls-cert and --tls-key go together")
        if args.tls_self_signed and args.tls_cert:
            raise UsageError("--tls-self-signed and --tls-cert exclude each other")
        if args.rsa_key and args.signature_method not in (None, "RSA-SHA1"):
            raise UsageError(f"--rsa-key is for RSA-SHA1, not {args.signature_method}")
        request_token_params = {"x_auth_access_type": args.access_type} if args.access_type else {}
        twitter: dict[str, str] = {}
        if args.force_login:
            twitter["force_login"] = "true"
        if args.screen_name:
            twitter["screen_name"] = args.screen_name
        options = LoginOptions(
            profile=args.profile,
            provider=_provider(args),
            consumer_key=args.consumer_key,
            consumer_secret=_consumer_secret(args),
            signature_method=args.signature_method,
            rsa_key_file=args.rsa_key,
            authorize_params={**twitter, **parse_pairs(args.authorize_param, "--authorize-param")},
            request_token_params=request_token_params,
            host=args.host,
            port=args.port,
            callback_path=args.callback_path,
            callback_url=args.callback_url,
            oob=args.oob,
            timeout=args.timeout,
            open_browser=not args.no_browser,
            paste=True,
        )
        return cls(options, Tls(args.tls_cert, args.tls_key, args.tls_self_signed), args.json)

    def run(self) -> int:
        from ..api import prepare
        from ..loopback.options import plan_for
        from ..loopback.runner import Login

        options = _ask_for_secret(self.options)
        if self.tls != Tls():
            # The plan's checks first, so a certificate is not made (nor its warning printed) for a login that fails.
            plan_for(options, tls=True)
            options = replace(options, ssl_context=self.tls.context())
        login = Login(prepare(options))
        try:
            # Checked, bound, the browser on its way and the provider asked, before asyncio and aiohttp are
            # imported (a quarter of a second): the kernel holds the browser's connection meanwhile.
            login.bind()
            login.launch()
            login.begin()
            return _finish(login, self.json_out)
        finally:
            login.close()


def _finish(login: Login, json_out: bool) -> int:
    import asyncio

    creds = asyncio.run(login.complete())
    _print_result(creds, login.prepared.store, json_out)
    return EXIT_OK


def _print_result(creds: Credentials, store: CredentialStore, json_out: bool) -> None:
    if json_out:
        print_json(creds.to_dict())
    else:
        print(login_summary(creds, store))


@dataclass(frozen=True)
class DemoCommand:
    options: LoginOptions
    auto: bool
    deny: bool
    json_out: bool

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> DemoCommand:
        options = LoginOptions(
            profile=args.profile,
            host=args.host,
            port=args.port,
            callback_path=args.callback_path,
            timeout=args.timeout,
            open_browser=not args.no_browser,
        )
        return cls(options, args.auto or args.deny, args.deny, args.json)

    def run(self) -> int:
        import asyncio

        from ..loopback.browser import browser_available

        plays = self.auto or not browser_available() or not sys.stdin.isatty()
        if plays and self.options.open_browser:
            why = "--auto" if self.auto else "no browser or no terminal here"
            print(
                f"loopauth demo: {why}, so a scripted user opens the login instead of a browser and "
                f"{'denies' if self.deny else 'approves'} on the demo's authorize page.",
                file=sys.stderr,
            )
        creds = asyncio.run(self._login(plays and self.options.open_browser is not False))
        _print_result(creds, CredentialStore(), self.json_out)
        if not self.json_out:
            name = creds.profile
            print(
                f"Next: loopauth token --profile {name} --json   |   loopauth logout --profile {name}",
                file=sys.stderr,
            )
        return EXIT_OK

    async def _login(self, plays: bool) -> Credentials:
        import asyncio

        from ..api import prepare
        from ..demo import DemoProvider, play_user
        from ..loopback.runner import Login

        async with DemoProvider() as demo:
            tasks: set[asyncio.Task[str]] = set()

            async def play(url: str) -> bool:
                tasks.add(asyncio.create_task(play_user(url, approve=not self.deny)))
                return True

            options = replace(
                self.options,
                provider=demo.provider,
                consumer_key=demo.consumer_key,
                consumer_secret=demo.consumer_secret,
                open_browser=play if plays else self.options.open_browser,
                opener_label="the demo's scripted user",
            )
            return await Login(prepare(options)).complete()
