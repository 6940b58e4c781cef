"""``loopauth credential kubectl``: a kubectl exec credential plugin (``client.authentication.k8s.io``).

kubectl runs the plugin with ``$KUBERNETES_EXEC_INFO`` (the apiVersion it speaks) and reads one
``ExecCredential`` from stdout; it shows the plugin's stderr to the user and caches the token until
``status.expirationTimestamp``. The token is the profile's ID token when it has one (what the API server's
OIDC authenticator checks), else, or with ``--access-token``, its access token. The plugin never reads stdin
and never prompts: a profile that needs a new login is exit 7 with the command that makes one.
"""

from __future__ import annotations

import json
import os
import time

from ..errors import EXIT_OK, UsageError
from ..fresh import load_fresh
from . import bearer_access

EXEC_INFO = "KUBERNETES_EXEC_INFO"
API_VERSIONS = ("client.authentication.k8s.io/v1", "client.authentication.k8s.io/v1beta1")


def exec_credential(profile: str | None, *, access_token: bool = False) -> int:
    """Print ``profile``'s ExecCredential (the active profile's when None)."""
    api_version = _api_version(os.environ.get(EXEC_INFO))
    access, bearer = bearer_access(load_fresh(profile), "kubectl")
    id_token = None if access_token else access.id_token
    status: dict[str, str] = {"token": id_token or bearer}
    # When loopauth will take the access token for due: kubectl asks again then, so it never sends a token in the
    # margin loopauth keeps before the expiry.
    due_at = access.due_at
    expires = None if due_at is None else int(due_at)
    if id_token:
        expires = min(filter(None, (expires, _jwt_expiry(id_token))), default=None)
    if expires is not None:
        status["expirationTimestamp"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(expires))
    print(json.dumps({"apiVersion": api_version, "kind": "ExecCredential", "status": status}))
    return EXIT_OK


def _api_version(info: str | None) -> str:
    """The apiVersion kubectl asked for in ``$KUBERNETES_EXEC_INFO`` (v1 when it is not set)."""
    if not info:
        return API_VERSIONS[0]
    try:
        data = json.loads(info)
        version = data.get("apiVersion") if isinstance(data, dict) else None
    except ValueError:
        version = None
    if version not in API_VERSIONS:
        raise UsageError(
            f"${EXEC_INFO} asks for an ExecCredential of apiVersion {str(version)[:60]!r}; loopauth speaks "
            f"{' and '.join(API_VERSIONS)} (set apiVersion in the kubeconfig's exec section)"
        )
    return str(version)


def _jwt_expiry(token: str) -> int | None:
    """A JWT's ``exp`` claim, read (not verified: the login verified it, and the API server will) or None."""
    import base64

    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        exp = claims.get("exp") if isinstance(claims, dict) else None
    except (IndexError, ValueError):
        return None
    return int(exp) if isinstance(exp, int | float) and not isinstance(exp, bool) else None
