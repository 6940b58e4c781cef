"""``loopauth demo --serve``: the demo provider kept running until Ctrl-C, so a demo profile can be used.

It starts the provider (on ``--port``, https with a throwaway certificate with ``--https``, accepting
only ``--registered-callback`` if given; with ``--oauth2`` the OAuth 2.0 one, its access tokens lasting
``--token-lifetime`` seconds), prints its endpoints, logs the profile in against it, and prints the exact
commands of the README's "Using the credentials" to try against it.
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
    from ..demo.oauth2 import DemoOAuth2Provider
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

    from ..demo.oauth2 import DemoOAuth2Provider
    from .shared import replaced_note, stored_profile

    stored = stored_profile(CredentialStore(), command.options.profile)
    client_tls: ssl.SSLContext | None = None
    certificate: Path | None = None
    demo: DemoProvider | DemoOAuth2Provider
    picture = workdir / "picture.png"
    if options.oauth2:
        demo = DemoOAuth2Provider(port=options.port)
        if options.token_lifetime is not None:
            demo.access_token_lifetime = options.token_lifetime
    else:
        from ..demo import DemoProvider

        server_tls, client_tls, certificate = _certificate(workdir) if options.https else (None, None, None)
        demo = DemoProvider(port=options.port, ssl_context=server_tls, registered_callback=options.registered_callback)
    await _start(demo, options.port)
    try:
        if isinstance(demo, DemoOAuth2Provider):
            say(_oauth2_endpoints(demo))
        else:
            picture.write_bytes(PICTURE)
            demo.api_state.post(WELCOME_TWEET)
            say(_endpoints(demo, certificate))
        # complete() holds the profile's login lock for the login only: the `loopauth login` printed below can run.
        if isinstance(demo, DemoOAuth2Provider):
            login = replace(command.options, provider=demo.provider, client_id=demo.public_client_id)
            creds = await command.complete(login, plays)
        else:
            login = replace(command.options, callback_url=options.registered_callback)
            creds = await command.login_to(demo, plays, options=login, tls=client_tls)
        note = replaced_note(stored, creds) if stored is not None else None
        if note:
            print(note, file=sys.stderr)
        say(login_summary(creds, CredentialStore()))
        if isinstance(demo, DemoOAuth2Provider):
            say(_oauth2_commands(demo, creds))
        else:
            say(_commands(demo, creds, certificate, picture))
        stop = asyncio.Event()
        # Ctrl-C ends asyncio.run with KeyboardInterrupt; a polite `kill` stops as cleanly.
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        await stop.wait()
        print("Stopped the demo provider.", file=sys.stderr)
    finally:
        await demo.close()


async def _start(demo: DemoProvider | DemoOAuth2Provider, port: int) -> None:
    """Start serving; a taken or privileged ``--port`` is the one line (and exit 6) a login's busy port gets."""
    from ..loopback.listen import port_unavailable

    try:
        await demo.start()
    except OSError as exc:
        busy = port_unavailable(exc, "demo provider port", demo.host, port)
        if busy is None:
            raise
        raise busy from None


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


def _oauth2_endpoints(demo: DemoOAuth2Provider) -> str:
    e = demo.endpoints
    rows = [
        ("client id", f"{demo.public_client_id} (a public client: PKCE, no secret)"),
        ("authorize", e.authorize_url),
        ("token", f"{e.token_url} (refresh tokens rotate: each one works once)"),
        ("revoke", e.revoke_url),
        ("users/me", f"{e.users_me_url} (checks the bearer token)"),
        ("echo", f"{e.echo_url} (answers with what it was sent)"),
        ("tokens last", f"{demo.access_token_lifetime} s (--token-lifetime)"),
    ]
    width = max(len(name) for name, _ in rows)
    lines = [f"OAuth 2.0 demo provider running at {demo.base_url} (Ctrl-C stops it)"]
    lines += [f"  {name.ljust(width)}  {value}" for name, value in rows]
    return "\n".join(lines)


def _oauth2_commands(demo: DemoOAuth2Provider, creds: AnyCredentials) -> str:
    """What to try with an OAuth 2.0 profile against this provider: each command works as printed."""
    e = demo.endpoints
    profile = f"--profile {shlex.quote(creds.profile)}"
    me = e.users_me_url
    lines = [
        "",
        "Try, in another terminal:",
        f"  loopauth verify {profile}",
        f"  loopauth verify {profile} -v  # and each HTTP exchange, secrets redacted",
        f"  loopauth request {profile} {me}",
        f"  loopauth request {profile} -d 'status=a & b = c + 100% é 😀' {e.echo_url}",
        f"""  loopauth request {profile} --json '{{"text": "hello"}}' {e.echo_url}""",
        f'  curl -H "$(loopauth header {profile} GET {me})" {me}',
        f'  eval "$(loopauth token {profile})"; echo "$LOOPAUTH_ACCESS_TOKEN"',
        f"  loopauth status {profile} --check  # when the access token expires; a due one is refreshed on use",
        f"""  loopauth exec {profile} -- sh -c 'echo "$LOOPAUTH_USERNAME"'  # credentials in its environment only""",
        f"  loopauth login {profile}  # log in again: the profile remembers this provider",
        f"  loopauth logout {profile} --revoke",
    ]
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
