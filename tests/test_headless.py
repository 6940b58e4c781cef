"""When the browser is elsewhere: pasted addresses, verifiers and PINs, --callback-url, --no-browser, TLS, ::1.

Every test runs ``loopauth login`` as a subprocess against the demo provider, reads
what it prints on stderr as it comes, and plays the person: clicking on the demo's
authorize page with aiohttp, pasting on the child's stdin, or visiting the callback.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import socket
import ssl
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from ipaddress import ip_address
from pathlib import Path
from urllib.parse import parse_qs, urljoin, urlsplit

import aiohttp
import pytest
from yarl import URL

from loopauth.demo import DEMO_SCREEN_NAME, play_user
from loopauth.loopback.tls import SELF_SIGNED_HOSTS, self_signed_context
from loopauth.store import CredentialStore

from .conftest import FAKE_BROWSER, browser_env, demo_login_args, oauth1, run_cli, run_cli_async
from .demo_probes import DemoProvider

URL_PATTERN = r"(\S+oauth_token=\S+)"


class Login:
    """``loopauth login`` as a child process: stderr read line by line as it comes, stdin ours to write."""

    def __init__(self, proc: asyncio.subprocess.Process) -> None:
        self.proc = proc
        self.lines: list[str] = []

    @classmethod
    async def start(cls, *args: str, env: dict[str, str] | None = None, wrapper: Sequence[str] = ()) -> Login:
        proc = await asyncio.create_subprocess_exec(
            *wrapper,
            sys.executable,
            "-m",
            "loopauth",
            *args,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={**os.environ, **(env or {})},
        )
        return cls(proc)

    @property
    def stderr(self) -> str:
        return "".join(self.lines)

    async def expect(self, pattern: str, timeout: float = 20) -> re.Match[str]:
        """The first line printed from now on that matches ``pattern``."""
        assert self.proc.stderr is not None
        async with asyncio.timeout(timeout):
            while True:
                raw = await self.proc.stderr.readline()
                if not raw:
                    raise AssertionError(f"loopauth ended without printing {pattern!r}:\n{self.stderr}")
                line = raw.decode()
                self.lines.append(line)
                found = re.search(pattern, line)
                if found:
                    return found

    async def paste(self, text: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(text.encode() + b"\n")
        await self.proc.stdin.drain()

    async def finish(self, timeout: float = 20) -> subprocess.CompletedProcess[str]:
        assert self.proc.stdout is not None
        assert self.proc.stderr is not None
        try:
            async with asyncio.timeout(timeout):
                out, err = await asyncio.gather(self.proc.stdout.read(), self.proc.stderr.read())
                await self.proc.wait()
        except TimeoutError:
            self.proc.kill()
            await self.proc.wait()
            raise
        self.lines.append(err.decode())
        assert self.proc.returncode is not None
        return subprocess.CompletedProcess([], self.proc.returncode, out.decode(), self.stderr)

    def kill(self) -> None:
        if self.proc.returncode is None:
            self.proc.kill()


async def approve_on_demo(authorize_url: str) -> str:
    """Click "Authorize app" on the demo's page, as the person would; return where the provider sends the browser."""
    token = parse_qs(urlsplit(authorize_url).query)["oauth_token"][0]
    async with aiohttp.ClientSession() as session:
        async with session.get(authorize_url) as page:
            assert page.status == 200, await page.text()
        async with session.post(
            urljoin(authorize_url, "/oauth/authorize"),
            data={"oauth_token": token, "action": "approve"},
            allow_redirects=False,
        ) as decision:
            assert decision.status == 302, await decision.text()
            return decision.headers["Location"]


async def browse(start_url: str, *, ssl_context: ssl.SSLContext | bool = True, via: str | None = None) -> str:
    """The browser's whole trip: our start page, the provider's page, back to our callback; the final page's text.

    ``via`` replaces the host of our own URLs (``[::1]``), as a browser whose resolver picked that address would.
    """

    def local(url: str) -> URL:
        parsed = URL(url, encoded=True)
        return parsed.with_host(via.strip("[]")) if via else parsed

    async with aiohttp.ClientSession() as session:
        async with session.get(local(start_url), allow_redirects=False, ssl=ssl_context) as start:
            assert start.status == 302, await start.text()
            authorize = start.headers["Location"]
        callback = await approve_on_demo(authorize)
        async with session.get(local(callback), ssl=ssl_context) as landed:
            text = await landed.text()
            assert landed.status == 200, text
            return text


