"""Where a profile's secrets live: its file (the *file* store) or the OS keyring (the *keyring* store), behind one
:class:`Backend` interface, so that the store's reads, saves, moves and deletes never ask which one it is.

A profile's file records its store (``"store"``; none means the file store, as in older files). The file
backend keeps the whole profile in it; the keyring backend (:mod:`.keyring`) keeps the secrets in one
keyring entry that the file names, and is imported only for a profile that uses it.

Reading a profile file (bytes to a JSON object to credentials) is here too. Every error says what is wrong
with the file without quoting it: a profile holds secrets.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from pathlib import Path

from ..errors import NotLoggedIn, StoreError
from ..models import AnyCredentials, credentials_from_dict
from .trusted import write_atomic

TYPE_CHECKING = False  # not typing's: see loopauth.models
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, ClassVar, TypeVar

    T = TypeVar("T")

FILE = "file"
"""The store that keeps a whole profile in its file (the default)."""
KEYRING = "keyring"
"""The store that keeps a profile's secrets in the OS keyring and the rest in its file."""
STORES = (FILE, KEYRING)


class Backend(ABC):
    """One store's side of one profile (its file at ``path``): reading, writing and forgetting its secrets.

    The store holds the profile's lock around every write; a backend only does its part.
    """

    kind: ClassVar[str]
    """``"file"`` or ``"keyring"``: what a profile's file records as its ``"store"``."""

    def __init__(self, path: Path, profile: str) -> None:
        self.path = path
        self.profile = profile

    @abstractmethod
    def entry_of(self, data: dict[str, Any]) -> str | None:
        """The keyring entry a profile file of this store names (None: its secrets are in the file); StoreError
        when the file names none it could be."""

    @abstractmethod
    def whole(self, data: dict[str, Any], entry: str | None, *, final: bool) -> dict[str, Any] | None:
        """The profile's whole object, secrets included, from its file's ``data``: None when the secrets are not
        where the file says (a save may be replacing them: read again under the lock), StoreError if ``final``."""

    @abstractmethod
    def listed(self, data: dict[str, Any]) -> tuple[AnyCredentials | None, AnyCredentials]:
        """From the file alone, unlocking nothing: the credentials when the file holds them all, and what to show
        (``list``, ``status``; never to sign with)."""

    @abstractmethod
    def put(self, directory: int, data: dict[str, Any], *, verify: bool = False) -> str | None:
        """Write the profile's whole object (``directory`` is ``profiles/``, the file is replaced atomically); the
        name of the new keyring entry, if any. ``verify`` reads the secrets back before the file names them."""

    @abstractmethod
    def describe(self, entry: str | None) -> str:
        """Where the profile is, for people: ``a plaintext file (mode 0600), /…/work.json`` or the keyring's entry."""

    @abstractmethod
    def check(self) -> None:
        """Fail now, before a browser opens, if a profile could not be stored here; writes nothing."""

    @abstractmethod
    def open(self) -> None:
        """Make sure this profile's store can be used before anything is written (a move); writes nothing."""

    @abstractmethod
    def delete(self, entry: str | None) -> None:
        """Forget the secrets the file names, before the file itself goes: StoreError when they cannot be."""

    @abstractmethod
    def discard(self, entry: str | None) -> None:
        """Forget secrets nothing reads any more, as far as possible (errors are ignored)."""


class FileBackend(Backend):
    """The whole profile in its file, 0600."""

    kind = FILE

    def entry_of(self, data: dict[str, Any]) -> None:
        return None

    def whole(self, data: dict[str, Any], entry: str | None, *, final: bool) -> dict[str, Any]:
        return data

    def listed(self, data: dict[str, Any]) -> tuple[AnyCredentials, AnyCredentials]:
        creds = whole_credentials(self.path, data, self.profile)
        return creds, creds

    def put(self, directory: int, data: dict[str, Any], *, verify: bool = False) -> None:
        write_atomic(directory, self.path, dump(data))

    def describe(self, entry: str | None) -> str:
        return f"a plaintext file (mode 0600), {self.path}"

    # The secrets are in the file: nothing to check or open, and nothing elsewhere to forget.
    def check(self) -> None:
        return

    def open(self) -> None:
        return

    def delete(self, entry: str | None) -> None:
        return

    def discard(self, entry: str | None) -> None:
        return


# -- a profile file's object ---------------------------------------------------------------------------------


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
