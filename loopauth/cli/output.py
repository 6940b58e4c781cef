"""Printing for people and for programs: JSON, aligned tables, the login summary."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..models import AnyCredentials
from ..store import CredentialStore
from ..text import account_with_id, clean
from .token import json_text


def print_json(data: Any) -> None:
    print(json_text(data))


def print_table(rows: Sequence[Sequence[str]]) -> None:
    """Left-aligned columns, two spaces apart, the first row as the header."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())


def login_summary(creds: AnyCredentials, store: CredentialStore) -> str:
    return (
        f"Logged in to {clean(creds.provider)} as {account_with_id(creds.screen_name, creds.user_id)}; "
        f"saved as profile '{creds.profile}' in {_where(creds, store)}"
    )


def _where(creds: AnyCredentials, store: CredentialStore) -> str:
    from ..errors import LoopAuthError
    from ..store import FILE

    try:
        where = store.where(creds.profile)
    except LoopAuthError:
        return str(store.path_for(creds.profile))
    return str(where.path) if where.kind == FILE else where.describe()
