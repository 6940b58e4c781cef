"""The public login functions, and :func:`prepare`: the one step every login runs first.

``login()``, ``login_async()`` and ``loopauth login`` all build a :class:`LoginOptions` and call
:func:`prepare`, which checks everything (the options every protocol shares, then the protocol's
own: the consumer, the signature method, the provider's endpoints) and picks the protocol's
:class:`~loopauth.loopback.dance.Dance`. Nothing is bound, sent or opened until it has passed.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Coroutine
from dataclasses import replace
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from .errors import NotLoggedIn, StoreError, UsageError
from .loopback.dance import Dance
from .loopback.options import (
    APP_OPTIONS,
    DEFAULT_PROVIDER,
    OPTIONS_OF,
    LoginOptions,
    Prepared,
    plan_for,
    refuse_other_protocol,
)
from .models import AnyCredentials, OAuth2Provider
from .protocols import access_for
from .providers import resolve_provider
from .store import CredentialStore, claim_active, validate_profile_name

P = ParamSpec("P")
T = TypeVar("T")


def prepare(options: LoginOptions) -> Prepared:
    """Check a login's options and its surroundings; UsageError or StoreError for the first problem."""
    plan = plan_for(options)
    profile = validate_profile_name(options.profile)
    store = options.store or CredentialStore()
    options = as_before(options, store)
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


def as_before(options: LoginOptions, store: CredentialStore) -> LoginOptions:
    """``options`` with a provider: the one they name, else the profile's own (:func:`relogin_options`: its
    endpoints and app) when the profile exists, else ``twitter``.

    A profile that exists but cannot be read keeps its provider to itself, so that is a UsageError: logging in to
    the default provider would replace it with another account without a word.
    """
    if options.provider is not None:
        return options
    try:
        stored = store.load(options.profile)
    except NotLoggedIn:
        return replace(options, provider=DEFAULT_PROVIDER)
    except StoreError as exc:
        raise UsageError(
            f"profile '{options.profile}' cannot be read, so {{arg}} must say where to log in ({exc.path})",
            argument="provider",
        ) from None
    return relogin_options(options, stored)


def dance_for(options: LoginOptions, config_dir: Path | None) -> Dance:
    """The protocol's part of the login, for the provider the options name (its endpoints checked).

    The other protocol's app (consumer or client) is ignored: the CLI passes both from the environment. Any other
    option of the other protocol is a UsageError, since it would change what the user asked for.
    """
    provider = resolve_provider(options.provider or DEFAULT_PROVIDER, config_dir)
    chosen = (name for names in OPTIONS_OF.values() for name in names if name not in APP_OPTIONS)
    refuse_other_protocol(provider, {name: getattr(options, name) for name in chosen})
    if isinstance(provider, OAuth2Provider):
        from .oauth2.dance import OAuth2Dance

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
    options: LoginOptions | None = None,
    /,
    *,
    authorize_url: str | None = None,
    token_url: str | None = None,
    issuer: str | None = None,
    **keywords: Any,
) -> AnyCredentials:
    """Log in through a loopback callback and store the credentials under ``profile``.

    The login is described by a :class:`LoginOptions`, or by its fields as keywords (``login(provider="x-oauth2",
    client_id=...)``), or both: the keywords replace the options' fields. Its documented defaults are these:

    The provider is a name (a preset such as ``twitter`` or ``x-oauth2``, or a providers.toml table) or
    a :class:`Provider` (OAuth 1.0a: ``consumer_key``/``consumer_secret``) or :class:`OAuth2Provider`
    (OAuth 2.0 with PKCE: ``client_id``, ``client_secret`` for a confidential client, ``scopes``). Without one, the
    login goes to the profile's own provider with its own app, as ``loopauth login --profile NAME`` does (a
    ``client_secret`` or ``consumer_secret`` given goes with the stored id or key); a new profile goes to ``twitter``.
    ``token_url`` with ``authorize_url`` describes a one-off OAuth 2.0 provider instead. ``issuer`` names an OpenID
    Provider (or an RFC 8414 server) whose endpoints the login discovers (``authorize_url`` and ``token_url``, if
    given, win over the discovered ones); with ``openid`` among the scopes its ID token is verified and stored
    (``loopauth[oidc]``). Giving an option of the other protocol (``scopes`` for an OAuth 1.0a provider,
    ``signature_method`` for an OAuth 2.0 one) is a UsageError.

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

    options = (options or LoginOptions()).with_keywords(keywords)
    given = options.provider
    if issuer is not None:
        from .oidc.discovery import issuer_provider

        name = given if isinstance(given, str) or given is None else given.name
        provider = issuer_provider(issuer, name, authorize_url=authorize_url, token_url=token_url)
        options = replace(options, provider=provider)
    elif token_url is not None:
        if authorize_url is None:
            raise UsageError("{arg} goes with token_url: an OAuth 2.0 provider needs both", argument="authorize_url")
        name = given if isinstance(given, str) else given.name if given is not None else "custom"
        options = replace(options, provider=OAuth2Provider(name, authorize_url, token_url))
    prepared = prepare(options)
    creds = await Login(prepared).complete()
    # As the command line does: the first login becomes the active profile (what loopauth.load() reads).
    activated = claim_active(prepared.store, creds.profile)
    if activated:
        options.say(activated)
    return creds


def relogin_options(options: LoginOptions, stored: AnyCredentials) -> LoginOptions:
    """Options to log in again as an existing profile, like ``gh auth refresh``: its provider and endpoints, its
    consumer (signature method, key file) or OAuth 2.0 client (id, scopes), where ``options`` do not give others.

    Only for a login that names no provider: the stored endpoints are the one sure way back to a custom
    provider (its name alone may be a preset's, or nothing). A stored secret goes with its stored key or id only.
    """
    return access_for(stored).relogin_options(options)


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
