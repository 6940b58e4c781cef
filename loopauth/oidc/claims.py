"""An ID token's claims read without its signature, for what needs no key: comparing a refreshed ID token with
the login's (OpenID Connect Core §12.2) and naming the account. Standard library only: a refresh runs inside
``loopauth token``, where PyJWT and cryptography are not worth their import.

A refreshed ID token comes straight from the token endpoint, over https (or loopback): Core §3.1.3.7 ¶6 lets TLS
stand in for its signature there. The login's own ID token is verified in full (:mod:`.idtoken`).
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from typing import Any

from ..errors import ProviderError
from ..text import clean, has_control

SKEW = 60
"""Seconds of clock difference with the provider that ``exp`` and ``iat`` allow."""
SAME = ("iss", "sub", "aud", "azp")
"""What a refreshed ID token must keep from the login's (Core §12.2)."""


def unverified(token: str) -> dict[str, Any]:
    """The claims of a compact JWS, unchecked; ProviderError when it is not one."""
    parts = token.split(".")
    if len(parts) != 3:
        raise ProviderError("the ID token is not a signed JWT (it has no three parts)")
    try:
        raw = base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4))
        data: Any = json.loads(raw)
    except (binascii.Error, ValueError):
        data = None
    if not isinstance(data, dict):
        raise ProviderError("the ID token's claims are not a JSON object")
    return data


def check_refreshed(first: str, new: str, *, now: float | None = None) -> None:
    """ProviderError unless ``new`` (from a refresh) is for the same login as ``first`` and has not expired."""
    if has_control(new):
        raise ProviderError("refresh failed: the provider's new ID token has control characters in it")
    old_claims, new_claims = unverified(first), unverified(new)
    for name in SAME:
        if old_claims.get(name) != new_claims.get(name):
            raise ProviderError(
                f"refresh failed: the provider's new ID token has another {name!r} than the login's "
                "(OpenID Connect Core §12.2); nothing was saved"
            )
    exp = new_claims.get("exp")
    if not isinstance(exp, int | float) or isinstance(exp, bool) or exp + SKEW < (time.time() if now is None else now):
        raise ProviderError("refresh failed: the provider's new ID token has expired; nothing was saved")


def account(claims: dict[str, Any]) -> tuple[str | None, str | None]:
    """(name, id) an ID token names: ``preferred_username``, else ``email``, else ``name``; and ``sub``."""
    names = [claims.get(key) for key in ("preferred_username", "email", "name")]
    name = next((value for value in names if isinstance(value, str) and value.strip()), None)
    sub = claims.get("sub")
    return (clean(name) if name else None), (clean(sub) if isinstance(sub, str) and sub.strip() else None)
