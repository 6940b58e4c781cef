"""Which store a login uses: ``--store``, ``$LOOPAUTH_STORE``, the profile's own, or ``config.toml``'s default.

``<config dir>/config.toml`` holds the user's defaults; today one setting::

    store = "keyring"     # or "file" (the default): where new logins keep their secrets

Read only when a store must be chosen (a login, ``CredentialStore.save()`` of a new profile), never on the
path ``loopauth token`` takes. It is trusted as ``providers.toml`` is (see :mod:`loopauth.store.trusted`), and a
malformed file or an unknown setting is a UsageError naming the file and line.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import NamedTuple

from ..errors import UsageError
from .backends import FILE, STORES
from .trusted import read_trusted_file

ENV_STORE = "LOOPAUTH_STORE"
CONFIG_FILE = "config.toml"
_SETTINGS = ("store",)


class Choice(NamedTuple):
    """A store, and what chose it: None when it was asked for (``--store``, ``storage=``), else
    ``$LOOPAUTH_STORE``, the profile's own store, config.toml's path, or the default."""

    kind: str
    source: str | None


def check_store(value: object, where: str, *, argument: str | None = None) -> str:
    """``value`` if it names a store, else a UsageError that says where it came from."""
    if value not in STORES:
        raise UsageError(f"{where} must be {' or '.join(STORES)}, got {str(value)[:40]!r}", argument=argument)
    assert isinstance(value, str)
    return value


def choose(explicit: str | None, existing: str | None, config_dir: Path) -> Choice:
    """The store for a login: ``explicit`` (``--store``, ``storage=``), else ``$LOOPAUTH_STORE``, else the store of
    the profile it replaces (``existing``: the choice sticks), else config.toml's ``store``, else the file."""
    if explicit is not None:
        return Choice(check_store(explicit, "{arg}", argument="storage"), None)
    from_env = _from_env()
    if from_env is not None:
        return from_env
    if existing is not None:
        return Choice(existing, "the profile's own store")
    return configured(config_dir)


def configured(config_dir: Path) -> Choice:
    """The default for new profiles: ``$LOOPAUTH_STORE``, else config.toml's ``store``, else the file store."""
    from_env = _from_env()
    if from_env is not None:
        return from_env
    path = config_dir / CONFIG_FILE
    data, lines = _read(path)
    if "store" not in data:
        return Choice(FILE, "the default")
    return Choice(check_store(data["store"], f"{path}:{_line_of(lines, 'store')}: store"), str(path))


def _from_env() -> Choice | None:
    value = os.environ.get(ENV_STORE)
    if not value:
        return None
    return Choice(check_store(value, f"${ENV_STORE}"), f"${ENV_STORE}")


def _read(path: Path) -> tuple[dict[str, object], list[str]]:
    """config.toml's settings and lines; nothing when there is no such file."""
    import tomllib

    try:
        # Trusted as a profile is: another user's config.toml must not choose where a login's secrets go.
        raw = read_trusted_file(path, "config file")
    except (FileNotFoundError, NotADirectoryError):
        return {}, []  # no config dir at all is reported by the step that would create it
    except OSError as exc:
        raise UsageError(f"{path}: cannot read: {exc.strerror or exc}") from exc
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise UsageError(f"{path}: not UTF-8 text") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{path}: malformed TOML: {exc}") from None
    lines = text.splitlines()
    unknown = sorted(set(data) - set(_SETTINGS))
    if unknown:
        raise UsageError(
            f"{path}:{_line_of(lines, unknown[0])}: unknown setting {unknown[0]!r} (known: {', '.join(_SETTINGS)})"
        )
    return data, lines


def _line_of(lines: list[str], key: str) -> int:
    """The line where ``key =`` is set (tomllib reports no positions), else 1."""
    pattern = re.compile(rf"""^\s*(?:{re.escape(key)}|"{re.escape(key)}"|'{re.escape(key)}')\s*=""")
    return next((n for n, line in enumerate(lines, start=1) if pattern.match(line)), 1)