def verifier_of(location: str) -> str:
    return parse_qs(urlsplit(location).query)["oauth_verifier"][0]


def assert_logged_in(result: subprocess.CompletedProcess[str], *, secret: str | None = None) -> None:
    assert result.returncode == 0, result.stderr
    assert f"@{DEMO_SCREEN_NAME}" in result.stdout
    assert "Traceback" not in result.stderr
    creds = oauth1(CredentialStore().load("default"))
    for value in (creds.oauth_token, creds.oauth_token_secret, secret):
        if value:
            assert value not in result.stderr
            assert value not in result.stdout


StartLogin = Callable[..., Awaitable[Login]]


@pytest.fixture
async def login() -> AsyncIterator[StartLogin]:
    """Start logins with Login.start; any still running at the end of the test are killed."""
    started: list[Login] = []

    async def start(*args: str, env: dict[str, str] | None = None, wrapper: Sequence[str] = ()) -> Login:
        child = await Login.start(*args, env=env, wrapper=wrapper)
        started.append(child)
        return child

    yield start
    for child in started:
        child.kill()
        await child.proc.wait()


# --- pasting --------------------------------------------------------------------------------------------------


async def test_pasted_redirect_url_completes_an_unserved_https_callback(demo: DemoProvider, login: StartLogin) -> None:
    """--callback-url https://localhost/ is not served: the address the browser lands on, pasted, logs in."""
    child = await login(*demo_login_args(demo, "--callback-url", "https://localhost/", "--no-browser"))
    await child.expect(r"register this exact URL with demo\): https://localhost/$")
    authorize = (await child.expect(r"Open this URL in a browser to log in: " + URL_PATTERN))[1]
    await child.expect(r"paste it here, press Enter")
    landed = await approve_on_demo(authorize)
    assert landed.startswith("https://localhost/?")
    await child.paste(landed)
    assert_logged_in(await child.finish(), secret=verifier_of(landed))


async def test_pasted_bare_verifier_is_paired_with_our_request_token(demo: DemoProvider, login: StartLogin) -> None:
    """Only the oauth_verifier value, pasted alone, completes the login."""
    child = await login(*demo_login_args(demo, "--callback-url", "https://localhost/", "--no-browser"))
    authorize = (await child.expect(r"Open this URL in a browser to log in: " + URL_PATTERN))[1]
    verifier = verifier_of(await approve_on_demo(authorize))
    await child.paste(verifier)
    assert_logged_in(await child.finish(), secret=verifier)


async def test_pasted_url_for_another_login_is_rejected_and_the_wait_goes_on(
    demo: DemoProvider, login: StartLogin
) -> None:
    """A forged token or a stray sentence gets one line on stderr; the real address still completes."""
    child = await login(*demo_login_args(demo, "--callback-url", "https://localhost/", "--no-browser"))
    authorize = (await child.expect(r"Open this URL in a browser to log in: " + URL_PATTERN))[1]
    landed = await approve_on_demo(authorize)
    await child.paste(f"https://localhost/?oauth_token=forged-token&oauth_verifier={verifier_of(landed)}")
    await child.expect(r"does not complete this login: this callback is for another login")
    await child.paste("oops, wrong window")
    await child.expect(r"does not complete this login: that is neither")
    assert demo.calls["access_token"] == 0
    await child.paste(landed)
    result = await child.finish()
    assert_logged_in(result, secret=verifier_of(landed))
    assert "forged-token" not in result.stderr  # nothing pasted is echoed back


async def test_pin_typed_after_oob_is_the_verifier(demo: DemoProvider, login: StartLogin) -> None:
    """--oob: the provider shows a 7-digit PIN; typing it on stdin logs in."""
    child = await login(*demo_login_args(demo, "--oob", "--no-browser"))
    authorize = (await child.expect(r"Open this URL in a browser to log in: " + URL_PATTERN))[1]
    await child.expect(r"shows a PIN: type it here")
    pin_page = await play_user(authorize)
    pin = re.search(r'role="status">(\d{7})<', pin_page)
    assert pin, pin_page
    await child.paste(pin[1])
    assert_logged_in(await child.finish(), secret=pin[1])


