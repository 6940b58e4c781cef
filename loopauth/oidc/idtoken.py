"""Verifying the ID token of a login (OpenID Connect Core 1.0 §3.1.3.7), with PyJWT and cryptography.

The signature is checked with the issuer's key named by ``kid``, from its ``jwks_uri`` (fetched once per login,
again once if the token names a key not in it: the provider rotated its keys). Only asymmetric algorithms are
accepted: never ``none``, and never an HMAC, whose "secret" an attacker would take from the public key set. Then
``iss``, ``aud`` (with ``azp`` when there are several audiences), ``exp`` and ``iat`` (a small skew), and the
``nonce`` the login sent. Needs ``loopauth[oidc]``; :func:`loopauth.oidc.require_extra` says so before a login.
"""

from __future__ import annotations

import hmac
import json
from typing import Any

import jwt

from ..errors import ProviderError
from ..http import Client, Request
from ..text import one_line
from ..urls import where
from .claims import SKEW

ALGORITHMS = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA")
"""The signatures an ID token may have: public-key ones only (RS256 is the default, Core §15.1)."""
_KEY_TYPES = {"RS": "RSA", "PS": "RSA", "ES": "EC", "Ed": "OKP"}


class KeySet:
    """The issuer's signing keys (a JWK Set), fetched when first needed and at most once more."""

    def __init__(self, url: str, client: Client, *, timeout: float) -> None:
        self.url = url
        self.client = client
        self.timeout = timeout
        self._keys: list[dict[str, Any]] | None = None
        self._fetches = 0

    def _fetch(self) -> list[dict[str, Any]]:
        self._fetches += 1
        response = self.client.send(Request("GET", self.url, {"Accept": "application/json"}), timeout=self.timeout)
        if not response.ok:
            raise ProviderError(
                f"cannot check the ID token: {where(self.url)} answered {response.status}", status=response.status
            )
        try:
            data: Any = json.loads(response.text())
        except ValueError:
            data = None
        keys = data.get("keys") if isinstance(data, dict) else None
        if not isinstance(keys, list):
            raise ProviderError(f"cannot check the ID token: {where(self.url)} is not a JSON Web Key Set")
        self._keys = [key for key in keys if isinstance(key, dict)]
        return self._keys

    def key_for(self, alg: str, kid: str | None) -> jwt.PyJWK:
        """The key that signed with ``alg`` and names itself ``kid``; ProviderError when there is none."""
        keys = self._keys if self._keys is not None else self._fetch()
        found = _pick(keys, alg, kid)
        if found is None and self._fetches < 2:
            found = _pick(self._fetch(), alg, kid)  # a key newer than our copy: the provider rotated
        if found is None:
            named = f"key {one_line(kid, 80)!r}" if kid is not None else "a key"
            raise ProviderError(f"the ID token is signed with {named} that {where(self.url)} does not publish")
        try:
            return jwt.PyJWK(found, algorithm=alg)
        except jwt.PyJWTError as exc:
            raise ProviderError(f"cannot check the ID token: its key is unusable ({one_line(str(exc), 120)})") from None


def _pick(keys: list[dict[str, Any]], alg: str, kid: str | None) -> dict[str, Any] | None:
    """The one key for ``alg`` (its type, not for encryption, its own ``alg`` if it says) named ``kid``."""
    kty = _KEY_TYPES[alg[:2]]
    fitting = [
        key for key in keys if key.get("kty") == kty and key.get("use", "sig") == "sig" and key.get("alg", alg) == alg
    ]
    if kid is not None:
        fitting = [key for key in fitting if key.get("kid") == kid]
    return fitting[0] if len(fitting) == 1 else None


def verify(
    token: str,
    *,
    keys: KeySet,
    issuer: str,
    client_id: str,
    nonce: str | None,
) -> dict[str, Any]:
    """The claims of ``token`` once every check of Core §3.1.3.7 has passed; ProviderError naming the first that
    failed (never quoting the token)."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise ProviderError("the ID token is not a signed JWT") from None
    alg = header.get("alg")
    if alg not in ALGORITHMS:
        shown = one_line(alg, 20) if isinstance(alg, str) else "none given"
        raise ProviderError(
            f"the ID token is signed with {shown!r}; loopauth accepts only {', '.join(ALGORITHMS)} (never none or HMAC)"
        )
    kid = header.get("kid")
    key = keys.key_for(alg, kid if isinstance(kid, str) else None)
    try:
        claims: dict[str, Any] = jwt.decode(
            token,
            key.key,
            algorithms=[alg],
            audience=client_id,
            # iss is compared below: an issuer template (Entra ID) is filled from the token's tid first.
            options={"require": ["iss", "sub", "aud", "exp", "iat"], "verify_iss": False},
            leeway=SKEW,
        )
    except jwt.PyJWTError as exc:
        raise ProviderError(f"the ID token is not valid: {one_line(str(exc), 160)}") from None
    expected = issuer
    if "{tenantid}" in issuer and isinstance(claims.get("tid"), str):
        # Entra ID's multi-tenant metadata names a template; each token's tid fills it (its iss then says it too).
        expected = issuer.replace("{tenantid}", claims["tid"])
    if claims.get("iss") != expected:
        raise ProviderError(
            f"the ID token is not valid: it was issued by {one_line(str(claims.get('iss')), 120)}, not {expected}"
        )
    audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    azp = claims.get("azp")
    if (len(audiences) > 1 or azp is not None) and azp != client_id:
        raise ProviderError("the ID token is not valid: its azp is not this client, among several audiences")
    if nonce is not None:
        got = claims.get("nonce")
        if not isinstance(got, str) or not hmac.compare_digest(got.encode(), nonce.encode()):
            raise ProviderError("the ID token is not valid: its nonce is not the one this login sent")
    return claims
