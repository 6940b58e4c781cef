"""The demo provider's fixed names, apart from its server so the CLI can recognise a demo profile cheaply."""

from __future__ import annotations

# Public on purpose: the demo app's credentials are printed by ``loopauth demo``.
DEMO_CONSUMER_KEY = "loopauth-demo-consumer-key"
DEMO_CONSUMER_SECRET = "loopauth-demo-consumer-secret-not-secret"
DEMO_USER_ID = "1234567890"
DEMO_SCREEN_NAME = "loopauth_demo"
DEMO_APP_NAME = "loopauth demo app"
