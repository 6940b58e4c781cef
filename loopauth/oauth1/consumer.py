"""An OAuth 1.0a app's identity, checked: its consumer key and secret, its signature method and, for RSA-SHA1,
the private key, read from its file here (the one place OAuth 1.0a signing touches the disk)."""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

from ..errors import UsageError
from ..models import SIGNATURE_METHODS

RSA_EXTRA = "RSA-SHA1 signing needs the 'cryptography' and 'PyJWT' packages: pip install 'loopauth[rsa]'"


class Consumer(NamedTuple):
    """The app's identity and how it signs: key, secret, signature method and, for RSA-SHA1, the key.

    A NamedTuple, not a dataclass: an OAuth 1.0a ``loopauth header`` loads this, and dataclasses brings inspect."""

    key: str
    secret: str
    signature_method: str = "HMAC-SHA1"
    rsa_key: str | None = None
    rsa_key_file: str | None = None
    """The absolute path the key was read from: stored with the profile, so later calls can sign."""


def consumer_for(
    key: str | None, secret: str | None, *, signature_method: str, rsa_key_file: str | None = None
) -> Consumer:
    """Check and assemble a consumer; UsageError for a missing key or secret, or an unusable RSA key."""
    if not key:
        raise UsageError("no consumer key: give {arg}", argument="consumer_key")
    if signature_method not in SIGNATURE_METHODS:
        raise UsageError(
            f"unknown signature method {signature_method!r} (choose from {', '.join(SIGNATURE_METHODS)})",
            argument="signature_method",
        )
    if signature_method != "RSA-SHA1":
        if secret is None:
            raise UsageError("no consumer secret: give {arg}", argument="consumer_secret")
        return Consumer(key, secret, signature_method)
    if not rsa_key_file:
        raise UsageError("RSA-SHA1 needs the consumer's private key: {arg} (a PEM file)", argument="rsa_key_file")
    require_rsa_support()
    path = Path(rsa_key_file).expanduser()
    try:
        pem = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot read RSA key {rsa_key_file}: {exc.strerror or exc}") from exc
    except UnicodeDecodeError:
        raise UsageError(f"RSA key {rsa_key_file} is not a PEM file") from None
    return Consumer(key, secret or "", signature_method, pem, str(path.resolve()))


def require_rsa_support() -> None:
    """Fail before any browser opens when RSA-SHA1 cannot be signed here."""
    try:
        # What oauthlib's RSA-SHA1 signer imports (PyJWT's algorithms pull in cryptography).
        import jwt.algorithms  # noqa: F401
    except ImportError:
        raise UsageError(RSA_EXTRA) from None
