"""``loopauth demo --serve``: the demo provider kept running until Ctrl-C, so a demo profile can be used.

It starts the provider (on ``--port``, https with a throwaway certificate with ``--https``, accepting
only ``--registered-callback`` if given), prints its endpoints, logs the profile in against it, and
prints the exact commands of the README's "Using the credentials" to try against it.
"""

from __future__ import annotations

import base64
import shlex
import shutil
import signal
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import EXIT_OK
from ..store import CredentialStore
from .output import login_summary

if TYPE_CHECKING:
    import ssl

    from ..demo import DemoProvider
    from ..models import AnyCredentials
    from .login import DemoCommand, Serve

WELCOME_TWEET = "Hello from the loopauth demo provider"
"""Posted when the provider starts, so the README's DELETE example has something to delete."""


PICTURE = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg=="
)
"""A one-pixel PNG, to upload with ``-F media=@…``."""


def serve(command: DemoCommand, options: Serve, plays: bool) -> int:
    """Run the demo provider until Ctrl-C (exit 0); a login that fails stops it with the login's exit code."""
    import asyncio

    # The throwaway certificate and the picture to upload live as long as the provider.
    workdir = Path(tempfile.mkdtemp(prefix="loopauth-demo-"))
    try:
        asyncio.run(_serve(command, options, plays, workdir))
    except KeyboardInterrupt:
        print("Stopped the demo provider.", file=sys.stderr)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    return EXIT_OK


async def _serve(command: DemoCommand, options: Serve, plays: bool, workdir: Path) -> None:
    import asyncio
    from dataclasses import replace

    from ..demo import DemoProvider
    from .shared import replaced_note, stored_profile

    server_tls, client_tls, certificate = _certificate(workdir) if options.https else (None, None, None)
    picture = workdir / "picture.png"
    picture.write_bytes(PICTURE)
    demo = DemoProvider(port=options.port, ssl_context=server_tls, registered_callback=options.registered_callback)
    async with demo:
        demo.api_state.post(WELCOME_TWEET)
        say(_endpoints(demo, certificate))
        login = replace(command.options, callback_url=options.registered_callback)
        stored = stored_profile(CredentialStore(), login.profile)
        creds = await command.login_to(demo, plays, options=login, tls=client_tls)
        note = replaced_note(stored, creds) if stored is not None else None
        if note:
            print(note, file=sys.stderr)
        say(login_summary(creds, CredentialStore()))
        say(_commands(demo, creds, certificate, picture))
        stop = asyncio.Event()
        # Ctrl-C ends asyncio.run with KeyboardInterrupt; a polite `kill` stops as cleanly.
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        await stop.wait()
        print("Stopped the demo provider.", file=sys.stderr)


def say(text: str) -> None:
    # stdout, flushed: this is what the command is for, and a pipe would otherwise hold it back.
    print(text, flush=True)


def _certificate(directory: Path) -> tuple[ssl.SSLContext, ssl.SSLContext, Path]:
    """For ``--https``: the server's context, a client context that trusts it, and the certificate's file."""
    import ssl

    from ..loopback.tls import self_signed

    server, pem = self_signed()
    path = directory / "demo-certificate.pem"
    path.write_bytes(pem)
    return server, ssl.create_default_context(cadata=pem.decode("ascii")), path


def _endpoints(demo: DemoProvider, certificate: Path | None) -> str:
    p = demo.provider
    rows = [
        ("consumer key", demo.consumer_key),
        ("consumer secret", f"{demo.consumer_secret} (a demo's: printed on purpose)"),
        ("request token", p.request_token_url),
        ("authorize", p.authorize_url),
        ("authenticate", f"{demo.authenticate_url} (sign in with Twitter: no page for an app approved before)"),
        ("access token", p.access_token_url),
        ("verify", p.verify_url or ""),
        ("revoke", p.revoke_url or ""),
    ]
    if demo.registered_callback:
        rows.append(("callback", f"{demo.registered_callback} only (any other gets error 415)"))
    if certificate is not None:
        rows.append(("certificate", f"{certificate} (throwaway, self-signed; gone when the provider stops)"))
    width = max(len(name) for name, _ in rows)
    lines = [f"Demo provider running at {demo.base_url} (Ctrl-C stops it)"]
    lines += [f"  {name.ljust(width)}  {value}" for name, value in rows]
    return "\n".join(lines)


def _commands(demo: DemoProvider, creds: AnyCredentials, certificate: Path | None, picture: Path) -> str:
    """The README's "Using the credentials", against this provider and profile, ready to paste."""
    base = demo.base_url
    profile = f"--profile {shlex.quote(creds.profile)}"
    verify = f"{base}/1.1/account/verify_credentials.json"
    tweet = next(iter(demo.api_state.tweets), "1")
    cacert = f"--cacert {shlex.quote(str(certificate))} " if certificate is not None else ""
    lines = ["", "Try, in another terminal:"]
    if certificate is not None:
        lines.append(f"  export SSL_CERT_FILE={shlex.quote(str(certificate))}  # trust the throwaway certificate")
    lines += [
        f"  loopauth verify {profile}",
        f"  loopauth verify {profile} -v  # and each HTTP exchange, secrets redacted",
        f"  loopauth request {profile} {shlex.quote(f'{base}/1.1/users/show.json?screen_name=jack')}",
        f"  loopauth request {profile} -d 'status=a & b = c + 100% é 😀' {base}/1.1/statuses/update.json",
        f"""  loopauth request {profile} --json '{{"text": "hello"}}' {base}/2/tweets""",
        f"  loopauth request {profile} -i -X DELETE -H 'Accept: application/json' {base}/2/tweets/{tweet}",
        f"  loopauth request {profile} -F media=@{shlex.quote(str(picture))} {base}/1.1/media/upload.json",
        f'  curl {cacert}-H "$(loopauth header {profile} GET {verify})" \\\n       {verify}',
        f'  eval "$(loopauth token {profile})"; echo "$LOOPAUTH_OAUTH_TOKEN"',
        f"  loopauth status {profile} --check  # where it is stored, and whether the provider still takes it",
        f"""  loopauth exec {profile} -- sh -c 'echo "$LOOPAUTH_SCREEN_NAME"'  # credentials in its environment only""",
        f"  loopauth login {profile}  # log in again: the profile remembers this provider",
        f"  loopauth logout {profile} --revoke",
    ]
    return "\n".join(lines)
