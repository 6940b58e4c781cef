"""The protocols a stored login may speak, and the one function that picks a login's :class:`~loopauth.access.Access`.

Apart from the interface (:mod:`loopauth.access`) and its implementations, so that they do not import each
other; each implementation is imported only for a login of its protocol.
"""

from __future__ import annotations

from .access import Access
from .models import AnyCredentials, OAuth2Credentials


def access_for(credentials: AnyCredentials) -> Access:
    """The :class:`Access` of ``credentials``' protocol: the one place that chooses by protocol after a login."""
    if isinstance(credentials, OAuth2Credentials):
        from .oauth2.access import OAuth2Access

        return OAuth2Access(credentials)
    from .oauth1.access import OAuth1Access

    return OAuth1Access(credentials)


def every_env_field() -> tuple[str, ...]:
    """The fields ``token --env`` and ``exec`` may hand a tool, for any protocol, each once and in order."""
    from .oauth1.access import ENV_FIELDS as OAUTH1
    from .oauth2.access import ENV_FIELDS as OAUTH2

    return tuple(dict.fromkeys(OAUTH1 + OAUTH2))