async def test_paste_wins_while_the_loopback_server_also_waits(demo: DemoProvider, login: StartLogin) -> None:
    """With the server listening, the callback address pasted on stdin completes first, and the server closes."""
    child = await login(*demo_login_args(demo, "--no-browser"))
    start = (await child.expect(r"Open this URL in a browser to log in: (http://127\.0\.0\.1:\d+/[\w-]+) "))[1]
    authorize = (await child.expect(r"Or open the provider's page: " + URL_PATTERN))[1]
    landed = await approve_on_demo(authorize)
    assert landed.startswith(urljoin(start, "/callback?"))
    await child.paste(landed)
    assert_logged_in(await child.finish(), secret=verifier_of(landed))
    with pytest.raises(aiohttp.ClientConnectionError):
        async with aiohttp.ClientSession() as session, session.get(landed):
            pass


@pytest.mark.parametrize("stdin", [None, b""], ids=["devnull", "closed-pipe"])
async def test_empty_or_closed_stdin_does_not_disturb_the_browser_login(
    demo: DemoProvider, stdin: bytes | None
) -> None:
    """Run by another tool with nothing on stdin: EOF ends neither the wait nor the login, and nothing prompts."""
    result = await run_cli_async(*demo_login_args(demo), env=browser_env(), stdin=stdin)
    assert_logged_in(result)
    assert "Paste" not in result.stderr
    assert "PIN" not in result.stderr


async def test_no_stdin_at_all_does_not_disturb_the_browser_login(demo: DemoProvider) -> None:
    """Started with descriptor 0 closed (``<&-``), the login neither crashes nor stops waiting for the browser."""
    proc = await asyncio.create_subprocess_exec(
        "/bin/sh",
        "-c",
        'exec "$0" -m loopauth "$@" <&-',
        sys.executable,
        *demo_login_args(demo),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, **browser_env()},
    )
    async with asyncio.timeout(30):
        out, err = await proc.communicate()
    assert proc.returncode is not None
    assert_logged_in(subprocess.CompletedProcess([], proc.returncode, out.decode(), err.decode()))


# --- serving other callbacks ----------------------------------------------------------------------------------


async def test_no_browser_prints_a_local_url_that_completes_the_login(demo: DemoProvider, login: StartLogin) -> None:
    """--no-browser runs no browser; visiting the short local URL it prints logs in."""
    child = await login(*demo_login_args(demo, "--no-browser"), env=browser_env("--deny"))
    start = (await child.expect(r"Open this URL in a browser to log in: (http://127\.0\.0\.1:\d+/[\w-]+) "))[1]
    page = await play_user(start)
    assert "Logged in" in page
    result = await child.finish()
    assert_logged_in(result)
    assert "denied" not in result.stderr  # $BROWSER (which would deny) was never run


async def test_callback_url_at_the_root_is_served_with_the_start_page_aside(
    demo: DemoProvider, login: StartLogin
) -> None:
    """A loopback --callback-url with path / is served; the start page has its own random path beside it."""
    child = await login(*demo_login_args(demo, "--callback-url", "http://127.0.0.1:0/", "--no-browser"))
    registered = (await child.expect(r"register this exact URL with demo\): (http://127\.0\.0\.1:\d+/)$"))[1]
    start = (await child.expect(r"Open this URL in a browser to log in: (\S+) "))[1]
    assert re.fullmatch(re.escape(registered) + r"[\w-]{22}", start)
    assert "Logged in" in await play_user(start)
    assert_logged_in(await child.finish())


async def test_localhost_callback_is_reached_over_ipv6_loopback(demo: DemoProvider, login: StartLogin) -> None:
    """A localhost callback listens on ::1 too: a browser that resolves localhost to ::1 completes the login."""
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
    except OSError:
        pytest.skip("this machine has no IPv6 loopback")
    child = await login(*demo_login_args(demo, "--callback-url", "http://localhost:0/callback", "--no-browser"))
    await child.expect(r"register this exact URL with demo\): http://localhost:\d+/callback$")
    start = (await child.expect(r"Open this URL in a browser to log in: (http://localhost:\d+/[\w-]+) "))[1]
    assert "Logged in" in await browse(start, via="[::1]")
    assert_logged_in(await child.finish())


