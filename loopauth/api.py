"""The public login functions, and :func:`prepare`: the one step every login runs first.

``login()``, ``login_async()`` and ``loopauth login`` all build a :class:`LoginOptions` and call
:func:`prepare`, which checks everything (the options every protocol shares, then the protocol's
own: the consumer, the signature method, the provider's endpoints) and picks the protocol's
:class:`~loopauth.loopback.dance.Dance`. Nothing is bound, sent or opened until it has passed.
"""

from __future__ import annotations

import functools
import ssl
from collections.abc import AsyncIterable, Callable, Coroutine, Mapping, Sequence
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from .errors import StoreError, UsageError
from .loopback.browser import Opener
from .loopback.dance import Dance
from .loopback.options import (
    DEFAULT_CALLBACK_PATH,
    DEFAULT_PORT,
    DEFAULT_TIMEOUT,
    LoginOptions,
    Prepared,
    Say,
    plan_for,
)
from .loopback.options import say_to_stderr as _say_to_stderr
from .models import AnyCredentials, AnyProvider, OAuth2Provider
from .providers import resolve_provider
from .store import CredentialStore, validate_profile_name

P = ParamSpec("P")
T = TypeVar("T")


def prepare(options: LoginOptions) -> Prepared:
    """Check a login's options and its surroundings; UsageError or StoreError for the first problem."""
    plan = plan_for(options)
    profile = validate_profile_name(options.profile)
    store = options.store or CredentialStore()
    dance = dance_for(options, store.root)
    storage = store.choose_store(profile, options.storage)
    # A keyring that cannot be used, like a config dir we cannot write, must stop the login before a browser opens,
    # not after the user consented; and before anything is written (check_writable creates the directories).
    chosen = f" (chosen by {storage.source})" if storage.source else ""
    try:
        store.check_store(storage.kind, profile)
    except UsageError as exc:
        raise UsageError(f"{exc.message}{chosen}") from exc
    except StoreError as exc:
        raise StoreError(
            f"{exc.message}{chosen}; nothing was saved: --store file keeps the tokens in a plaintext file instead",
            path=exc.path,
        ) from exc
    store.check_writable(profile)
    return Prepared(options, plan, profile, dance, store, storage.kind)


def dance_for(options: LoginOptions, config_dir: Path | None) -> Dance:
    """The protocol's part of the login, for the provider the options name (its endpoints checked).

    The other protocol's options are ignored (the CLI passes both from the environment), except those
    that would change what the user asked for: an OAuth 2.0 login cannot sign with RSA or use a PIN.
    """
    provider = resolve_provider(options.provider, config_dir)
    if isinstance(provider, OAuth2Provider):
        from .oauth2.dance import OAuth2Dance

        for name in ("signature_method", "rsa_key_file", "request_token_params", "oob"):
            if getattr(options, name):
                raise UsageError(
                    f"{{arg}} is for OAuth 1.0a, and {provider.name} is an OAuth 2.0 provider", argument=name
                )
        return OAuth2Dance.create(
            provider,
            client_id=options.client_id,
            client_secret=options.client_secret,
            scopes=options.scopes,
            client_auth=options.client_auth,
            authorize_params=options.authorize_params,
        )
    from .oauth1.dance import OAuth1Dance

    return OAuth1Dance.create(
        provider,
        consumer_key=options.consumer_key,
        consumer_secret=options.consumer_secret,
        signature_method=options.signature_method,
        rsa_key_file=options.rsa_key_file,
        authorize_params=options.authorize_params,
        request_token_params=options.request_token_params,
    )


