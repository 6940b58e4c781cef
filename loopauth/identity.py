"""Who a verify endpoint's answer names: the account's name and id, wherever the provider put them. Pure."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .text import clean

# Where providers put the account's name and id, most specific first: Twitter (screen_name, id_str), X's
# API v2 and GitLab (data.username / username, id), OpenID Connect userinfo (preferred_username, sub), GitHub
# (login), SmugMug (NickName), Google (email, sub),
# Tumblr (response.user.name), Spotify (display_name).
NAME_KEYS = ("screen_name", "username", "preferred_username", "login", "NickName", "email", "name", "display_name")
ID_KEYS = ("id_str", "user_id", "id", "sub")
_SEARCH_DEPTH = 4


def account_of(data: Any) -> tuple[str | None, str | None]:
    """(name, id) from a parsed verify answer, cleaned of control characters; None where it names none."""
    return find(data, NAME_KEYS), find(data, ID_KEYS)


def find(data: Any, keys: Sequence[str]) -> str | None:
    """The shallowest value under one of ``keys`` (earlier keys first), searching nested objects."""
    for key in keys:
        level = [data]
        for _ in range(_SEARCH_DEPTH):
            children: list[Any] = []
            for node in level:
                if not isinstance(node, dict):
                    continue
                value = node.get(key)
                if isinstance(value, dict):
                    value = value.get("_content")  # Flickr wraps strings: {"username": {"_content": "…"}}
                if isinstance(value, str | int) and not isinstance(value, bool) and str(value):
                    return clean(str(value))
                children.extend(v for v in node.values() if isinstance(v, dict))
            level = children
    return None
