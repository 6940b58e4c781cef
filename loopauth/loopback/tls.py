"""TLS for the loopback callback: a certificate the user brings (mkcert-style), or a throwaway self-signed one.

Some providers only accept, or rewrite callbacks to, ``https://`` (Flickr does), so
the callback server must be able to speak TLS on loopback. Everything here
fails with a one-line :class:`UsageError`: a certificate problem is the user's
input, found before any browser opens.
"""

from __future__ import annotations

import ssl
import tempfile
from datetime import UTC, datetime, timedelta
from ipaddress import ip_address
from pathlib import Path

from ..errors import UsageError

SELF_SIGNED_HOSTS = ("localhost", "127.0.0.1", "::1")
SELF_SIGNED_LIFETIME = timedelta(days=1)
"""A throwaway certificate outlives one login and not much more."""


def _new_context() -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


def _no_password() -> bytes:
    # Without a callback OpenSSL would prompt on the terminal for an encrypted key, in the middle of a login.
    raise UsageError("the TLS key is encrypted; give an unencrypted key (mkcert writes one)")


def server_context(cert_file: str, key_file: str) -> ssl.SSLContext:
    """An https server context from PEM files; UsageError naming the file for anything unusable."""
    for what, name in (("certificate", cert_file), ("key", key_file)):
        try:
            Path(name).read_bytes()
        except OSError as exc:
            raise UsageError(f"cannot read TLS {what} {name}: {exc.strerror or exc}") from exc
    context = _new_context()
    try:
        context.load_cert_chain(cert_file, key_file, password=_no_password)
    except ssl.SSLError as exc:
        if exc.reason == "KEY_VALUES_MISMATCH":
            raise UsageError(f"the TLS key {key_file} does not belong to the certificate {cert_file}") from exc
        # OpenSSL only says "PEM lib"; find out which of the two files it choked on.
        cert_ok = _is_pem_certificate(cert_file)
        bad, what = (key_file, "private key") if cert_ok else (cert_file, "certificate")
        raise UsageError(f"{bad} is not a PEM {what} (expected a -----BEGIN ... ----- file)") from exc
    return context


def _is_pem_certificate(name: str) -> bool:
    try:
        ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT).load_verify_locations(cafile=name)
    except (ssl.SSLError, OSError):
        return False
    return True


def self_signed_context(hosts: tuple[str, ...] = SELF_SIGNED_HOSTS) -> ssl.SSLContext:
    """A context with a fresh self-signed certificate for ``hosts``; needs the ``cryptography`` package."""
    return self_signed(hosts)[0]


def self_signed(hosts: tuple[str, ...] = SELF_SIGNED_HOSTS) -> tuple[ssl.SSLContext, bytes]:
    """:func:`self_signed_context`, and the certificate as PEM, for clients that are to trust it."""
    try:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID
    except ImportError as exc:
        raise UsageError(
            "a self-signed certificate needs the 'cryptography' package: pip install 'loopauth[tls]', "
            "or bring your own certificate and key"
        ) from exc

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "loopauth throwaway loopback certificate")])
    names: list[x509.GeneralName] = []
    for host in hosts:
        try:
            names.append(x509.IPAddress(ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))  # a little slack for a clock that is slightly off
        .not_valid_after(now + SELF_SIGNED_LIFETIME)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    context = _new_context()
    cert_pem = cert.public_bytes(serialization.Encoding.PEM)
    # load_cert_chain only reads files: write both to a private directory that is gone once they are loaded.
    with tempfile.TemporaryDirectory(prefix="loopauth-tls-") as tmp:
        cert_path = Path(tmp, "cert.pem")
        key_path = Path(tmp, "key.pem")
        cert_path.write_bytes(cert_pem)
        key_path.touch(mode=0o600)
        key_path.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )
        context.load_cert_chain(cert_path, key_path)
    return context, cert_pem
