"""The demo provider's fixed names, apart from its server so the CLI can recognise a demo profile cheaply."""

from __future__ import annotations

# Public on purpose: the demo app's credentials are printed by ``loopauth demo``.
DEMO_CONSUMER_KEY = "loopauth-demo-consumer-key"
DEMO_CONSUMER_SECRET = "loopauth-demo-consumer-secret-not-secret"
DEMO_USER_ID = "1234567890"
DEMO_SCREEN_NAME = "loopauth_demo"
DEMO_APP_NAME = "loopauth demo app"

# The OAuth 2.0 demo's public client (printed by ``loopauth demo --oauth2``), known here so the CLI can tell its
# profiles apart without importing the provider.
DEMO_OAUTH2_PUBLIC_CLIENT_ID = "loopauth-demo-public-client"
ACCESS_TOKEN_LIFETIME = 7200
"""The OAuth 2.0 demo's access tokens last X's two hours, unless told otherwise."""
