"""OpenID Connect on top of loopauth's OAuth 2.0: discovery by issuer URL, and verified ID tokens.

:mod:`.discovery` and :mod:`.claims` use the standard library only; :mod:`.idtoken` needs PyJWT with
cryptography (``loopauth[oidc]``) and is imported only by a login that receives an ID token.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..errors import UsageError
from ..models import OAuth2Provider

EXTRA = "loopauth[oidc]"


def wants_id_token(provider: OAuth2Provider, scopes: Sequence[str]) -> bool:
    """Whether a login gets an ID token to verify: ``openid`` is asked for, of a provider with an issuer (without
    one there is nothing to check the token's ``iss`` and signature against)."""
    return bool(provider.issuer) and "openid" in scopes


def require_extra() -> None:
    """UsageError (exit 2) naming the extra when PyJWT or cryptography is missing: before any browser opens."""
    from importlib.util import find_spec

    missing = [name for name in ("jwt", "cryptography") if find_spec(name) is None]
    if missing:
        raise UsageError(
            f"an OpenID Connect login verifies ID tokens with PyJWT and cryptography: pip install '{EXTRA}'"
        )