def without_port_80() -> list[str]:
    """A command prefix under which port 80 cannot be bound: none for a normal user, setpriv for root."""
    try:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 80))
    except PermissionError:
        return []
    except OSError:
        pytest.skip("port 80 is taken here")
    # Root (as in many CI containers) may bind port 80: take that one capability away from the child.
    setpriv = shutil.which("setpriv")
    wrapper = [setpriv or "setpriv", "--bounding-set=-net_bind_service", "--inh-caps=-net_bind_service"]
    if not setpriv or subprocess.run([*wrapper, "true"], capture_output=True).returncode != 0:
        pytest.skip("this user may bind port 80, and setpriv cannot take that privilege away here")
    return wrapper


async def test_unbindable_privileged_port_falls_back_to_pasting(demo: DemoProvider, login: StartLogin) -> None:
    """--callback-url on port 80 without privileges is not served; the pasted address completes the login."""
    wrapper = without_port_80()
    child = await login(
        *demo_login_args(demo, "--callback-url", "http://127.0.0.1/cb", "--no-browser"), wrapper=wrapper
    )
    await child.expect(r"Port 80 needs privileges")
    authorize = (await child.expect(r"Open this URL in a browser to log in: " + URL_PATTERN))[1]
    landed = await approve_on_demo(authorize)
    assert landed.startswith("http://127.0.0.1/cb?")
    await child.paste(landed)
    assert_logged_in(await child.finish())


async def test_ssh_session_prints_the_tunnel_command_with_the_real_port(demo: DemoProvider, login: StartLogin) -> None:
    """Over SSH the line to run on the laptop names the bound port and the SSH server's address and port."""
    env = {"SSH_CONNECTION": "192.0.2.7 51000 192.0.2.1 2222", "LOGNAME": "dev", "USER": "dev"}
    child = await login(*demo_login_args(demo, "--no-browser"), env=env)
    tunnel = await child.expect(r"^  ssh -N -L (\d+):127\.0\.0\.1:(\d+) -p 2222 dev@192\.0\.2\.1$")
    start = (await child.expect(r"Open this URL in a browser to log in: (http://127\.0\.0\.1:\d+/[\w-]+) "))[1]
    assert tunnel[1] == tunnel[2] == str(URL(start).port)
    await play_user(start)
    assert_logged_in(await child.finish())


async def test_browser_that_cannot_open_falls_back_to_printing_the_url(
    demo: DemoProvider, login: StartLogin, tmp_path: Path
) -> None:
    """A BROWSER that fails does not fail the login: the URL is printed and the paste completes it."""
    # Only `false` on PATH: webbrowser would otherwise go on to any console browser installed here (w3m, lynx).
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "false").symlink_to(shutil.which("false") or "/bin/false")
    env = {"BROWSER": "false", "PATH": str(tmp_path / "bin")}
    child = await login(*demo_login_args(demo, "--callback-url", "https://localhost/"), env=env)
    authorize = (await child.expect(r"No browser could be opened\. Open this URL to log in: " + URL_PATTERN))[1]
    await child.paste(await approve_on_demo(authorize))
    assert_logged_in(await child.finish())


# --- TLS ------------------------------------------------------------------------------------------------------


