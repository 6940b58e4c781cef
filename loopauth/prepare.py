"""Everything a login checks before a socket is bound or a browser opens, with no aiohttp and no event loop.

``login_async`` starts with :func:`prepare_login`; ``loopauth login`` calls it
itself first, so it can bind and send the browser on its way while aiohttp is
still being imported, knowing that every mistake the login could report
(a missing key, an unknown provider, a bad port or path, an unwritable config
dir) has already been reported, before anything was opened.
"""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .browser import Launch
from .defaults import DEFAULT_CALLBACK_PATH, DEFAULT_PORT, DEFAULT_TIMEOUT
from .errors import UsageError
from .listen import Listeners, check_host_and_path, host_literal, start_path_for
from .models import Provider
from .protocol import CallbackPlan, check_endpoint, plan_callback
from .providers import resolve
from .store import CredentialStore, validate_profile_name


@dataclass(frozen=True)
class Consumer:
    """The app's identity and how it signs."""

    key: str
    secret: str
    signature_method: str = "HMAC-SHA1"
    rsa_key: str | None = None


def resolve_provider(provider: Provider | str, config: Path | None = None) -> Provider:
    resolved = provider if isinstance(provider, Provider) else resolve(provider, config)
    for what in ("request_token_url", "authorize_url", "access_token_url"):
        check_endpoint(getattr(resolved, what), what)
    return resolved


def resolve_consumer(
    consumer_key: str | None,
    consumer_secret: str | None,
    *,
    signature_method: str,
    rsa_key_file: str | None = None,
) -> Consumer:
    if not consumer_key:
        raise UsageError("no consumer key: pass --consumer-key or set LOOPAUTH_CONSUMER_KEY")
    rsa_key = None
    if signature_method == "RSA-SHA1":
        if not rsa_key_file:
            raise UsageError("RSA-SHA1 needs the consumer's private key: --rsa-key FILE (PEM)")
        require_rsa_support()
        try:
            rsa_key = Path(rsa_key_file).read_text(encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"cannot read RSA key {rsa_key_file}: {exc.strerror or exc}") from exc
        except UnicodeDecodeError:
            raise UsageError(f"RSA key {rsa_key_file} is not a PEM file") from None
    elif consumer_secret is None:
        raise UsageError("no consumer secret: pass --consumer-secret or set LOOPAUTH_CONSUMER_SECRET")
    return Consumer(consumer_key, consumer_secret or "", signature_method, rsa_key)


def require_rsa_support() -> None:
    """Fail before any browser opens when RSA-SHA1 cannot be signed here."""
    try:
        # What oauthlib's RSA-SHA1 signer imports (PyJWT's algorithms pull in cryptography).
        import jwt.algorithms  # noqa: F401
    except ImportError:
        raise UsageError(
            "RSA-SHA1 signing needs the 'cryptography' and 'PyJWT' packages: pip install 'loopauth[rsa]'"
        ) from None


@dataclass(frozen=True)
class Prepared:
    """A login that has passed every check: where it listens, for whom, with which app and store."""

    plan: CallbackPlan
    profile: str
    provider: Provider
    consumer: Consumer
    store: CredentialStore


def prepare_login(
    *,
    provider: Provider | str = "twitter",
    consumer_key: str | None = None,
    consumer_secret: str | None = None,
    profile: str = "default",
    host: str = "127.0.0.1",
    port: int = DEFAULT_PORT,
    callback_path: str = DEFAULT_CALLBACK_PATH,
    timeout: float = DEFAULT_TIMEOUT,
    signature_method: str | None = None,
    rsa_key_file: str | None = None,
    store: CredentialStore | None = None,
    callback_url: str | None = None,
    oob: bool = False,
    tls: bool = False,
) -> Prepared:
    """Check a login's arguments and its surroundings; UsageError or StoreError for the first problem."""
    if not (math.isfinite(timeout) and timeout > 0):
        raise UsageError(f"--timeout must be a positive number of seconds, got {timeout:g}")
    if not 0 <= port <= 65535:
        raise UsageError(f"--port must be between 0 and 65535, got {port}")
    plan = plan_callback(callback_url, oob=oob, host=host, port=port, path=callback_path, tls=tls)
    if plan.serve:
        check_host_and_path(plan.host, plan.path)
    profile = validate_profile_name(profile)
    store = store or CredentialStore()
    resolved = resolve_provider(provider, store.root)
    consumer = resolve_consumer(
        consumer_key,
        consumer_secret,
        signature_method=signature_method or resolved.signature_method,
        rsa_key_file=rsa_key_file,
    )
    if consumer.signature_method != resolved.signature_method:
        resolved = resolved.replace(signature_method=consumer.signature_method)
    # A config dir we cannot write must stop the login before a browser opens, not after the user consented.
    store.check_writable()
    return Prepared(plan, profile, resolved, consumer, store)


def opening_message(url: str, name: str) -> str:
    return f"Opening {url} in your browser; it forwards to {name}'s authorize page."


@dataclass(frozen=True)
class EarlyStart:
    """A login checked, its sockets bound and its browser opening, all before aiohttp is imported."""

    prepared: Prepared
    listeners: Listeners
    launch: Launch


_PREPARE_ARGS = (
    "provider",
    "consumer_key",
    "consumer_secret",
    "profile",
    "host",
    "port",
    "callback_path",
    "timeout",
    "signature_method",
    "rsa_key_file",
    "store",
    "callback_url",
    "oob",
)


def start_early(**login_kwargs: Any) -> EarlyStart | None:
    """For ``loopauth login``: check, bind and open the browser now, if this login goes that way at all.

    ``login_kwargs`` are exactly what the caller passes to ``login_async`` next, with the result as
    its ``early``. This applies to the system browser (``open_browser=True``) on our own plain-http
    server, for a callback we choose (no ``callback_url``, no ``oob``, no TLS), and not over SSH,
    where the tunnel hint must come first. Any other login returns None and ``login_async`` does
    all of it itself, as it always does for library callers.
    """
    if login_kwargs.get("open_browser", True) is not True or login_kwargs.get("ssl_context") is not None:
        return None
    if login_kwargs.get("callback_url") is not None or login_kwargs.get("oob"):
        return None
    if len(os.environ.get("SSH_CONNECTION", "").split()) == 4:
        return None
    say: Callable[[str], None] = login_kwargs.get("say") or say_to_stderr
    prepared = prepare_login(tls=False, **{name: login_kwargs[name] for name in _PREPARE_ARGS if name in login_kwargs})
    plan = prepared.plan
    listeners = Listeners(plan.host, plan.port).bind()
    try:
        url = f"http://{host_literal(plan.host)}:{listeners.port}{start_path_for(plan.path)}"
        say(opening_message(url, prepared.provider.name))
        return EarlyStart(prepared, listeners, Launch(url))
    except BaseException:
        listeners.close()
        raise


def say_to_stderr(message: str) -> None:
    """The login's status lines: stderr, at once (never a secret)."""
    print(message, file=sys.stderr, flush=True)
