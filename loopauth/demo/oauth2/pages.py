"""The OAuth 2.0 demo provider's answers: the pages a person sees (its consent page, its errors) and the JSON
errors programs get.

The browser-facing pages are the only users of :mod:`loopauth.demo.pages` here.
"""

from __future__ import annotations

from collections.abc import Iterable
from html import escape
from urllib.parse import urlencode

from aiohttp import web
from oauthlib.oauth2 import OAuth2Error

from ..constants import DEMO_SCREEN_NAME
from ..pages import SECURITY_HEADERS, render
from .validator import DEMO_APP_NAME, DEMO_OAUTH2_NAME

# The authorization request's own parameters: the authorize page carries exactly these to the decision.
AUTHORIZE_PARAMS = (
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "code_challenge",
    "code_challenge_method",
)


def page(status: int, html_text: str = "", location: str | None = None) -> web.Response:
    """Every response a browser sees: a page, or a redirect (``no-referrer`` keeps the code out of Referer)."""
    headers = {**SECURITY_HEADERS, **({"Location": location} if location is not None else {})}
    return web.Response(status=status, body=html_text.encode(), headers=headers)


def error_page(message: str) -> web.Response:
    html_text = render(
        "error",
        "This authorization request is not valid",
        message,
        next_step="Start the login again from the app.",
    )
    return page(400, html_text)


def authorize_page(query: Iterable[tuple[str, str]], scopes: list[str], action: str) -> web.Response:
    """The consent page: the authorization request in hidden fields, and Authorize / Deny buttons that post it,
    the same form as the OAuth 1.0a demo's, so ``loopauth.demo.play_user`` drives both."""
    hidden = "".join(
        f'<input type="hidden" name="{name}" value="{escape(value, quote=True)}">'
        for name, value in query
        if name in AUTHORIZE_PARAMS
    )
    items = "".join(f"<li><code>{escape(scope)}</code></li>" for scope in scopes)
    form = (
        f"<p>If you authorize it, {escape(DEMO_APP_NAME)} will be able to use these scopes:</p>"
        f"<ul>{items}</ul>"
        f'<form method="post" action="{escape(action, quote=True)}">{hidden}'
        '<button type="submit" name="action" value="approve" class="primary">Authorize app</button>'
        '<button type="submit" name="action" value="deny">Deny</button>'
        "</form>"
        '<p class="muted">Either choice takes you back to the app, which finishes the login.</p>'
    )
    html_text = render(
        "info",
        f"Authorize {DEMO_APP_NAME}?",
        f"{DEMO_APP_NAME} wants to use your account @{DEMO_SCREEN_NAME} on the demo provider.",
        body_html=form,
    )
    return page(200, html_text)


def oauthlib_answer(headers: dict[str, str], body: str | None, status: int) -> web.Response:
    """oauthlib's JSON answer as it made it, except the challenge of a 401: RFC 6749 §5.2 wants the scheme
    the client authenticated with (Basic), where oauthlib offers Bearer's."""
    if status == 401:
        headers = {**headers, "WWW-Authenticate": f'Basic realm="{DEMO_OAUTH2_NAME}"'}
    return web.Response(status=status, text=body or "", headers=headers)


def oauth_error(error: OAuth2Error) -> web.Response:
    """RFC 6749 §5.2's JSON error for what oauthlib raised instead of answering."""
    headers = {"Content-Type": "application/json", "Cache-Control": "no-store", "Pragma": "no-cache"}
    return oauthlib_answer(headers, error.json, error.status_code)


def bearer_refusal(status: int, error: str | None) -> web.Response:
    """X's problem-details body, with RFC 6750 §3's challenge (no error code when no token came)."""
    title = "Unauthorized" if status == 401 else "Forbidden"
    challenge = f'Bearer realm="{DEMO_OAUTH2_NAME}"' + (f', error="{error}"' if error else "")
    return web.json_response(
        {"title": title, "type": "about:blank", "status": status, "detail": title},
        status=status,
        headers={"WWW-Authenticate": challenge},
    )


def form_text(pairs: Iterable[tuple[str, str]]) -> str:
    # Re-encoded from aiohttp's lenient parse: oauthlib refuses raw characters a browser may leave in
    # (the brackets of http://[::1]:port/), and the values it decodes are exactly the ones sent.
    return urlencode(list(pairs))