def write_test_pki(directory: Path) -> tuple[Path, Path, Path]:
    """An mkcert-style CA and a leaf for 127.0.0.1/localhost signed by it: (ca.pem, cert.pem, key.pem).

    Built with the extensions a real CA writes (mkcert's among them), because strict verification requires them:
    Python 3.13's default client context sets VERIFY_X509_STRICT, under which OpenSSL refuses a CA-issued leaf
    without an Authority Key Identifier ("Missing Authority Key Identifier") and a CA without a Subject Key
    Identifier. The key identifiers are what a verifier matches a certificate's issuer with; the usages say the
    CA signs certificates and the leaf is a TLS server's.
    """
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.now(UTC)

    def builder(subject: str, issuer: str, public_key: ec.EllipticCurvePublicKey) -> x509.CertificateBuilder:
        return (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + timedelta(days=1))
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        )

    def key_usage(*, sign: bool = False, certs: bool = False) -> x509.KeyUsage:
        return x509.KeyUsage(
            digital_signature=sign,
            content_commitment=False,
            key_encipherment=False,  # an EC key signs; it never encrypts a key
            data_encipherment=False,
            key_agreement=False,
            key_cert_sign=certs,
            crl_sign=certs,
            encipher_only=False,
            decipher_only=False,
        )

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        builder("loopauth test CA", "loopauth test CA", ca_key.public_key())
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(key_usage(certs=True), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    issuer_id = ca.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
    key = ec.generate_private_key(ec.SECP256R1())
    names: list[x509.GeneralName] = [x509.DNSName("localhost"), x509.IPAddress(ip_address("127.0.0.1"))]
    leaf = (
        builder("127.0.0.1", "loopauth test CA", key.public_key())
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(issuer_id), critical=False)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(key_usage(sign=True), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    paths = directory / "ca.pem", directory / "cert.pem", directory / "key.pem"
    paths[0].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths[1].write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    paths[2].write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return paths


async def test_tls_callback_with_a_given_certificate(demo: DemoProvider, login: StartLogin, tmp_path: Path) -> None:
    """--tls-cert/--tls-key serve the callback over https; a browser trusting the CA completes the login."""
    ca, cert, key = write_test_pki(tmp_path)
    child = await login(*demo_login_args(demo, "--tls-cert", str(cert), "--tls-key", str(key), "--no-browser"))
    await child.expect(r"register this exact URL with demo\): https://127\.0\.0\.1:\d+/callback$")
    start = (await child.expect(r"Open this URL in a browser to log in: (https://127\.0\.0\.1:\d+/[\w-]+) "))[1]
    trusting = ssl.create_default_context(cafile=str(ca))
    trusting.verify_flags |= ssl.VERIFY_X509_STRICT  # 3.13's default, asked for so every Python checks the same
    assert "Logged in" in await browse(start, ssl_context=trusting)
    assert_logged_in(await child.finish())


async def test_tls_self_signed_warns_and_serves_https(demo: DemoProvider, login: StartLogin) -> None:
    """--tls-self-signed warns about the browser prompt; a client accepting the certificate completes the login."""
    child = await login(*demo_login_args(demo, "--tls-self-signed", "--no-browser"))
    await child.expect(r"self-signed certificate: the browser will warn")
    start = (await child.expect(r"Open this URL in a browser to log in: (https://127\.0\.0\.1:\d+/[\w-]+) "))[1]
    with pytest.raises(aiohttp.ClientConnectorCertificateError):
        await browse(start)  # a verifying client refuses it, as a browser would until told to go on
    assert "Logged in" in await browse(start, ssl_context=False)  # the user clicking "accept the risk"
    assert_logged_in(await child.finish())


def _handshake(server: ssl.SSLContext, client: ssl.SSLContext, hostname: str) -> ssl.SSLObject:
    """A TLS handshake between two contexts in memory: the client's SSLObject, or the client's SSLError."""
    to_server, to_client = ssl.MemoryBIO(), ssl.MemoryBIO()
    server_side = server.wrap_bio(to_server, to_client, server_side=True)
    client_side = client.wrap_bio(to_client, to_server, server_hostname=hostname)
    done: set[ssl.SSLObject] = set()
    for _ in range(10):  # TLS 1.3 takes two flights each way; ten rounds is room to spare, and never a hang
        for side in (client_side, server_side):
            if side not in done:
                try:
                    side.do_handshake()
                    done.add(side)
                except ssl.SSLWantReadError:
                    pass
        if len(done) == 2:
            return client_side
    raise AssertionError("the in-memory TLS handshake did not finish")


@pytest.mark.parametrize("host", SELF_SIGNED_HOSTS)
def test_self_signed_certificate_passes_a_strict_client_that_trusts_it(host: str) -> None:
    """The throwaway certificate, trusted as its own anchor by a strict client (3.13's default), names every host.

    It needs no key identifiers: RFC 5280 lets a self-signed certificate omit the Authority Key Identifier, and
    OpenSSL's strict checks are for chains of a leaf and its issuers. This pins that down on every Python, and
    that each loopback host it is made for passes the hostname check of a client that does trust it.
    """
    server = self_signed_context()
    unverified = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    unverified.check_hostname = False
    unverified.verify_mode = ssl.CERT_NONE
    der = _handshake(server, unverified, host).getpeercert(binary_form=True)
    assert der is not None
    trusting = ssl.create_default_context(cadata=ssl.DER_cert_to_PEM_cert(der))
    trusting.verify_flags |= ssl.VERIFY_X509_STRICT  # 3.13's default, asked for so every Python checks the same
    assert _handshake(server, trusting, host).getpeercert()
    stranger = ssl.create_default_context()  # the system's CAs only: still refused, as the warning says
    with pytest.raises(ssl.SSLCertVerificationError):
        _handshake(server, stranger, host)


def _tls_args(*extra: str) -> list[str]:
    return ["login", "--consumer-key", "k", "--consumer-secret", "s", "--no-browser", *extra]


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("missing", "cannot read TLS certificate"),
        ("mismatched", "does not belong to the certificate"),
        ("not-pem", "is not a PEM certificate"),
        ("cert-only", "--tls-cert and --tls-key go together"),
    ],
)
def test_unusable_tls_files_are_one_line_usage_errors(tmp_path: Path, case: str, message: str) -> None:
    """Unreadable, mismatched or non-PEM certificate files: exit 2 with one line naming the problem."""
    _, cert, key = write_test_pki(tmp_path)
    other = tmp_path / "other"
    other.mkdir()
    _, _, other_key = write_test_pki(other)
    junk = tmp_path / "junk.pem"
    junk.write_text("not a certificate\n")
    args = {
        "missing": ["--tls-cert", str(tmp_path / "nope.pem"), "--tls-key", str(key)],
        "mismatched": ["--tls-cert", str(cert), "--tls-key", str(other_key)],
        "not-pem": ["--tls-cert", str(junk), "--tls-key", str(key)],
        "cert-only": ["--tls-cert", str(cert)],
    }[case]
    result = run_cli(*_tls_args(*args))
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    assert message in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ("--oob", "--callback-url", "http://127.0.0.1:0/cb"),
        ("--callback-url", "ftp://127.0.0.1/cb"),
        ("--callback-url", "http://127.0.0.1:99999/cb"),
        ("--oob", "--tls-self-signed"),
        ("--callback-url", "http://127.0.0.1:0/cb", "--tls-self-signed"),
    ],
)
def test_contradictory_callback_options_are_usage_errors(args: tuple[str, ...]) -> None:
    """Options that cannot all hold: exit 2, one line, before any request."""
    result = run_cli(*_tls_args(*args))
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith("loopauth: error:")


