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
from urllib.parse import urlsplit

from ..errors import EXIT_OK, NotLoggedIn, ProviderError, StoreError, UsageError
from ..loopback.options import DEFAULT_PROVIDER, LoginOptions
from ..models import AnyCredentials, AnyProvider, OAuth2Provider, Provider
from ..protocols import access_for
from ..providers import twitter_authorize_params
from ..store import CredentialStore
from ..text import clean
from .login_lock import login_lock
from .output import login_summary, print_json
from .shared import client_secret, consumer_secret, first, foreground_terminal, replaced_note, stored_profile

if TYPE_CHECKING:
    import ssl

    from ..demo import DemoProvider
    from ..http import Client
    from ..loopback.runner import Login


def parse_pairs(pairs: Sequence[str], what: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise UsageError(f"{what} takes KEY=VALUE, got {pair!r}")
        out[key] = value
    return out


def _provider(args: argparse.Namespace) -> AnyProvider | str:
    if args.issuer:
        if args.request_token_url or args.access_token_url:
            raise UsageError("--issuer is OAuth 2.0; --request-token-url and --access-token-url are OAuth 1.0a")
        from ..oidc.discovery import issuer_provider

        return issuer_provider(
            args.issuer,
            args.provider,
            authorize_url=args.authorize_url,
            token_url=args.token_url,
            revoke_url=args.revoke_url,
            verify_url=args.verify_url,
            device_authorization_url=args.device_url,
        )
    if args.token_url:
        # OAuth 2.0: --token-url instead of the OAuth 1.0a request/access URLs.
        if args.request_token_url or args.access_token_url:
            raise UsageError("--token-url is OAuth 2.0; --request-token-url and --access-token-url are OAuth 1.0a")
        if not args.authorize_url and not args.device_url:
            raise UsageError("an OAuth 2.0 provider needs --authorize-url (or --device-url) with --token-url")
        return OAuth2Provider(
            args.provider or "custom",
            args.authorize_url or "",
            args.token_url,
            revoke_url=args.revoke_url,
            verify_url=args.verify_url,
            device_authorization_url=args.device_url,
        )
    urls = (args.request_token_url, args.authorize_url, args.access_token_url)
    if any(urls):
        if not all(urls):
            raise UsageError(
                "a custom provider needs all three of --request-token-url, --authorize-url, --access-token-url "
                "(OAuth 1.0a), or --authorize-url and --token-url (OAuth 2.0)"
            )
        return Provider(args.provider or "custom", *urls, verify_url=args.verify_url, revoke_url=args.revoke_url)
    if args.verify_url or args.revoke_url:
        raise UsageError(
            "--verify-url and --revoke-url go with the URL options of a custom provider; for a named provider, "
            "put verify_url / revoke_url in providers.toml"
        )
    return str(args.provider or DEFAULT_PROVIDER)


def _ask_for_secret(options: LoginOptions, store: CredentialStore) -> LoginOptions:
    """The options with the consumer secret asked for on the terminal (no echo), when only it is missing."""
    if (
        options.consumer_secret is not None
        or not options.consumer_key
        or options.rsa_key_file
        or options.signature_method == "RSA-SHA1"
        or not foreground_terminal()
        or _is_oauth2(options, store)
    ):
        return options
    import getpass

    given = options.provider or DEFAULT_PROVIDER  # the command line always names one (_provider)
    provider = given if isinstance(given, str) else given.name
    try:
        secret = getpass.getpass(f"Consumer secret for {provider} (not shown): ", stream=sys.stderr)
    except EOFError:
        return options  # Ctrl-D: the usual "no consumer secret" error follows
    return replace(options, consumer_secret=secret or None)


def _is_oauth2(options: LoginOptions, store: CredentialStore) -> bool:
    """Whether the login's provider is an OAuth 2.0 one (which has no consumer secret to ask for)."""
    from ..errors import LoopAuthError
    from ..providers import resolve_provider

    try:
        return isinstance(resolve_provider(options.provider or DEFAULT_PROVIDER, store.root), OAuth2Provider)
    except LoopAuthError:
        return False  # prepare() reports it


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


def _refuse_unreadable(store: CredentialStore, profile: str) -> None:
    """A profile that exists but cannot be read keeps its provider to itself: without --provider, a login would go
    to the default one (twitter) and silently replace it with another account. Usage error, naming both."""
    try:
        store.load(profile)
    except NotLoggedIn:
        return
    except StoreError as exc:
        from .errors import provider_in, relogin_hint

        hint = relogin_hint(profile, provider_in(store.path_for(profile)))
        raise UsageError(
            f"profile '{profile}' cannot be read, so --provider must say where to log in ({exc.path}); {hint}"
        ) from None


def _store_of(store: CredentialStore, profile: str) -> str | None:
    """The store of the profile a login would replace, if there is one (read from its file: nothing is unlocked)."""
    try:
        return store.where(profile).kind
    except (NotLoggedIn, StoreError, UsageError):
        return None


def _note_store_change(store: CredentialStore, profile: str, was: str | None) -> None:
    """One line when a login moved a profile to the other store (``--store`` or ``$LOOPAUTH_STORE`` said so)."""
    now = _store_of(store, profile)
    if was is not None and now is not None and now != was:
        print(f"loopauth: note: profile '{profile}' moved from the {was} store to the {now} store", file=sys.stderr)


def no_refresh_warning(creds: AnyCredentials) -> str | None:
    """One line when a login will end with its access token: it expires, and there is no refresh token."""
    access = access_for(creds)
    if not access.expires or access.can_refresh or access.expires_at is None:
        return None
    import time

    minutes = max(0, round((access.expires_at - time.time()) / 60))
    at = time.strftime("%H:%M", time.localtime(access.expires_at))
    return (
        f"loopauth: warning: {clean(creds.provider)} gave no refresh token, so this login ends when its access token "
        f"expires, at {at} (in {minutes} min); ask for offline access to get one (the offline_access scope, and at "
        "some providers --authorize-param prompt=consent)"
    )


@dataclass(frozen=True)
class LoginCommand:
    options: LoginOptions
    tls: Tls
    json_out: bool
    provider_given: bool
    """Whether the command line named a provider or its endpoints; if not, an existing profile's are used."""
    verbose: bool = False
    profile: str | None = None
    """``--profile``; None logs in as the active profile (resolved when the command runs)."""
    device: bool = False
    """``--device``: the device authorization grant (RFC 8628) instead of the loopback callback."""
    device_url: str | None = None

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> LoginCommand:
        if args.device:
            for flag in ("oob", "callback_url", "tls_cert", "tls_self_signed"):
                if getattr(args, flag):
                    option = "--" + flag.replace("_", "-")
                    raise UsageError(f"--device uses no callback, so {option} does not apply")
        if args.oob and args.callback_url:
            raise UsageError("--oob and --callback-url exclude each other (--oob is --callback-url oob)")
        if bool(args.tls_cert) != bool(args.tls_key):
            raise UsageError("--tls-cert and --tls-key go together")
        if args.tls_self_signed and args.tls_cert:
            raise UsageError("--tls-self-signed and --tls-cert exclude each other")
        if args.rsa_key and args.signature_method not in (None, "RSA-SHA1"):
            raise UsageError(f"--rsa-key is for RSA-SHA1, not {args.signature_method}")
        request_token_params = {"x_auth_access_type": args.access_type} if args.access_type else {}
        twitter = twitter_authorize_params(force_login=args.force_login, screen_name=args.screen_name)
        options = LoginOptions(
            storage=args.store,
            provider=_provider(args),
            consumer_key=args.consumer_key,
            consumer_secret=consumer_secret(args),
            client_id=args.client_id,
            client_secret=client_secret(args),
            scopes=args.scope,
            client_auth=args.client_auth,
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
        tls = Tls(args.tls_cert, args.tls_key, args.tls_self_signed)
        given = args.provider is not None or any(getattr(args, name) for name in _PROVIDER_URLS)
        return cls(options, tls, args.json, given, args.verbose, args.profile, args.device, args.device_url)

    def run(self) -> int:
        from ..api import prepare, relogin_options
        from ..loopback.options import plan_for
        from ..loopback.runner import Login

        store = self.options.store or CredentialStore()
        options = replace(self.options, profile=store.resolve(self.profile))
        was = _store_of(store, options.profile)
        stored = stored_profile(store, options.profile)
        if stored is not None and not self.provider_given:
            options = relogin_options(options, stored)
        elif not self.provider_given:
            _refuse_unreadable(store, options.profile)
        options = replace(
            options,
            consumer_key=options.consumer_key or os.environ.get("LOOPAUTH_CONSUMER_KEY"),
            consumer_secret=first(options.consumer_secret, os.environ.get("LOOPAUTH_CONSUMER_SECRET")),
            client_id=options.client_id or os.environ.get("LOOPAUTH_CLIENT_ID"),
            client_secret=first(options.client_secret, os.environ.get("LOOPAUTH_CLIENT_SECRET")),
        )
        options = _ask_for_secret(options, store)
        if self.device:
            return self._device(options, stored, was)
        if self.tls != Tls():
            # The plan's checks first, so a certificate is not made (nor its warning printed) for a login that fails.
            plan_for(options, tls=True)
            options = replace(options, ssl_context=self.tls.context())
        login = Login(prepare(options), client=_traced(options) if self.verbose else None)
        try:
            with login_lock(login.prepared.store, login.prepared.profile):
                # Checked, bound, the browser on its way and the provider asked, before asyncio and aiohttp are
                # imported (a quarter of a second): the kernel holds the browser's connection meanwhile.
                login.bind()
                login.launch()
                login.begin()
                return _finish(login, self.json_out, stored, was)
        except ProviderError as exc:
            if stored is None or self.provider_given:
                raise
            from .errors import demo_not_running

            hint = demo_not_running(exc, stored)
            if hint is None:
                raise
            raise ProviderError(f"{exc.message}; {hint}", status=exc.status, body=exc.body) from None
        finally:
            login.close()

    def _device(self, options: LoginOptions, stored: AnyCredentials | None, was: str | None) -> int:
        """The device login: the user code on stderr, the page opened where a browser can be, then polling."""
        from ..api import prepare
        from ..loopback.browser import browser_available, open_url_blocking
        from ..oauth2 import device
        from ..oauth2.dance import OAuth2Dance

        prepared = prepare(options)
        if self.device_url and isinstance(prepared.dance, OAuth2Dance):
            from ..urls import check_endpoint

            url = check_endpoint(self.device_url, "--device-url")
            prepared.dance.provider = prepared.dance.provider.replace(device_authorization_url=url)
        opens = options.open_browser is True and browser_available()
        with login_lock(prepared.store, prepared.profile):
            creds = device.login(
                prepared,
                client=_traced(options) if self.verbose else None,
                open_url=open_url_blocking if opens else None,
            )
        return _report(creds, prepared.store, self.json_out, stored, was)


def _traced(options: LoginOptions) -> Client:
    from ..http import Client
    from ..trace import Tracer

    # The tracer redacts by name (tokens, verifiers) and, wherever they appear, the consumer's own values.
    return Client(trace=Tracer(secrets=[options.consumer_key, options.consumer_secret]))


_PROVIDER_URLS = ("request_token_url", "authorize_url", "access_token_url", "verify_url", "revoke_url", "issuer")


def _finish(login: Login, json_out: bool, stored: AnyCredentials | None = None, was: str | None = None) -> int:
    """Complete the login and say what it did; ``was`` is the store of the profile it replaces, if any."""
    import asyncio

    creds = asyncio.run(login.complete())
    return _report(creds, login.prepared.store, json_out, stored, was)


def _report(
    creds: AnyCredentials, store: CredentialStore, json_out: bool, stored: AnyCredentials | None, was: str | None
) -> int:
    """Say what a login did: the profile it replaced or moved, the result, and the active profile it made."""
    from ..store import claim_active as claim

    note = replaced_note(stored, creds) if stored is not None else None
    if note:
        print(note, file=sys.stderr)
    _note_store_change(store, creds.profile, was)
    _print_result(creds, store, json_out)
    ending = no_refresh_warning(creds)
    if ending:
        print(ending, file=sys.stderr)
    activated = claim(store, creds.profile)
    if activated:
        print(activated, file=sys.stderr)
    return EXIT_OK


def _print_result(creds: AnyCredentials, store: CredentialStore, json_out: bool) -> None:
    if json_out:
        print_json(creds.token_dict())
    else:
        print(login_summary(creds, store))


@dataclass(frozen=True)
class DemoCommand:
    options: LoginOptions
    auto: bool
    deny: bool
    json_out: bool
    serve: Serve | None = None
    """``--serve``: keep the demo provider running, with the commands to try against it."""
    oauth2: bool = False
    device: bool = False

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> DemoCommand:
        serve = None
        if args.device and (not args.oauth2 or args.serve):
            raise UsageError("--device goes with --oauth2 (the device grant is OAuth 2.0), and not with --serve")
        if args.serve:
            if args.oauth2 and (args.https or args.registered_callback):
                raise UsageError("--https and --registered-callback are for the OAuth 1.0a demo, not --oauth2")
            if args.token_lifetime is not None and not args.oauth2:
                raise UsageError("--token-lifetime is for the OAuth 2.0 demo: add --oauth2")
            registered = args.registered_callback
            if registered is not None and urlsplit(registered).port in (None, 0):
                raise UsageError("--registered-callback needs a URL with a fixed port (the one a login will use)")
            if args.token_lifetime is not None and args.token_lifetime < 1:
                raise UsageError(f"--token-lifetime must be at least 1 second, got {args.token_lifetime}")
            serve = Serve(args.port, args.https, registered, args.oauth2, args.token_lifetime)
        elif args.https or args.registered_callback or args.token_lifetime is not None:
            raise UsageError("--https, --registered-callback and --token-lifetime go with --serve")
        options = LoginOptions(
            profile=args.profile,
            storage=args.store,
            host=args.host,
            # With --serve, --port is the demo provider's; its own login's callback takes a free port.
            port=0 if serve else args.port,
            callback_path=args.callback_path,
            timeout=args.timeout,
            open_browser=not args.no_browser,
        )
        return cls(options, args.auto or args.deny, args.deny, args.json, serve, args.oauth2, args.device)

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
        plays = plays and self.options.open_browser is not False
        if self.serve is not None:
            from .serve import serve

            return serve(self, self.serve, plays)
        store = CredentialStore()
        was = _store_of(store, self.options.profile)
        stored = stored_profile(store, self.options.profile)
        creds = asyncio.run(self._login(plays))
        note = replaced_note(stored, creds) if stored is not None else None
        if note:
            print(note, file=sys.stderr)
        _note_store_change(store, creds.profile, was)
        _print_result(creds, store, self.json_out)
        if not self.json_out:
            name = creds.profile
            print(
                f"Next: loopauth token --profile {name} --json   |   loopauth logout --profile {name}\n"
                "The demo provider has stopped; to keep it running for verify, request and header: "
                "loopauth demo --serve",
                file=sys.stderr,
            )
        return EXIT_OK

    async def _login(self, plays: bool) -> AnyCredentials:
        if self.oauth2:
            from ..demo.oauth2 import DemoOAuth2Provider

            async with DemoOAuth2Provider() as demo2:
                options = replace(self.options, provider=demo2.provider, client_id=demo2.public_client_id)
                if self.device:
                    return await self._device(options, plays)
                return await self.complete(options, plays)
        from ..demo import DemoProvider

        async with DemoProvider() as demo:
            return await self.login_to(demo, plays)

    async def _device(self, options: LoginOptions, plays: bool) -> AnyCredentials:
        """The device login at the demo: the scripted user (or the browser) enters the code on its page."""
        import asyncio
        import concurrent.futures
        import contextlib

        from ..api import prepare
        from ..loopback.browser import launch
        from ..oauth2 import device

        loop = asyncio.get_running_loop()
        playing: list[concurrent.futures.Future[str]] = []

        def open_url(url: str) -> None:
            if plays:
                # The poll runs in a worker thread; the scripted user, like the demo provider, in this loop.
                playing.append(asyncio.run_coroutine_threadsafe(self._play(url), loop))
            elif options.open_browser is True:
                launch(url)

        prepared = prepare(options)
        try:
            with login_lock(prepared.store, prepared.profile):
                return await asyncio.to_thread(device.login, prepared, open_url=open_url)
        finally:
            for played in playing:
                with contextlib.suppress(Exception):
                    await asyncio.wrap_future(played)

    async def _play(self, url: str) -> str:
        from ..demo import play_user

        return await play_user(url, approve=not self.deny)

    async def login_to(
        self,
        demo: DemoProvider,
        plays: bool,
        *,
        options: LoginOptions | None = None,
        tls: ssl.SSLContext | None = None,
    ) -> AnyCredentials:
        """Log in to a running demo provider; ``tls`` is the client side of its https certificate, if any."""
        options = replace(
            options or self.options,
            provider=demo.provider,
            consumer_key=demo.consumer_key,
            consumer_secret=demo.consumer_secret,
        )
        return await self.complete(options, plays, tls=tls)

    async def complete(
        self, options: LoginOptions, plays: bool, *, tls: ssl.SSLContext | None = None
    ) -> AnyCredentials:
        """The login, with the demo's scripted user as the browser when ``plays``."""
        import asyncio

        from ..api import prepare
        from ..demo import play_user
        from ..http import Client
        from ..loopback.runner import Login

        tasks: set[asyncio.Task[str]] = set()

        async def play(url: str) -> bool:
            tasks.add(asyncio.create_task(play_user(url, approve=not self.deny, ssl_context=tls)))
            return True

        options = replace(
            options,
            open_browser=play if plays else options.open_browser,
            opener_label="the demo's scripted user",
        )
        prepared = prepare(options)
        with login_lock(prepared.store, prepared.profile):
            return await Login(prepared, client=Client(tls_context=tls)).complete()


@dataclass(frozen=True)
class Serve:
    """``loopauth demo --serve``'s own options."""

    port: int
    https: bool
    registered_callback: str | None
    oauth2: bool = False
    token_lifetime: int | None = None
    """With ``oauth2``: how long its access tokens last, in seconds (short, to watch a refresh); None: its default."""
