"""A login's options, as one typed value, and the checks every protocol shares.

``loopauth.login()``, ``login_async()`` and the CLI build one :class:`LoginOptions`;
``loopauth.api.prepare`` turns it into a :class:`Prepared` login. Standard library only: the CLI
prepares, binds and opens the browser before asyncio and aiohttp are imported.
"""

from __future__ import annotations

import math
import sys
from collections.abc import AsyncIterable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..errors import UsageError
from ..models import AnyProvider
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


@dataclass(frozen=True)
class LoginOptions:
    """Everything a login may be told, with the documented defaults of ``loopauth.login()``."""

    # who and where
    profile: str = "default"
    provider: AnyProvider | str = "twitter"
    store: CredentialStore | None = None
    storage: str | None = None
    """Which store keeps the login: ``"file"`` or ``"keyring"``; None chooses as :func:`loopauth.settings.choose`."""
    # the app: an OAuth 1.0a consumer...
    consumer_key: str | None = None
    consumer_secret: str | None = None
    signature_method: str | None = None
    rsa_key_file: str | None = None
    request_token_params: Mapping[str, str] = field(default_factory=dict)
    # ... or an OAuth 2.0 client
    client_id: str | None = None
    client_secret: str | None = None
    scopes: Sequence[str] | None = None
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