# --- a terminal -----------------------------------------------------------------------------------------------


async def test_terminal_gets_a_prompt_and_is_left_as_it_was(demo: DemoProvider) -> None:
    """On a TTY stdin the login prompts on stderr, reads the paste, and leaves the terminal's mode and flags alone."""
    import fcntl
    import pty
    import termios

    controller, terminal = pty.openpty()
    try:
        mode_before = termios.tcgetattr(terminal)
        flags_before = fcntl.fcntl(terminal, fcntl.F_GETFL)
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "loopauth",
            *demo_login_args(demo, "--callback-url", "https://localhost/", "--no-browser"),
            stdin=terminal,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        child = Login(proc)
        try:
            authorize = (await child.expect(r"Open this URL in a browser to log in: " + URL_PATTERN))[1]
            await child.expect(r"^Address: $|paste it here")
            landed = await approve_on_demo(authorize)
            os.write(controller, landed.encode() + b"\n")
            result = await child.finish()
        finally:
            child.kill()
        assert_logged_in(result, secret=verifier_of(landed))
        assert "Address: " in result.stderr
        assert termios.tcgetattr(terminal) == mode_before
        assert fcntl.fcntl(terminal, fcntl.F_GETFL) == flags_before  # never left non-blocking
    finally:
        os.close(controller)
        os.close(terminal)


async def test_a_terminal_browser_keeps_the_keyboard_until_it_is_done(demo: DemoProvider, tmp_path: Path) -> None:
    """A BROWSER that runs in this terminal (w3m) gets every key typed there; loopauth reads the terminal only
    after that browser has returned, so it never steals a keystroke and never reads one as a paste."""
    import pty

    keys = tmp_path / "keys"
    browser = f"{sys.executable} {Path(__file__).with_name('terminal_browser.py')} {keys} %s"
    controller, terminal = pty.openpty()
    try:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "loopauth",
            *demo_login_args(demo),
            stdin=terminal,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={**os.environ, "BROWSER": browser},
        )
        child = Login(proc)
        try:
            await child.expect(r"^Opening ")
            os.write(controller, b"j j j Tab Enter\n")  # what a person types into the browser
            result = await child.finish()
        finally:
            child.kill()
        assert_logged_in(result)
        assert keys.read_text() == "j j j Tab Enter\n"
        assert "does not complete this login" not in result.stderr
    finally:
        os.close(controller)
        os.close(terminal)


