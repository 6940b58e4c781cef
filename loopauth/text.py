"""What a provider says, made safe to show: one printable line, no terminal escapes. Pure, stdlib only.

Anything that came from a provider (an error body, a screen name, a verify answer) passes through
here before it reaches a terminal or a page: a control character there could move the cursor,
retitle the window or write the clipboard (OSC 52).
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import parse_qsl

_TAG = re.compile(r"<[^>]+>")
_SPACE = re.compile(r"\s+")
# C0 and C1 controls, DEL, and the bidirectional overrides that can make text read differently than it is.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
MAX_MESSAGE = 200
MAX_JSON_DEPTH = 64
"""Deeper JSON from a provider is refused: real answers nest a few levels, and walking 100,000 raises RecursionError."""
_B64TOKEN = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~+/")


def clean(value: str) -> str:
    """``value`` without control characters (each becomes a space), for a terminal or a page."""
    return _CONTROL.sub(" ", value)


def has_control(value: str) -> bool:
    """Whether ``value`` holds anything :func:`clean` would replace."""
    return _CONTROL.search(value) is not None


def clean_words(value: str) -> str:
    """A space-separated list (a scope) without control characters: each becomes a space, runs of them one."""
    return " ".join(clean(value).split())


def is_b64token(value: str) -> bool:
    """Whether ``value`` is an RFC 6750 §2.1 ``b64token``, all an OAuth 2.0 bearer header can carry:
    ``1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="``."""
    body = value.rstrip("=")
    return bool(body) and all(char in _B64TOKEN for char in body)


def is_printable_token(value: str) -> bool:
    """Whether ``value`` is printable ASCII without spaces: what an OAuth 1.0a token (the Authorization header
    carries it) or an OAuth 2.0 refresh token (RFC 6749 Appendix A.17, less the space) may hold."""
    return bool(value) and all("!" <= char <= "~" for char in value)


def parse_json(text: str) -> Any:
    """A provider's JSON, or ValueError: also for NaN and Infinity (not JSON) and for nesting deeper than
    MAX_JSON_DEPTH (which would otherwise end in RecursionError here or in whatever walks it)."""
    try:
        data = json.loads(text, parse_constant=_not_json)
    except RecursionError:
        raise ValueError("the JSON is nested too deeply") from None
    level = [data]
    for _ in range(MAX_JSON_DEPTH):
        level = [
            child
            for node in level
            if isinstance(node, dict | list)
            for child in (node.values() if isinstance(node, dict) else node)
            if isinstance(child, dict | list)
        ]
        if not level:
            return data
    raise ValueError("the JSON is nested too deeply")


def _not_json(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def one_line(message: str, limit: int = MAX_MESSAGE) -> str:
    """``message`` as one short printable line."""
    message = _SPACE.sub(" ", clean(message)).strip()
    if len(message) > limit:
        message = message[: limit - 1] + "…"
    return message


def provider_message(content_type: str, text: str) -> str:
    """The provider's own words from an error body, as one short printable line.

    Understands Twitter's JSON (``{"errors":[{"code":32,"message":...}]}``), OAuth 2.0's
    ``{"error": ..., "error_description": ...}``, form-encoded ``oauth_problem``, XML and HTML.
    """
    text = text.strip()
    message = ""
    if text.startswith(("{", "[")):
        message = _json_message(text)
    if not message and "oauth_problem=" in text and "<" not in text:
        fields = dict(parse_qsl(text, keep_blank_values=True))
        message = " ".join(f"{k}={v}" for k, v in fields.items() if k.startswith("oauth_problem"))
    if not message and "<" in text:
        title = re.search(r"<(?:title|h1|error|message)[^>]*>(.*?)</", text, re.IGNORECASE | re.DOTALL)
        import html  # an HTML error page only: every command that can meet one loads this module

        message = html.unescape(_TAG.sub(" ", title.group(1) if title else text))
    if not message:
        message = text or "(empty body)"
    return one_line(message)


def _json_message(text: str) -> str:
    try:
        data: Any = parse_json(text)
    except ValueError:
        return ""
    if isinstance(data, dict):
        errors = data.get("errors")
        if isinstance(errors, list) and errors:
            parts = []
            for err in errors:
                if isinstance(err, dict):
                    msg = str(err.get("message", "")).strip()
                    parts.append(f"{msg} (code {err['code']})" if "code" in err else msg)
            return "; ".join(p for p in parts if p)
        error, description = data.get("error"), data.get("error_description")
        if isinstance(error, str) and isinstance(description, str) and description:
            return f"{error}: {description}"
        for key in ("error_description", "message", "error", "detail", "title"):
            if isinstance(data.get(key), str | int):
                return str(data[key])
    return ""


def account_name(screen_name: str | None, user_id: str | None) -> str:
    """``@name``, ``user 123`` or ``your account``: how every message names an account.

    Only a handle gets its ``@``: an email address or a display name (OpenID Connect's ``email``, ``name``) is
    shown as it is."""
    if screen_name:
        name = clean(screen_name)
        return name if "@" in name or " " in name.strip() else f"@{name}"
    if user_id:
        return f"user {clean(user_id)}"
    return "your account"


def account_with_id(screen_name: str | None, user_id: str | None) -> str:
    """``@name (user id 123)`` when both are known, else :func:`account_name`."""
    uid = f" (user id {clean(user_id)})" if screen_name and user_id else ""
    return account_name(screen_name, user_id) + uid
