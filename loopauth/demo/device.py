"""The device authorization grant (RFC 8628) on the OAuth 2.0 demo provider, for ``loopauth demo --oauth2 --device``.

The device authorization endpoint hands out a device code and a user code; the verification page (where a person,
or the demo's scripted user, enters the code) approves or denies; the token endpoint answers the device's polls
with ``authorization_pending``, ``slow_down`` (polled faster than the interval), ``access_denied``,
``expired_token``, or tokens. The tokens are the demo's own: an approval stores an authorization code for the
signed-in user, which the first poll after it exchanges (with a PKCE verifier only the demo knows) at the demo's
token endpoint, so they refresh, rotate and revoke like a browser login's.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from html import escape
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from .pages import render

DEVICE_CODE_PATH = "/2/oauth2/device/code"
VERIFY_PATH = "/2/oauth2/device"
GRANT_TYPE = "urn:ietf:params:oauth:grant-type:device_code"
INTERVAL = 1
"""Seconds between polls the demo asks for: short, so the demo is quick."""
LIFETIME = 300
# The redirect_uri of the codes an approval stores: a device login has none, and the exchange repeats this one.
_NO_REDIRECT = "urn:ietf:params:oauth:grant-type:device_code"


@dataclass
class _Pending:
    client_id: str
    scopes: list[str]
    user_code: str
    expires_at: float
    decision: str | None = None  # "approve" or "deny"
    last_poll: float = 0.0
    code: str | None = field(default=None, repr=False)
    verifier: str | None = field(default=None, repr=False)


def _json_error(error: str, description: str, status: int = 400) -> web.Response:
    return web.json_response(
        {"error": error, "error_description": description}, status=status, headers={"Cache-Control": "no-store"}
    )


class DemoDeviceFlow:
    """The device grant's three endpoints; the provider it serves supplies who may use it and how codes become
    tokens (``save_code``: store an authorization code; ``exchange``: answer a token request for a form body)."""

    def __init__(
        self,
        *,
        base_url: Callable[[], str],
        known_client: Callable[[str], bool],
        supported_scopes: Collection[str],
        user: object,
        save_code: Callable[[str, str, Any], None],
        exchange: Callable[[list[tuple[str, str]], dict[str, str]], web.Response],
    ) -> None:
        self.base_url = base_url
        self.known_client = known_client
        self.supported_scopes = supported_scopes
        self.user = user
        self.save_code = save_code
        self.exchange = exchange
        self.pending: dict[str, _Pending] = {}

    def routes(self, app: web.Application) -> None:
        app.router.add_post(DEVICE_CODE_PATH, self._device_code)
        app.router.add_get(VERIFY_PATH, self._verify_page)
        app.router.add_post(VERIFY_PATH, self._verify_decision)

    @property
    def device_authorization_url(self) -> str:
        return self.base_url() + DEVICE_CODE_PATH

    async def _device_code(self, request: web.Request) -> web.Response:
        form = await request.post()
        client_id = str(form.get("client_id") or "")
        if not client_id:
            # A confidential client may authenticate with Basic instead (RFC 6749 §2.3.1).
            auth = request.headers.get("Authorization", "")
            if auth.lower().startswith("basic "):
                decoded = base64.b64decode(auth[6:].strip() + "==").decode("utf-8", "replace")
                client_id = decoded.partition(":")[0]
        if not self.known_client(client_id):
            return _json_error("invalid_client", "unknown client", 401)
        scopes = str(form.get("scope") or "").split()
        if not scopes or not set(scopes) <= set(self.supported_scopes):
            return _json_error("invalid_scope", "ask for some of: " + " ".join(sorted(self.supported_scopes)))
        device_code = secrets.token_urlsafe(32)
        letters = "BCDFGHJKLMNPQRSTVWXZ"  # no vowels: no words, and nothing to misread (RFC 8628 §6.1)
        user_code = "".join(secrets.choice(letters) for _ in range(8))
        user_code = f"{user_code[:4]}-{user_code[4:]}"
        self.pending[device_code] = _Pending(client_id, scopes, user_code, time.monotonic() + LIFETIME)
        verify = self.base_url() + VERIFY_PATH
        return web.json_response(
            {
                "device_code": device_code,
                "user_code": user_code,
                "verification_uri": verify,
                "verification_uri_complete": f"{verify}?{urlencode({'user_code': user_code})}",
                "expires_in": LIFETIME,
                "interval": INTERVAL,
            },
            headers={"Cache-Control": "no-store"},
        )

    def _by_user_code(self, user_code: str) -> _Pending | None:
        wanted = user_code.strip().upper().replace(" ", "")
        return next(
            (p for p in self.pending.values() if hmac.compare_digest(p.user_code, wanted) and p.decision is None),
            None,
        )

    async def _verify_page(self, request: web.Request) -> web.Response:
        user_code = request.query.get("user_code", "")
        pending = self._by_user_code(user_code) if user_code else None
        scopes = "".join(f"<li><code>{escape(s)}</code></li>" for s in (pending.scopes if pending else []))
        if pending is not None:
            # The code came in the link (verification_uri_complete): show it, for the person to compare.
            code = (
                f"<p>Code: <strong>{escape(pending.user_code)}</strong></p>"
                f'<input type="hidden" name="user_code" value="{escape(pending.user_code, quote=True)}">'
            )
        else:
            code = '<p><label>Code shown on your device: <input name="user_code"></label></p>'
        form = (
            f'<form method="post" action="{VERIFY_PATH}">{code}'
            + (f"<p>The device asks for these scopes:</p><ul>{scopes}</ul>" if scopes else "")
            + '<button type="submit" name="action" value="approve" class="primary">Authorize device</button>'
            '<button type="submit" name="action" value="deny">Deny</button></form>'
        )
        page = render("info", "Connect a device", "Check that the code matches the one on your device.", body_html=form)
        return web.Response(status=200, text=page, content_type="text/html")

    async def _verify_decision(self, request: web.Request) -> web.Response:
        form = await request.post()
        action = form.get("action")
        pending = self._by_user_code(str(form.get("user_code") or ""))
        if pending is None or time.monotonic() >= pending.expires_at or action not in ("approve", "deny"):
            page = render("error", "Unknown code", "That code is not waiting for a decision (or it has expired).")
            return web.Response(status=400, text=page, content_type="text/html")
        pending.decision = str(action)
        if action == "approve":
            pending.code = secrets.token_urlsafe(32)
            pending.verifier = secrets.token_urlsafe(48)
            digest = hashlib.sha256(pending.verifier.encode("ascii")).digest()
            challenge = base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
            stored = SimpleNamespace(
                redirect_uri=_NO_REDIRECT, scopes=pending.scopes, code_challenge=challenge, user=self.user
            )
            self.save_code(pending.client_id, pending.code, stored)
            title, text = "Device connected", "You can go back to your device: it is logging in."
        else:
            title, text = "Access denied", "The device was not given access. You can close this page."
        return web.Response(status=200, text=render("info", title, text), content_type="text/html")

    def token(self, form: list[tuple[str, str]], headers: dict[str, str]) -> web.Response:
        """The token endpoint's answer to a device-code poll (§3.4, §3.5)."""
        fields = dict(form)
        pending = self.pending.get(fields.get("device_code", ""))
        if pending is None:
            return _json_error("invalid_grant", "unknown device code")
        now = time.monotonic()
        if now >= pending.expires_at:
            del self.pending[fields["device_code"]]
            return _json_error("expired_token", "the device code has expired")
        if pending.decision == "deny":
            del self.pending[fields["device_code"]]
            return _json_error("access_denied", "the user denied the request")
        too_soon = now - pending.last_poll < INTERVAL * 0.8
        pending.last_poll = now
        if pending.decision is None:
            if too_soon:
                return _json_error("slow_down", "poll at most once per interval")
            return _json_error("authorization_pending", "the user has not entered the code yet")
        assert pending.code is not None
        assert pending.verifier is not None
        del self.pending[fields["device_code"]]  # one exchange per approval
        exchange = [
            ("grant_type", "authorization_code"),
            ("code", pending.code),
            ("redirect_uri", _NO_REDIRECT),
            ("code_verifier", pending.verifier),
            *[(k, v) for k, v in form if k in ("client_id", "client_secret")],
        ]
        return self.exchange(exchange, headers)