# --- WSL ------------------------------------------------------------------------------------------------------


def wsl_launchers(directory: Path, *, wslview_works: bool) -> dict[str, str]:
    """Stand-ins for wslview and explorer.exe on PATH, and the environment that makes loopauth think it is on WSL.

    Each records the URL it was given; the working ones then play the user like the fake browser.
    """
    directory.mkdir()
    play = f'exec "{sys.executable}" "{FAKE_BROWSER}" "$1"\n'
    for name, works in (("wslview", wslview_works), ("explorer.exe", True)):
        script = directory / name
        script.write_text(
            f'#!/bin/sh\nprintf "%s\\n" "$1" >> "{directory}/{name}.log"\n' + (play if works else "exit 1\n")
        )
        script.chmod(0o755)
    return {"WSL_DISTRO_NAME": "Test", "PATH": f"{directory}{os.pathsep}{os.environ['PATH']}"}


@pytest.mark.parametrize("wslview_works", [True, False], ids=["wslview", "wslview-fails-then-explorer"])
async def test_wsl_opens_the_short_local_url_with_the_windows_launchers(
    demo: DemoProvider, tmp_path: Path, wslview_works: bool
) -> None:
    """On WSL the start URL (no '=' or '&' to mangle) goes to wslview, and to explorer.exe when wslview fails."""
    bin_dir = tmp_path / "bin"
    result = await run_cli_async(*demo_login_args(demo), env=wsl_launchers(bin_dir, wslview_works=wslview_works))
    assert_logged_in(result)
    opened = (bin_dir / "wslview.log").read_text().split()
    assert len(opened) == 1
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/[\w-]{22}", opened[0])
    assert (bin_dir / "explorer.exe.log").exists() is not wslview_works


def test_self_signed_without_cryptography_says_what_to_install() -> None:
    """--tls-self-signed where cryptography cannot be imported: exit 2 naming the extra, no traceback."""
    code = (
        "import sys; sys.modules['cryptography'] = None\n"  # as if it were not installed
        "from loopauth.cli import main\n"
        "raise SystemExit(main(sys.argv[1:]))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, *_tls_args("--tls-self-signed")],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=60,
    )
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1, result.stderr
    assert "pip install 'loopauth[tls]'" in result.stderr


def _read_until(fd: int, pattern: bytes, timeout: float = 20) -> bytes:
    """What the terminal shows, read until ``pattern`` appears (or the time is up)."""
    import select
    import time

    out = b""
    end = time.monotonic() + timeout
    while pattern not in out and time.monotonic() < end:
        ready, _, _ = select.select([fd], [], [], 0.1)
        if ready:
            try:
                out += os.read(fd, 4096)
            except OSError:
                break  # the other side closed
    return out


@pytest.mark.skipif(shutil.which("stty") is None, reason="needs stty to play a browser that leaves echo off")
def test_the_oob_pin_is_shown_as_typed_even_after_a_browser_turned_echo_off() -> None:
    """A PIN is no secret: the prompt reads it with echo on, also when the terminal browser before it left the
    terminal without echo (as w3m does when it is killed)."""
    import pty
    import termios

    from .threaded_demos import in_a_thread

    with in_a_thread(DemoProvider()) as demo:
        master, terminal = pty.openpty()
        # The "browser" runs in the foreground on the shared terminal, turns echo off, and exits.
        env = {**os.environ, "BROWSER": "sh -c 'stty -echo' %s"}
        proc = subprocess.Popen(
            [sys.executable, "-m", "loopauth", *demo_login_args(demo, "--oob")],
            stdin=terminal, stdout=terminal, stderr=terminal, env=env, start_new_session=True,
        )  # fmt: skip
        os.close(terminal)
        try:
            # The prompt itself, at the start of its line: "… shows a PIN: type it here" comes earlier.
            shown = _read_until(master, b"\nPIN: ")
            assert b"\nPIN: " in shown, shown
            os.write(master, b"1234567\n")
            shown = _read_until(master, b"type it again")
            assert b"1234567" in shown, shown
            assert termios.tcgetattr(master)[3] & termios.ECHO  # and echo stays on for the shell afterwards
        finally:
            proc.kill()
            proc.wait(10)
            os.close(master)