async def login_async(
    *,
    provider: AnyProvider | str = "twitter",
    consumer_key: str | None = None,
    consumer_secret: str | None = None,
    client_id: str | None = None,
    client_secret: str | None = None,
    scopes: Sequence[str] | str | None = None,
    client_auth: str | None = None,
    authorize_url: str | None = None,
    token_url: str | None = None,
    issuer: str | None = None,
    profile: str = "default",
    host: str = "127.0.0.1",
    port: int = DEFAULT_PORT,
    callback_path: str = DEFAULT_CALLBACK_PATH,
    timeout: float = DEFAULT_TIMEOUT,
    authorize_params: Mapping[str, str] | None = None,
    request_token_params: Mapping[str, str] | None = None,
    signature_method: str | None = None,
    rsa_key_file: str | None = None,
    open_browser: Opener | bool = True,
    store: CredentialStore | None = None,
    storage: str | None = None,
    say: Say = _say_to_stderr,
    callback_url: str | None = None,
    oob: bool = False,
    ssl_context: ssl.SSLContext | None = None,
    paste: bool | AsyncIterable[str] = False,
) -> AnyCredentials:
    """Log in through a loopback callback and store the credentials under ``profile``.

    The provider is a name (a preset such as ``twitter`` or ``x-oauth2``, or a providers.toml table) or
    a :class:`Provider` (OAuth 1.0a: ``consumer_key``/``consumer_secret``) or :class:`OAuth2Provider`
    (OAuth 2.0 with PKCE: ``client_id``, ``client_secret`` for a confidential client, ``scopes``).
    ``token_url`` with ``authorize_url`` describes a one-off OAuth 2.0 provider instead. ``issuer`` names an OpenID
    Provider (or an RFC 8414 server) whose endpoints the login discovers (``authorize_url`` and ``token_url``, if
    given, win over the discovered ones); with ``openid`` among the scopes its ID token is verified and stored
    (``loopauth[oidc]``).

    ``open_browser`` is True (the system browser), False (only print the URL), or an async
    callable given the URL to open (tests and the demo use it). Status lines (never a secret)
    go to ``say``, stderr by default.

    ``callback_url`` replaces ``host``/``port``/``callback_path`` with any callback: served when
    it is loopback http(s) that we can bind (https needs ``ssl_context``), otherwise sent as it
    is while the user pastes the address the browser lands on. ``ssl_context`` alone serves the
    default callback over https. ``oob`` is the PIN flow. ``paste`` is where a pasted address,
    bare verifier or PIN comes from, concurrently with the server: True reads stdin, an async
    iterable of lines is read instead, and False (the default) reads stdin only when nothing
    else can complete the login (``oob``, or a callback that is not served).

    ``request_token_params`` are extra parameters of the request-token call (Twitter's
    ``x_auth_access_type``); ``authorize_params`` go to the authorize page.

    ``storage`` is where the login is kept: ``"file"`` (a 0600 JSON file) or ``"keyring"`` (the secrets in the OS
    keyring, which needs ``loopauth[keyring]``); by default ``$LOOPAUTH_STORE``, else the store of the profile it
    replaces, else ``store`` in the config dir's ``config.toml``, else the file. A keyring that cannot be used is a
    StoreError before anything is bound, opened or written: never a silent fallback to the file.
    """
    from .loopback.runner import Login

    if issuer is not None:
        from .oidc.discovery import issuer_provider

        # A name the caller gave is kept; the default one ("twitter") is not this provider's.
        name = provider if isinstance(provider, str) and provider != "twitter" else None
        provider = issuer_provider(
            issuer,
            name or (provider.name if not isinstance(provider, str) else None),
            authorize_url=authorize_url,
            token_url=token_url,
        )
    elif token_url is not None:
        if authorize_url is None:
            raise UsageError("{arg} goes with token_url: an OAuth 2.0 provider needs both", argument="authorize_url")
        provider = OAuth2Provider(provider if isinstance(provider, str) else provider.name, authorize_url, token_url)
    options = LoginOptions(
        profile=profile,
        provider=provider,
        store=store,
        storage=storage,
        consumer_key=consumer_key,
        consumer_secret=consumer_secret,
        client_id=client_id,
        client_secret=client_secret,
        scopes=scopes.split() if isinstance(scopes, str) else scopes,
        client_auth=client_auth,
        signature_method=signature_method,
        rsa_key_file=rsa_key_file,
        authorize_params=dict(authorize_params or {}),
        request_token_params=dict(request_token_params or {}),
        host=host,
        port=port,
        callback_path=callback_path,
        callback_url=callback_url,
        oob=oob,
        ssl_context=ssl_context,
        timeout=timeout,
        open_browser=open_browser,
        paste=paste,
        say=say,
    )
    prepared = prepare(options)
    creds = await Login(prepared).complete()
    from .cli.switch import claim

    # As the command line does: the first login becomes the active profile (what loopauth.load() reads).
    activated = claim(prepared.store, creds.profile)
    if activated:
        say(activated)
    return creds


def _blocking(fn: Callable[P, Coroutine[Any, Any, T]], instead: str) -> Callable[P, T]:
    @functools.wraps(fn)
    def run(*args: P.args, **kwargs: P.kwargs) -> T:
        import asyncio

        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return asyncio.run(fn(*args, **kwargs))
        # Jupyter and other async code already run a loop in this thread, where asyncio.run cannot.
        raise UsageError(f"an event loop is already running here: use `await loopauth.{instead}(...)` instead")

    return run


login = _blocking(login_async, "login_async")
"""The same as :func:`login_async`, for code without an event loop."""
