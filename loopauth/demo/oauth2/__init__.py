"""The embedded OAuth 2.0 demo provider: authorization code + PKCE on loopback, shaped like X's.

``loopauth demo --oauth2`` logs into it and the OAuth 2.0 tests use it as their provider, so it is
strict where X is strict and where the RFCs say a server MUST or SHOULD, to catch client mistakes
before a real provider does:

- PKCE is required and only ``S256`` is accepted (RFC 7636, RFC 8252 §8.1, RFC 9700 §2.1.1);
  ``state`` comes back unchanged, and a denial redirects with ``error=access_denied`` (RFC 6749 §4.1.2.1).
- A registered loopback redirect URI without a port (``http://127.0.0.1/callback``) matches any port
  (RFC 8252 §7.3); every other registered URI, including a loopback one with a port (X's rule), must
  match exactly. The token request must repeat the authorization request's ``redirect_uri`` exactly.
- Codes are single-use and short-lived; replaying one kills what it was exchanged for (RFC 6749 §4.1.2).
- Confidential clients authenticate with HTTP Basic, id and secret form-url-encoded before base64
  (RFC 6749 §2.3.1), or with ``client_secret_post``; public clients send only ``client_id``.
- Refresh tokens come only with ``offline.access`` (as on X) and rotate: each refresh returns a new one,
  and presenting a rotated one again revokes the whole family, access tokens included (RFC 9700 §4.14.2).

The protocol work is oauthlib's OAuth 2.0 server (its grant types and endpoints); this package supplies
what it stands on, split as the OAuth 1.0a demo is:

- :mod:`.validator`: the in-memory state behind oauthlib's ``RequestValidator``, and the hooks for X's rules;
- :mod:`.server`: :class:`DemoOAuth2Provider`, its endpoints and the aiohttp glue;
- :mod:`.pages`: the consent page, the error pages and the JSON errors.

Nothing here logs a token: the aiohttp access log is off (the callback redirect carries the code), and
oauthlib's server modules, which log codes and tokens at DEBUG, are held to warnings once a provider starts.
"""

from __future__ import annotations

from ..constants import ACCESS_TOKEN_LIFETIME, DEMO_OAUTH2_PUBLIC_CLIENT_ID
from .server import DemoOAuth2Provider, OAuth2Endpoints
from .validator import (
    CODE_LIFETIME,
    DEFAULT_REDIRECT_URIS,
    DEMO_OAUTH2_CONFIDENTIAL_CLIENT_ID,
    DEMO_OAUTH2_CONFIDENTIAL_CLIENT_SECRET,
    DEMO_OAUTH2_NAME,
    SUPPORTED_SCOPES,
    USERS_ME_SCOPES,
    redirect_uri_matches,
)

__all__ = [
    "ACCESS_TOKEN_LIFETIME",
    "CODE_LIFETIME",
    "DEFAULT_REDIRECT_URIS",
    "DEMO_OAUTH2_CONFIDENTIAL_CLIENT_ID",
    "DEMO_OAUTH2_CONFIDENTIAL_CLIENT_SECRET",
    "DEMO_OAUTH2_NAME",
    "DEMO_OAUTH2_PUBLIC_CLIENT_ID",
    "SUPPORTED_SCOPES",
    "USERS_ME_SCOPES",
    "DemoOAuth2Provider",
    "OAuth2Endpoints",
    "redirect_uri_matches",
]
