"""A login's options, as one typed value, and the checks every protocol shares.

``loopauth.login()``, ``login_async()`` and the CLI build one :class:`LoginOptions`;
``loopauth.api.prepare`` turns it into a :class:`Prepared` login. Standard library only: the CLI
prepares, binds and opens the browser before asyncio and aiohttp are imported.
"""

from __future__ import annotations

import math
import sys
from collections.abc import AsyncIterable, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from ..errors import UsageError
from ..models import PROTOCOL_LABELS, AnyProvider, split_scope
from ..store import CredentialStore
from .browser import Opener
from .dance import Dance
from .defaults import DEFAULT_CALLBACK_PATH as DEFAULT_CALLBACK_PATH
from .defaults import DEFAULT_PORT as DEFAULT_PORT
from .defaults import DEFAULT_TIMEOUT as DEFAULT_TIMEOUT
from .plan import CallbackPlan, plan_callback

if TYPE_CHECKING:
    import ssl


Say = Callable[[str], None]


def say_to_stderr(message: str) -> None:
    """The login's status lines: stderr, at once (never a secret)."""
    print(message, file=sys.stderr, flush=True)


DEFAULT_PROVIDER = "twitter"
"""Where a login goes when nothing names a provider and the profile is new."""


@dataclass(frozen=True)
class LoginOptions:
    """Everything a login may be told, with the documented defaults of ``loopauth.login()``."""

    # who and where
    profile: str = "default"
    provider: AnyProvider | str | None = None
    """A preset or providers.toml name, or a provider; None: the profile's own when it exists (its endpoints and
    app, as ``gh auth refresh`` does), else :data:`DEFAULT_PROVIDER`."""
    store: CredentialStore | None = None
    storage: str | None = None
    """Which store keeps the login: ``"file"`` or ``"keyring"``; None: as :func:`loopauth.store.choice.choose`."""
    # the app: an OAuth 1.0a consumer...
    consumer_key: str | None = None
    consumer_secret: str | None = None
    signature_method: str | None = None
    rsa_key_file: str | None = None
    request_token_params: Mapping[str, str] = field(default_factory=dict)
    # ... or an OAuth 2.0 client
    client_id: str | None = None
    client_secret: str | None = None
    scopes: Sequence[str] | str | None = None
    """The scopes to ask for (None: the provider's); a string is split on whitespace, so this is a tuple or None."""
    client_auth: str | None = None
    authorize_params: Mapping[str, str] = field(default_factory=dict)
    # the callback
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    callback_path: str = DEFAULT_CALLBACK_PATH
    callback_url: str | None = None
    oob: bool = False
    ssl_context: ssl.SSLContext | None = None
    # the person
    timeout: float = DEFAULT_TIMEOUT
    open_browser: Opener | bool = True
    opener_label: str = "the given opener"
    """How status lines name what ``open_browser`` is, when it is a callable (the demo: its scripted user)."""
    paste: bool | AsyncIterable[str] = False
    say: Say = say_to_stderr

    def __post_init__(self) -> None:
        # The keyword form of login() passes None for "no extras"; the fields always hold a mapping.
        object.__setattr__(self, "authorize_params", dict(self.authorize_params or {}))
        object.__setattr__(self, "request_token_params", dict(self.request_token_params or {}))
        if self.scopes is not None:
            object.__setattr__(self, "scopes", split_scope(self.scopes))

    def with_keywords(self, keywords: Mapping[str, Any]) -> LoginOptions:
        """These options with some fields given as keywords (``login(provider=..., ...)``); TypeError names an
        unknown one."""
        return replace(self, **keywords) if keywords else self


OPTIONS_OF = {
    "oauth1": ("consumer_key", "consumer_secret", "signature_method", "rsa_key_file", "request_token_params", "oob"),
    "oauth2": ("client_id", "client_secret", "scopes", "client_auth"),
}
"""The options that mean something to one protocol only."""
APP_OPTIONS = frozenset({"consumer_key", "consumer_secret", "client_id", "client_secret"})
"""The app's identity, which the CLI takes from the environment for both protocols at once (so a login ignores the
other protocol's); every other option of the other protocol would change what the user asked for."""


def refuse_other_protocol(provider: AnyProvider, given: Mapping[str, object]) -> None:
    """UsageError naming the first of ``given`` (option name to value; None, False and empty are not given) that
    belongs to the protocol ``provider`` does not speak."""
    label = PROTOCOL_LABELS[provider.protocol]
    for protocol, names in OPTIONS_OF.items():
        if protocol == provider.protocol:
            continue
        for name in names:
            value = given.get(name)
            if value is not None and value is not False and value != "" and value != {}:
                raise UsageError(
                    f"{{arg}} is for {PROTOCOL_LABELS[protocol]}, and {provider.name} is an {label} provider",
                    argument=name,
                )


@dataclass(frozen=True)
class Prepared:
    """A login that has passed every check: where it listens, for which profile, with which dance and store."""

    options: LoginOptions
    plan: CallbackPlan
    profile: str
    dance: Dance
    store: CredentialStore
    storage: str = "file"
    """The store the login is saved to (``"file"`` or ``"keyring"``), checked to be usable."""


def plan_for(options: LoginOptions, *, tls: bool | None = None) -> CallbackPlan:
    """Check the options every protocol shares and decide where the callback goes (UsageError for the first problem).

    ``tls`` says whether the callback will be served over https when ``options`` has no context yet.
    """
    if not (math.isfinite(options.timeout) and options.timeout > 0):
        raise UsageError(
            "{arg} must be a positive number of seconds, got " + f"{options.timeout:g}", argument="timeout"
        )
    if not 0 <= options.port <= 65535:
        raise UsageError("{arg} must be between 0 and 65535, got " + str(options.port), argument="port")
    return plan_callback(
        options.callback_url,
        oob=options.oob,
        host=options.host,
        port=options.port,
        path=options.callback_path,
        tls=options.ssl_context is not None if tls is None else tls,
    )
