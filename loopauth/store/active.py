"""Which profile, and where: the config directory, the names a profile may have, and the active profile.

The active profile is the one a command uses when none is named: ``$LOOPAUTH_PROFILE``, else the name in
``<config dir>/active`` (0600, replaced atomically under ``.active.lock``; ``loopauth switch`` writes it),
else ``default``.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

from ..errors import StoreError, UsageError
from .lock import locked
from .trusted import ensure_dir, fsync_dir, open_trusted_dir, os_reason, read_at, read_trusted_file, write_atomic

ENV_CONFIG_DIR = "LOOPAUTH_CONFIG_DIR"
# A profile name becomes a file name: no separators, no leading dot (which would
# also let it collide with our hidden lock and temp files), nothing empty.
PROFILE_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


def config_dir() -> Path:
    """``$LOOPAUTH_CONFIG_DIR`` if set and non-empty, else the platform's user config dir."""
    env = os.environ.get(ENV_CONFIG_DIR)
    if env:
        return Path(env).expanduser()
    plain = _plain_xdg_config_dir()
    if plain is not None:
        return plain
    # Imported here so that tools which set the variable (and the tests) never pay for it.
    import platformdirs

    return platformdirs.user_config_path("loopauth")


def _plain_xdg_config_dir() -> Path | None:
    """What ``platformdirs.user_config_path("loopauth")`` answers on Linux, in the plain cases, without it.

    Importing platformdirs loads tempfile, shutil, random, bz2 and lzma: about 30 ms, more than
    the rest of ``loopauth token`` together. An absolute ``$XDG_CONFIG_HOME``, or else an absolute
    ``$HOME``, is all it takes on Linux; anything else (a relative or blank variable, no home,
    another OS) returns None and is left to platformdirs itself. ``tests/test_store.py`` checks
    that both agree for the installed platformdirs.
    """
    if not sys.platform.startswith("linux"):
        return None
    xdg = os.environ.get("XDG_CONFIG_HOME", "")
    if xdg:
        return Path(xdg, "loopauth") if os.path.isabs(xdg) else None
    if not os.path.isabs(os.environ.get("HOME", "")):
        return None
    return Path(os.path.expanduser("~/.config"), "loopauth")


def validate_profile_name(name: str) -> str:
    """Return *name* if it is safe to use as a file name, else raise UsageError."""
    if not isinstance(name, str) or not PROFILE_RE.fullmatch(name):
        raise UsageError(
            f"invalid profile name {name!r}: use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit"
        )
    return name


ENV_PROFILE = "LOOPAUTH_PROFILE"
DEFAULT_PROFILE = "default"
_ACTIVE_FILE = "active"
_ACTIVE_LOCK = ".active.lock"
_ACTIVE_MAX = 4096
"""The largest ``active`` file read: it holds one profile name."""


def active(root: Path) -> str:
    """``$LOOPAUTH_PROFILE``, else :func:`switched`, else ``default``."""
    env = os.environ.get(ENV_PROFILE)
    if env:
        return validate_profile_name(env)
    return switched(root) or DEFAULT_PROFILE


def switched(root: Path) -> str | None:
    """The profile named by ``<root>/active`` (written by :func:`set_active`), or None.

    Read with the checks of a profile (a regular file of ours, in a directory nobody else may write), so
    another user cannot point our commands at a profile of their choosing; a missing, unreadable or
    malformed file names none.
    """
    try:
        raw = read_trusted_file(root / _ACTIVE_FILE, "active profile file", limit=_ACTIVE_MAX)
    except OSError:
        return None
    name = raw.decode("utf-8", "replace").strip()
    return name if PROFILE_RE.fullmatch(name) else None


def set_active(root: Path, profile: str, *, lock_timeout: float) -> None:
    """Make *profile* the active one: ``<root>/active``, written as a profile is (atomic, 0600)."""
    data = f"{validate_profile_name(profile)}\n".encode()
    with _active_locked(root, lock_timeout) as directory:
        write_atomic(directory, root / _ACTIVE_FILE, data, what="the active profile")


def clear_active(root: Path, *, lock_timeout: float) -> bool:
    """Remove ``<root>/active`` (commands then use ``default``); True if there was one."""
    if not os.path.lexists(root / _ACTIVE_FILE):
        return False  # nothing to do, so write nothing (works read-only too)
    with _active_locked(root, lock_timeout) as directory:
        try:
            os.unlink(_ACTIVE_FILE, dir_fd=directory)
        except FileNotFoundError:
            return False
        except OSError as exc:
            path = root / _ACTIVE_FILE
            raise StoreError(f"cannot remove {path}: {os_reason(exc)}", path=path) from exc
        fsync_dir(directory)
        return True


def update_config_file(
    root: Path, name: str, change: Callable[[bytes | None], bytes], *, what: str, lock_timeout: float
) -> None:
    """Replace ``<root>/<name>`` with ``change(its bytes, or None when there is none)``, as ``active`` is written
    (atomic, 0600, trusted), holding ``.<name>.lock`` from the read to the write so no update is lost."""
    path = root / name
    with _active_locked(root, lock_timeout, lock=f".{name}.lock", what=what) as directory:
        try:
            current: bytes | None = read_at(directory, name, path, what)
        except FileNotFoundError:
            current = None
        except OSError as exc:
            raise StoreError(f"cannot read {path}: {os_reason(exc)}", path=path) from exc
        write_atomic(directory, path, change(current), what=what)


@contextlib.contextmanager
def _active_locked(
    root: Path, lock_timeout: float, *, lock: str = _ACTIVE_LOCK, what: str = "the active profile"
) -> Iterator[int]:
    """The checked config directory's descriptor, with ``lock`` (``.active.lock``) held: one writer of the file at a
    time (a write removes the temp files a killed writer left, which is only safe under the lock)."""
    ensure_dir(root)
    try:
        fd = open_trusted_dir(root, "config directory")
    except OSError as exc:
        raise StoreError(f"cannot use config directory {root}: {os_reason(exc)}", path=root) from exc
    try:
        with locked(fd, root / lock, what, lock_timeout):
            yield fd
    finally:
        os.close(fd)
