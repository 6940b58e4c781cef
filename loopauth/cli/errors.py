"""How a library error reads on the command line: the flags that give each argument, and what to run next.

Library messages name keyword arguments (``timeout must be …``) and never a command; the CLI
says ``--timeout must be …`` and adds the command that helps.
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path
from urllib.parse import urlsplit

from ..errors import LoopAuthError, NotLoggedIn, ProviderError, StoreError, UsageError
from ..models import AnyCredentials, Credentials
from ..urls import is_loopback_host

# How each keyword argument of the library is given on the command line.
FLAGS = {
    "consumer_key": "--consumer-key (or $LOOPAUTH_CONSUMER_KEY)",
    "consumer_secret": "$LOOPAUTH_CONSUMER_SECRET or --consumer-secret-file FILE",
    "rsa_key_file": "--rsa-key FILE",
    "signature_method": "--signature-method",
    "timeout": "--timeout",
    "port": "--port",
    "host": "--host",
    "callback_url": "--callback-url",
    "callback_path": "--callback-path",
    "request_token_url": "--request-token-url",
    "authorize_url": "--authorize-url",
    "access_token_url": "--access-token-url",
    "verify_url": "--verify-url",
    "revoke_url": "--revoke-url",
    "token_url": "--token-url",
    "device_authorization_url": "--device-url",
    "issuer": "--issuer",
    "client_id": "--client-id (or $LOOPAUTH_CLIENT_ID)",
    "client_secret": "--client-secret (or $LOOPAUTH_CLIENT_SECRET)",
    "scopes": "--scope",
    "client_auth": "--client-auth",
    "request_token_params": "--access-type",
    "oob": "--oob",
    "storage": "--store",
    "to": "--to",
}


def flag_for(argument: str) -> str:
    return FLAGS.get(argument, argument)


def describe(exc: LoopAuthError) -> str:
    """The one line printed after ``loopauth: error:``."""
    if isinstance(exc, UsageError):
        return exc.render(flag_for)
    if isinstance(exc, NotLoggedIn):
        return f"{exc.message} ({_not_logged_in_hint(exc.profile)})"
    if isinstance(exc, StoreError) and exc.message.endswith(_REPLACE) and _is_profile_file(exc.path):
        # A bare `login --profile NAME` cannot know the provider of a file it cannot read: say which to name.
        return f"{exc.message.removesuffix(_REPLACE)}; {relogin_hint(exc.path.stem, provider_in(exc.path))}"
    return exc.message


_REPLACE = "; log in again to replace it"
"""How the store ends the message of a profile file it cannot read."""

_PROVIDER_FIELD = re.compile(rb'"provider"\s*:\s*"([A-Za-z0-9][A-Za-z0-9._-]{0,63})"')


def _is_profile_file(path: Path) -> bool:
    return path.suffix == ".json" and path.parent.name == "profiles"


def provider_in(path: Path) -> str | None:
    """The provider an unreadable profile file still names, read leniently (for a hint, never to log in with)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as f:
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                return None
            raw = f.read(64 * 1024)
        except OSError:
            return None
    match = _PROVIDER_FIELD.search(raw)
    return match[1].decode("ascii") if match else None


def relogin_hint(profile: str, provider: str | None) -> str:
    """How to log in again to a profile that cannot be read, naming its provider when the file still shows it."""
    if provider == "demo":
        return f"log in again to replace it: `loopauth demo --profile {profile}`"
    if provider == "demo-oauth2":
        return f"log in again to replace it: `loopauth demo --oauth2 --profile {profile}`"
    if provider is not None:
        return f"log in again to replace it: `loopauth login --profile {profile} --provider {provider}`"
    return (
        f"log in again to replace it, naming the provider (the file no longer says which): "
        f"`loopauth login --profile {profile} --provider NAME`"
    )


def _not_logged_in_hint(profile: str) -> str:
    """Log in as that profile; when there is no such profile but there are others (often a typo), name the command
    that lists them too."""
    from ..store import CredentialStore

    login = f"run `loopauth login --profile {profile}`"
    try:
        names = CredentialStore().names()
    except (LoopAuthError, OSError):
        return login  # the config dir itself is the trouble; the error already says so or the login will
    if names and profile not in names:
        return f"{login}, or see `loopauth list` for the stored ones"
    return login


def profile_hint(exc: ProviderError, creds: AnyCredentials) -> ProviderError:
    """A failed call with a profile, with the command that helps: log in again, or start the demo provider.

    Every command printed here works for that profile as it is: ``login --profile NAME`` logs in
    again to the profile's own provider (see ``loopauth.api.relogin_options``).
    """
    if exc.status == 401:
        return ProviderError(
            f"{exc.message} (loopauth login --profile {creds.profile})", status=exc.status, body=exc.body
        )
    demo = demo_not_running(exc, creds)
    return ProviderError(f"{exc.message}; {demo}", status=exc.status, body=exc.body) if demo else exc


def demo_not_running(exc: ProviderError, creds: AnyCredentials) -> str | None:
    """For a profile of the embedded demo provider that did not answer: that it is not running, and how to start it.

    Only when the call that failed went to the demo's own address (``exc.url``).
    """
    from ..demo.constants import DEMO_CONSUMER_KEY, DEMO_OAUTH2_PUBLIC_CLIENT_ID

    if exc.status is not None or creds.endpoints is None:
        return None
    if isinstance(creds, Credentials):
        if creds.consumer_key != DEMO_CONSUMER_KEY:
            return None
        url, oauth2 = creds.endpoints.request_token_url, ""
    else:
        if creds.client_id != DEMO_OAUTH2_PUBLIC_CLIENT_ID:
            return None
        url, oauth2 = creds.endpoints.token_url, " --oauth2"
    parts = urlsplit(url)
    if not is_loopback_host(parts.hostname or "") or not parts.port:
        return None
    failed = urlsplit(exc.url or "")
    if (failed.scheme, failed.hostname, failed.port) != (parts.scheme, parts.hostname, parts.port):
        return None  # another address failed (`request` to some other server): the demo is not to blame
    if _listening(parts.hostname or "", parts.port):
        # It runs, but the call failed anyway: with --https, most likely its certificate is not trusted here.
        if parts.scheme != "https":
            return None
        return "to trust the https demo's throwaway certificate, run the `export SSL_CERT_FILE=…` it printed"
    https = " --https" if parts.scheme == "https" else ""
    profile = f" --profile {creds.profile}" if creds.profile != "demo" else ""
    return (
        f"the demo provider at {parts.scheme}://{parts.netloc} is not running: start it with "
        f"`loopauth demo --serve{oauth2} --port {parts.port}{https}{profile}` (it logs this profile in again)"
    )


def _listening(host: str, port: int) -> bool:
    """Whether something accepts connections on this loopback port (a moment's check, on the error path only)."""
    import socket

    try:
        with socket.create_connection((host.strip("[]"), port), timeout=0.5):
            return True
    except OSError:
        return False
