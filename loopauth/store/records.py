"""A profile file's bytes as a JSON object, and its object as credentials: what the store reads and writes.

Every error says what is wrong with the file without quoting it: a profile holds secrets.
"""

from __future__ import annotations

import json
from pathlib import Path

from ..errors import NotLoggedIn, StoreError
from ..models import AnyCredentials, credentials_from_dict

TYPE_CHECKING = False  # not typing's: see loopauth.models
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, TypeVar

    T = TypeVar("T")


def dump(data: dict[str, Any]) -> bytes:
    return (json.dumps(data, indent=2, sort_keys=True) + "\n").encode("utf-8")


def parse(path: Path, raw: bytes) -> dict[str, Any]:
    """The JSON object in a profile file's bytes, or StoreError saying (without quoting it) what is wrong."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        # Not str(exc): it quotes the offending byte, which may be part of a secret.
        raise corrupt(path, "not UTF-8 text") from None
    if not text.strip():
        raise corrupt(path, "the file is empty")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        # exc.msg/lineno/colno describe where, never what, so nothing from the file is quoted.
        # Some of json's messages end in "at" already ("Unterminated string starting at").
        at = "" if exc.msg.endswith(" at") else " at"
        raise corrupt(path, f"not valid JSON ({exc.msg}{at} line {exc.lineno}, column {exc.colno})") from None
    except RecursionError:
        raise corrupt(path, "not valid JSON (nested too deeply)") from None
    if not isinstance(data, dict):
        raise corrupt(path, "not a JSON object")
    return data


def whole_credentials(path: Path, data: dict[str, Any], profile: str) -> AnyCredentials:
    """Credentials from a profile's whole object, as *profile* (the file's name, which a later save writes)."""
    creds = checked(path, credentials_from_dict, data)
    # A file copied or renamed by hand must not send a later save to another profile's file.
    return creds if creds.profile == profile else creds.replace(profile=profile)


def checked(path: Path, read: Callable[[dict[str, Any]], T], data: dict[str, Any]) -> T:
    """``read(data)``, its errors as a StoreError about ``path`` that names a field, never a value."""
    try:
        return read(data)
    except ValueError as exc:
        # The models' from_dict ValueError names the field, never its value.
        raise corrupt(path, str(exc)) from None
    except KeyError as exc:
        raise corrupt(path, f"missing field {exc.args[0]!r}" if exc.args else "a field is missing") from None
    except TypeError:
        raise corrupt(path, "a field has the wrong type") from None


def not_logged_in(profile: str) -> NotLoggedIn:
    return NotLoggedIn(f"not logged in: no profile '{profile}'", profile=profile)


def corrupt(path: Path, reason: str) -> StoreError:
    return StoreError(
        f"credential file {path} is corrupt or unreadable: {reason}; log in again to replace it", path=path
    )
