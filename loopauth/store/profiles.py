"""Credential files: one JSON file per profile under ``<config dir>/profiles``.

Layout::

    <config dir>/                  0700 when we create it ($LOOPAUTH_CONFIG_DIR or the platform's)
        providers.toml             the user's own providers (loopauth.providers)
        active                     0600, the active profile's name (``loopauth switch``), replaced atomically
        .active.lock               0600, flock()ed around each write of ``active``
        profiles/                  0700 when we create it
            <profile>.json         0600, replaced atomically on every save
            .<profile>.lock        0600, flock()ed around each save/delete

The files are plaintext JSON: anyone who can read them as this user has the
tokens. The modes, the atomic replace and the lock only make sure nobody
*else* can read them and that a crash or a second loopauth never leaves half
a file behind.

Two stores, chosen per profile (:mod:`loopauth.store.choice` chooses for a login) and recorded in its file:
the *file* store keeps the whole profile in it; the opt-in *keyring* store keeps the secrets in one
entry of the OS keyring (:mod:`loopauth.store.keyring`) and only what is not secret in the file, with
``"store": "keyring"`` and the entry's name. Reading a keyring profile fetches its entry; listing does
not, so ``loopauth list`` never unlocks anything. A keyring save writes a new entry, renames the file
into place, then deletes the old entry, all under the profile's lock: a failure before the rename
removes the new entry and leaves the profile as it was.

Trust, as ssh's StrictModes: the config directory and ``profiles/`` (and the directory a symlinked
profile leads to) must belong to this user or root and be writable by nobody else, and so must the
files read from them. Otherwise another user could plant a profile or a ``providers.toml``, or swap a
file for a symlink to one of ours so that a save overwrites it or a logout deletes it. Every check
is made on an open descriptor (``fstat``), and everything below the checked directory is opened
relative to that descriptor (``openat``), so nothing can be swapped between the check and the use.
A group-writable directory or file passes only when the group is the owner's own private group
(the user-private-group scheme behind umask 002 on Debian and Ubuntu).

``load()`` runs at the start of every tool that uses a stored login, so this
module imports only cheap standard-library modules: no tempfile, secrets,
asyncio, aiohttp or oauthlib, platformdirs only when it is needed, and keyring
only for a keyring profile. The checks cost a few ``stat`` calls.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import re
import stat
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from loopauth.errors import NotLoggedIn, StoreError, UsageError
from loopauth.models import (
    AnyCredentials,
    Value,
    credentials_from_dict,
    join_secrets,
    metadata_from_dict,
    split_secrets,
)

TYPE_CHECKING = False  # not typing's: see loopauth.models
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, TypeVar

    from loopauth.store.choice import Choice
    from loopauth.store.keyring import Keyring

    T = TypeVar("T")

ENV_CONFIG_DIR = "LOOPAUTH_CONFIG_DIR"
ENV_PROFILE = "LOOPAUTH_PROFILE"
DEFAULT_PROFILE = "default"
_ACTIVE_FILE = "active"
_ACTIVE_LOCK = ".active.lock"
_ACTIVE_MAX = 4096
"""The largest ``active`` file read: it holds one profile name."""
LOCK_TIMEOUT = 5.0
MAX_FILE = 1 << 20
"""The largest profile or ``providers.toml`` read: both are a few hundred bytes; a bigger one is not ours."""
PROBE_SIZE = 8192
"""Bytes written by :meth:`CredentialStore.check_writable`: more than any profile, so a full disk shows up then."""
_LOCK_POLL = 0.05
_DIR_MODE = 0o700
_FILE_MODE = 0o600
# A profile name becomes a file name: no separators, no leading dot (which would
# also let it collide with our hidden lock and temp files), nothing empty.
_PROFILE_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_TMP_SUFFIX = ".tmp"
_TMP_RAND_BYTES = 6
_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC
FILE = "file"
"""The store that keeps a whole profile in its file (the default)."""
KEYRING = "keyring"
"""The store that keeps a profile's secrets in the OS keyring and the rest in its file."""
STORES = (FILE, KEYRING)


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
    if not isinstance(name, str) or not _PROFILE_RE.fullmatch(name):
        raise UsageError(
            f"invalid profile name {name!r}: use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit"
        )
    return name


class ProfileEntry(Value):
    """One profile file as seen by ``CredentialStore.profiles()``: what can be shown, or why it cannot.

    ``shown`` is the profile to show (provider, account, expiry; never to sign with), for either store: the whole
    credentials of a file profile, which are also ``credentials``, or a keyring profile's metadata with its
    secrets left in the keyring (``credentials`` None: listing unlocks nothing). ``store`` is ``"file"`` or
    ``"keyring"``. An unusable file has only its ``error``.
    """

    _fields = ("name", "path", "credentials", "error", "store", "shown")

    name: str
    path: Path
    credentials: AnyCredentials | None
    error: str | None
    store: str | None
    shown: AnyCredentials | None

    def __init__(
        self,
        name: str,
        path: Path,
        credentials: AnyCredentials | None,
        error: str | None,
        store: str | None = None,
        shown: AnyCredentials | None = None,
    ) -> None:
        self._init(name=name, path=path, credentials=credentials, error=error, store=store, shown=shown)

    @property
    def public(self) -> dict[str, Any] | None:
        """What ``list`` shows: ``public_dict()`` of the profile, None when its file is unusable."""
        return self.shown.public_dict() if self.shown is not None else None


class Location(Value):
    """Where a profile is stored (:meth:`CredentialStore.where`): its store, its file, its keyring entry."""

    _fields = ("profile", "kind", "path", "entry")

    profile: str
    kind: str
    """``"file"`` or ``"keyring"``."""
    path: Path
    """The profile's file: all of it in the file store, what is not secret in the keyring store."""
    entry: str | None
    """The keyring entry's user name (under service ``loopauth``), for a keyring profile."""

    def __init__(self, profile: str, kind: str, path: Path, entry: str | None = None) -> None:
        self._init(profile=profile, kind=kind, path=path, entry=entry)

    def describe(self) -> str:
        """One phrase for people: ``a plaintext file (mode 0600), /…/work.json`` or the keyring and its entry."""
        if self.kind == FILE:
            return f"a plaintext file (mode 0600), {self.path}"
        from loopauth.store.keyring import SERVICE, backend_name

        return f"the OS keyring ({backend_name()}, service '{SERVICE}', entry '{self.entry}'); metadata in {self.path}"


class _Loaded(Value):
    """A profile as read: its credentials (None when only the file was read) and where they are."""

    _fields = ("credentials", "kind", "entry")

    credentials: AnyCredentials | None
    kind: str
    entry: str | None

    def __init__(self, credentials: AnyCredentials | None, kind: str, entry: str | None) -> None:
        self._init(credentials=credentials, kind=kind, entry=entry)


class CredentialStore:
    """Reads and writes profile files under *root* (default: ``config_dir()``, resolved on first use)."""

    def __init__(self, root: Path | None = None, *, lock_timeout: float = LOCK_TIMEOUT) -> None:
        self._root = root
        self._lock_timeout = lock_timeout

    @property
    def root(self) -> Path:
        # Resolved lazily so that constructing a store costs nothing (and never imports platformdirs).
        if self._root is None:
            self._root = config_dir()
        return self._root

    @property
    def profiles_dir(self) -> Path:
        return self.root / "profiles"

    def active(self) -> str:
        """The profile a command uses when none is named: ``$LOOPAUTH_PROFILE``, else the one ``loopauth switch``
        made active (``<config dir>/active``), else ``default``."""
        env = os.environ.get(ENV_PROFILE)
        if env:
            return validate_profile_name(env)
        return self.switched() or DEFAULT_PROFILE

    def switched(self) -> str | None:
        """The profile named by ``<config dir>/active`` (written by :meth:`set_active`), or None.

        Read with the checks of a profile (a regular file of ours, in a directory nobody else may write), so
        another user cannot point our commands at a profile of their choosing; a missing, unreadable or
        malformed file names none.
        """
        try:
            raw = read_trusted_file(self.root / _ACTIVE_FILE, "active profile file", limit=_ACTIVE_MAX)
        except OSError:
            return None
        name = raw.decode("utf-8", "replace").strip()
        return name if _PROFILE_RE.fullmatch(name) else None

    def resolve(self, profile: str | None) -> str:
        """``profile`` if one is named, else :meth:`active`."""
        return validate_profile_name(profile) if profile is not None else self.active()

    def path_for(self, profile: str) -> Path:
        """The file that holds *profile*'s credentials (it may not exist)."""
        return self.profiles_dir / f"{validate_profile_name(profile)}.json"

    # -- reading ---------------------------------------------------------------------------------

    def load(self, profile: str) -> AnyCredentials:
        """The stored credentials of *profile*; NotLoggedIn if there are none, StoreError if unusable.

        A keyring profile's secrets are read from the keyring (which may ask to unlock it).
        """
        path = self.path_for(profile)
        with self._reading() as directory:
            if directory is None:
                raise _not_logged_in(profile)
            creds = self._load_at(directory, profile, path).credentials
            assert creds is not None
            return creds

    def where(self, profile: str) -> Location:
        """Where *profile* is stored (its store, file and keyring entry), from its file alone: nothing is unlocked.

        NotLoggedIn if there is no such profile, StoreError if its file is unusable.
        """
        path = self.path_for(profile)
        with self._reading() as directory:
            if directory is None:
                raise _not_logged_in(profile)
            loaded = self._peek_at(directory, profile, path)
        return Location(profile, loaded.kind, path, loaded.entry)

    def profiles(self) -> list[ProfileEntry]:
        """Every profile file, sorted by name; an unusable one is listed with its error, not raised.

        Only the files are read: a keyring profile is listed with its ``public`` fields and store, not unlocked.
        """
        with self._reading() as directory:
            if directory is None:
                return []
            names = self._names_at(directory)
            entries: list[ProfileEntry] = []
            for name in names:
                path = self.path_for(name)
                try:
                    data = self._read_object(directory, name, path)
                    kind, _entry = _store_of(path, data)
                    creds = _credentials(path, data, name) if kind == FILE else None
                    shown = creds if creds is not None else _metadata(path, data, name)
                except NotLoggedIn:
                    continue  # removed since the listing, or a dangling symlink: nothing stored
                except StoreError as exc:
                    entries.append(ProfileEntry(name=name, path=path, credentials=None, error=exc.message))
                else:
                    entries.append(ProfileEntry(name, path, creds, None, store=kind, shown=shown))
            return entries

    def metadata(self, profile: str) -> AnyCredentials:
        """*profile* to show, from its file alone: a keyring profile's secrets stay in the keyring (never sign with
        what this returns for one). NotLoggedIn / StoreError as :meth:`load`."""
        path = self.path_for(profile)
        with self._reading() as directory:
            if directory is None:
                raise _not_logged_in(profile)
            data = self._read_object(directory, profile, path)
        kind, _entry = _store_of(path, data)
        return _credentials(path, data, profile) if kind == FILE else _metadata(path, data, profile)

    def names(self) -> list[str]:
        """The stored profiles' names, sorted, from the directory listing alone (no file is read): for completion."""
        with self._reading() as directory:
            return [] if directory is None else self._names_at(directory)

    def storage_of(self, profile: str) -> tuple[str, str]:
        """Where *profile* is kept, as ``loopauth status`` shows it: (kind, where), ``("file", "/…/work.json")``
        or ``("keyring", "the OS keyring (…); metadata in …")``. Reads the file only; an unreadable one is a file."""
        try:
            location = self.where(profile)
        except (NotLoggedIn, StoreError):
            return FILE, str(self.path_for(profile))
        return location.kind, str(location.path) if location.kind == FILE else location.describe()

    # -- writing ---------------------------------------------------------------------------------

    def save(self, creds: AnyCredentials, *, kind: str | None = None) -> Path:
        """Store *creds* under ``creds.profile``, atomically; returns the profile's path.

        ``kind`` is the store (``"file"``, 0600, or ``"keyring"``); by default the profile stays in its own, and a
        new profile goes to the configured default (:func:`loopauth.store.choice.configured`).
        """
        with self.holding(creds.profile) as held:
            return held.save(creds, kind=kind)

    @contextlib.contextmanager
    def holding(self, profile: str, *, timeout: float | None = None) -> Iterator[Held]:
        """Hold *profile*'s lock for a read-check-write (an OAuth 2.0 refresh): nobody else saves meanwhile.

        ``timeout`` is how long to wait for the lock (default: the store's), for a holder that makes a
        network call while holding it.
        """
        profile = validate_profile_name(profile)
        directory = self._open_profiles(create=True)
        try:
            with self._locked(directory, profile, timeout=timeout):
                yield Held(self, directory, profile)
        finally:
            os.close(directory)

    def move(self, profile: str, to: str) -> tuple[Location, Location]:
        """Move *profile* to the store ``to``: write it there, read it back and compare, then delete the old copy.

        Any failure before the old copy is deleted leaves the profile as it was (StoreError). Returns where it
        was and where it is now (the same, when it already was in ``to``).
        """
        with self.holding(profile) as held:
            return held.move(to)

    def delete(self, profile: str) -> bool:
        """Remove *profile*'s entry (and, for a keyring profile, its keyring entry first); True if there was one.

        A symlinked profile loses the link, never the file it points to: another user who could
        plant a link must not be able to make a logout delete one of your files. When the keyring entry
        cannot be deleted (a locked keyring), nothing is: StoreError.
        """
        path = self.path_for(profile)
        with self._reading() as directory:
            # No profiles dir: nothing to do, so write nothing (no directories, no lock file; works read-only too).
            if directory is None or not _exists(directory, path.name):
                return False
            with self._locked(directory, profile):
                self._delete_entry(directory, profile, path)
                try:
                    os.unlink(path.name, dir_fd=directory)
                except FileNotFoundError:
                    return False
                except OSError as exc:
                    raise StoreError(f"cannot remove credential file {path}: {_os_reason(exc)}", path=path) from exc
                # The lock goes too, while we hold it: a waiter that locks this removed file notices and
                # locks the path's new one instead (see _locked).
                with contextlib.suppress(OSError):
                    os.unlink(_lock_name(profile), dir_fd=directory)
                _fsync(directory)
                return True

    def choose_store(self, profile: str, explicit: str | None = None) -> Choice:
        """The store a login of *profile* uses: ``explicit``, else ``$LOOPAUTH_STORE``, else the profile's own,
        else config.toml's default, else the file (:func:`loopauth.store.choice.choose`). Reads no secret."""
        from loopauth.store.choice import choose

        try:
            existing: str | None = self.where(profile).kind
        except (NotLoggedIn, StoreError):
            existing = None  # a new profile, or one the login will replace
        return choose(explicit, existing, self.root)

    def check_store(self, kind: str, profile: str) -> None:
        """Fail now, before a browser opens, if *profile* could not be stored in ``kind``; writes nothing.

        For the keyring: UsageError without the keyring package, StoreError when there is no usable keyring.
        """
        if kind == KEYRING:
            self._keyring(self.path_for(profile), "the keyring store")

    def set_active(self, profile: str) -> None:
        """Make *profile* the active one: ``<config dir>/active``, written as a profile is (atomic, 0600).

        It does not check that the profile exists; ``loopauth switch`` does.
        """
        data = f"{validate_profile_name(profile)}\n".encode()
        with self._active_locked() as root:
            _write_atomic(root, self.root / _ACTIVE_FILE, data, what="the active profile")

    def clear_active(self) -> bool:
        """Remove ``<config dir>/active`` (commands then use ``default``); True if there was one."""
        if not os.path.lexists(self.root / _ACTIVE_FILE):
            return False  # nothing to do, so write nothing (works read-only too)
        with self._active_locked() as root:
            try:
                os.unlink(_ACTIVE_FILE, dir_fd=root)
            except FileNotFoundError:
                return False
            except OSError as exc:
                path = self.root / _ACTIVE_FILE
                raise StoreError(f"cannot remove {path}: {_os_reason(exc)}", path=path) from exc
            _fsync(root)
            return True

    @contextlib.contextmanager
    def _active_locked(self) -> Iterator[int]:
        """The checked config directory's descriptor, with ``.active.lock`` held: one writer of ``active`` at a time
        (a write removes the temp files a killed writer left, which is only safe under the lock)."""
        root = self.root
        _ensure_dir(root)
        try:
            fd = _open_trusted_dir(root, "config directory")
        except OSError as exc:
            raise StoreError(f"cannot use config directory {root}: {_os_reason(exc)}", path=root) from exc
        try:
            with self._locked(fd, "the active profile", lockpath=root / _ACTIVE_LOCK):
                yield fd
        finally:
            os.close(fd)

    def check_writable(self, profile: str | None = None) -> None:
        """Fail now, before a browser opens, if a login could not be saved here (as ``profile``, when given).

        The probe writes :data:`PROBE_SIZE` bytes, so a full disk or a quota is found now rather than
        after the user has approved the login.
        """
        directory = self._open_profiles(create=True)
        where_fd, where = directory, self.profiles_dir
        try:
            if profile is not None:
                where_fd, where, _ = _write_target(directory, self.path_for(profile))
            probe = f".probe-{os.urandom(_TMP_RAND_BYTES).hex()}{_TMP_SUFFIX}"
            try:
                fd = os.open(probe, _NEW_FILE_FLAGS, _FILE_MODE, dir_fd=where_fd)
            except OSError as exc:
                raise StoreError(
                    f"cannot write to credential directory {where}: {_os_reason(exc)}", path=where
                ) from exc
            try:
                try:
                    _write_all(fd, bytes(PROBE_SIZE))
                finally:
                    os.close(fd)
            except OSError as exc:
                with contextlib.suppress(OSError):
                    os.unlink(probe, dir_fd=where_fd)
                raise StoreError(
                    f"cannot write to credential directory {where}: {_os_reason(exc)}", path=where
                ) from exc
            try:
                os.unlink(probe, dir_fd=where_fd)
            except OSError as exc:
                raise StoreError(
                    f"cannot remove files in credential directory {where}: {_os_reason(exc)}", path=where
                ) from exc
        finally:
            if where_fd != directory:
                os.close(where_fd)
            os.close(directory)

    # -- helpers ---------------------------------------------------------------------------------

    @contextlib.contextmanager
    def _reading(self) -> Iterator[int | None]:
        """A checked descriptor of ``profiles/`` for the block (closed after it), or None when there is none yet."""
        try:
            directory = self._open_profiles()
        except FileNotFoundError:
            yield None
            return
        try:
            yield directory
        finally:
            os.close(directory)

    def _open_profiles(self, *, create: bool = False) -> int:
        """A descriptor of ``profiles/``, checked (and the config dir above it); FileNotFoundError if missing.

        With ``create``, missing directories are made 0700 first; ``profiles/`` only once the config
        dir has passed its check, so nothing is ever created in a directory another user controls.
        """
        root = self.root
        if create:
            _ensure_dir(root)
        try:
            root_fd = _open_trusted_dir(root, "config directory")
        except OSError as exc:
            if isinstance(exc, FileNotFoundError) and not create:
                raise
            raise StoreError(f"cannot use config directory {root}: {_os_reason(exc)}", path=root) from exc
        directory = self.profiles_dir
        try:
            if create:
                _make_dir_at(root_fd, "profiles", directory)
            try:
                return _open_trusted_dir(directory, "credential directory", dir_fd=root_fd)
            except OSError as exc:
                if isinstance(exc, FileNotFoundError) and not create:
                    raise
                raise StoreError(
                    f"cannot use credential directory {directory}: {_os_reason(exc)}", path=directory
                ) from exc
        finally:
            os.close(root_fd)

    def _names_at(self, directory: int) -> list[str]:
        try:
            with os.scandir(directory) as it:
                return sorted(
                    entry.name[: -len(".json")]
                    for entry in it
                    if entry.name.endswith(".json") and _PROFILE_RE.fullmatch(entry.name[: -len(".json")])
                )
        except OSError as exc:
            raise StoreError(
                f"cannot list credential directory {self.profiles_dir}: {_os_reason(exc)}", path=self.profiles_dir
            ) from exc

    def _read_object(self, directory: int, profile: str, path: Path) -> dict[str, Any]:
        """The JSON object in *profile*'s file; NotLoggedIn when there is none, StoreError when it is unusable."""
        try:
            raw = _read_at(directory, path.name, path, "credential file")
        except FileNotFoundError:
            # Also a dangling symlink: nothing stored.
            raise _not_logged_in(profile) from None
        except OSError as exc:
            raise _corrupt(path, _os_reason(exc)) from exc
        return _parse(path, raw)

    def _peek_at(self, directory: int, profile: str, path: Path) -> _Loaded:
        """Where *profile* is stored, from its file alone (no credentials)."""
        kind, entry = _store_of(path, self._read_object(directory, profile, path))
        return _Loaded(None, kind, entry)

    def _load_at(self, directory: int, profile: str, path: Path, *, locked: bool = False) -> _Loaded:
        """*profile*'s credentials and where they are; ``locked`` when the caller holds the profile's lock."""
        data = self._read_object(directory, profile, path)
        kind, entry = _store_of(path, data)
        if entry is None:
            return _Loaded(_credentials(path, data, profile), kind, None)
        secrets = self._keyring(path, f"profile '{profile}' (in the keyring store)").read(entry)
        if secrets is None:
            if not locked:
                # A save may have replaced the entry between our two reads: it writes a new entry, renames the file
                # that names it, then deletes ours, all under the profile's lock. Wait for it and read again.
                with self._locked(directory, profile):
                    return self._load_at(directory, profile, path, locked=True)
            raise StoreError(
                f"profile '{profile}' keeps its secrets in the OS keyring, but its entry there is gone (deleted "
                "outside loopauth?); log in again to replace it",
                path=path,
            )
        try:
            whole = join_secrets(data, secrets)
        except ValueError as exc:
            raise _corrupt(path, f"its keyring entry {entry!r}: {exc}") from None
        return _Loaded(_credentials(path, whole, profile), kind, entry)

    def _keyring(self, path: Path, what: str) -> Keyring:
        from loopauth.store.keyring import Keyring

        return Keyring.open(path, what=what)

    def _delete_entry(self, directory: int, profile: str, path: Path) -> None:
        """Delete a keyring profile's entry (with its lock held), before its file: StoreError when it cannot be."""
        try:
            loaded = self._peek_at(directory, profile, path)
        except (NotLoggedIn, StoreError):
            return  # gone, or a file that names no entry we could find: only the file is removed
        if loaded.entry is None:
            return
        try:
            self._keyring(path, f"deleting profile '{profile}' (in the keyring store)").delete(loaded.entry)
        except StoreError as exc:
            raise StoreError(
                f"{exc.message}; nothing was deleted (to forget profile '{profile}' anyway, remove {path})", path=path
            ) from exc

    def _default_kind(self) -> str:
        from loopauth.store.choice import configured

        return configured(self.root).kind

    @contextlib.contextmanager
    def _locked(
        self, directory: int, profile: str, *, timeout: float | None = None, lockpath: Path | None = None
    ) -> Iterator[None]:
        """Hold an exclusive flock on ``.<profile>.lock`` for the block, waiting up to ``timeout`` (default:
        the store's lock_timeout). With ``lockpath`` (an entry of ``directory``), that file is locked instead, and
        ``profile`` only names what it guards in messages.

        delete() removes the lock file while holding it. A waiter may then get the flock of that removed
        file, which locks nothing anybody else will look at: so once locked, the file at the path must
        still be the one we hold, or we start over with the file that is there now.
        """
        what = f"profile '{profile}'" if lockpath is None else profile
        lockpath = lockpath or self.profiles_dir / _lock_name(profile)
        deadline = time.monotonic() + (self._lock_timeout if timeout is None else timeout)
        while True:
            fd = self._open_lock(directory, lockpath)
            try:
                self._lock(fd, lockpath, what, deadline)
                if _still_at(fd, directory, lockpath.name):
                    break
            except BaseException:
                os.close(fd)
                raise
            os.close(fd)  # removed by a logout while we waited: lock the path's new file
            if time.monotonic() >= deadline:
                raise StoreError(f"{what} is busy: another loopauth is writing it", path=lockpath)
        try:
            yield
        finally:
            # Closing the descriptor releases the flock.
            os.close(fd)

    def _open_lock(self, directory: int, lockpath: Path) -> int:
        try:
            # O_NOFOLLOW: a symlink in place of the lock must not make us create or chmod the file it names.
            fd = os.open(
                lockpath.name, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, _FILE_MODE, dir_fd=directory
            )
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise StoreError(f"cannot use lock file {lockpath}: it is a symlink", path=lockpath) from exc
            # Read-only or foreign directory: report it once and stop (no retry loop).
            raise StoreError(
                f"cannot write to credential directory {lockpath.parent}: {_os_reason(exc)}", path=lockpath.parent
            ) from exc
        try:
            # The umask may have narrowed 0600 (to 0400 under umask 277, say), which would make
            # the next opener's O_RDWR fail; the file is ours and in our own checked directory.
            os.fchmod(fd, _FILE_MODE)
        except OSError as exc:
            os.close(fd)
            raise StoreError(f"cannot use lock file {lockpath}: {_os_reason(exc)}", path=lockpath) from exc
        return fd

    def _lock(self, fd: int, lockpath: Path, what: str, deadline: float) -> None:
        while True:
            try:
                # Non-blocking and polled, so a stuck peer costs at most the timeout, and
                # Ctrl-C is handled promptly while we wait.
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise StoreError(f"{what} is busy: another loopauth is writing it", path=lockpath) from None
                time.sleep(_LOCK_POLL)
            except OSError as exc:  # e.g. ENOLCK on a network filesystem
                raise StoreError(f"cannot lock {lockpath}: {_os_reason(exc)}", path=lockpath) from exc


class Held:
    """A profile whose lock is held (:meth:`CredentialStore.holding`): read and replace it without re-locking."""

    def __init__(self, store: CredentialStore, directory: int, profile: str) -> None:
        self.store = store
        self.profile = profile
        self.path = store.path_for(profile)
        self._directory = directory
        self._stored: _Loaded | None = None
        """Where the profile is now, once this holder has read or written it."""
        self._keyring_handle: Keyring | None = None

    def load(self) -> AnyCredentials:
        loaded = self.store._load_at(self._directory, self.profile, self.path, locked=True)
        self._stored = loaded
        assert loaded.credentials is not None
        return loaded.credentials

    def save(self, creds: AnyCredentials, *, kind: str | None = None) -> Path:
        """Replace the profile with *creds*, in store ``kind`` (default: its own; a new one: the configured default).

        A keyring save writes a new entry first, then renames the file that names it into place, then deletes
        the entry the file named before; when the rename fails, the new entry is removed and the profile is as
        it was (for a refresh: the old pair, which the file and the keyring still agree on).
        """
        if creds.profile != self.profile:
            raise ValueError(f"holding profile {self.profile!r}, not {creds.profile!r}")
        old = self._current()
        if kind is None:
            kind = old.kind if old is not None else self.store._default_kind()
        elif kind not in STORES:
            raise UsageError(f"{{arg}} must be {' or '.join(STORES)}, got {str(kind)[:40]!r}", argument="kind")
        entry = self._put(creds, kind)
        if old is not None and old.entry is not None and old.entry != entry:
            # Nothing reads the old entry any more: the file names the new one (or holds the secrets itself). A
            # keyring that fails now leaves it behind, unread; the save has happened and stands.
            with contextlib.suppress(StoreError, UsageError):
                self._keyring().discard(old.entry)
        return self.path

    def move(self, to: str) -> tuple[Location, Location]:
        """See :meth:`CredentialStore.move`."""
        if to not in STORES:
            raise UsageError(f"{{arg}} must be {' or '.join(STORES)}, got {str(to)[:40]!r}", argument="to")
        creds = self.load()
        old = self._stored
        assert old is not None
        before = Location(self.profile, old.kind, self.path, old.entry)
        if old.kind == to:
            return before, before
        if KEYRING in (to, old.kind):
            self._keyring()  # usable (unlocked) before anything is written, or nothing is
        try:
            raw = _read_at(self._directory, self.path.name, self.path, "credential file")
        except OSError as exc:
            raise _corrupt(self.path, _os_reason(exc)) from exc
        entry = self._put(creds, to, verify=True)
        try:
            again = self.store._load_at(self._directory, self.profile, self.path, locked=True).credentials
            if again != creds:
                raise StoreError(
                    f"profile '{self.profile}' read back from the {to} store is not what was written there",
                    path=self.path,
                )
        except BaseException:
            # Put the old file back (it still names the old entry, untouched), and drop the new entry.
            with contextlib.suppress(StoreError):
                _write_atomic(self._directory, self.path, raw)
            if entry is not None:
                self._keyring().discard(entry)
            self._stored = old
            raise
        after = Location(self.profile, to, self.path, entry)
        if old.entry is not None:
            try:
                self._keyring().delete(old.entry)
            except StoreError as exc:
                raise StoreError(
                    f"moved profile '{self.profile}' to the {to} store, but its old keyring entry {old.entry!r} "
                    f"(service 'loopauth') is still there: {exc.message}",
                    path=self.path,
                ) from exc
        return before, after

    def _put(self, creds: AnyCredentials, kind: str, *, verify: bool = False) -> str | None:
        """Write *creds* to store ``kind``; the new keyring entry's name, if any. ``verify`` reads the entry back
        before the file that names it replaces the old one."""
        data = creds.to_dict()
        if kind == FILE:
            _write_atomic(self._directory, self.path, _dump(data))
            self._stored = _Loaded(creds, FILE, None)
            return None
        from loopauth.store.keyring import SERVICE

        keyring = self._keyring()
        public, secrets = split_secrets(data)
        entry = f"{self.profile}/{os.urandom(_TMP_RAND_BYTES).hex()}"
        keyring.write(entry, secrets)
        try:
            if verify and keyring.read(entry) != secrets:
                raise StoreError(
                    f"the OS keyring's entry {entry!r} read back is not what was written to it", path=self.path
                )
            _write_atomic(
                self._directory,
                self.path,
                _dump({**public, "store": KEYRING, "keyring": {"service": SERVICE, "entry": entry}}),
            )
        except BaseException:
            keyring.discard(entry)
            raise
        self._stored = _Loaded(creds, KEYRING, entry)
        return entry

    def _current(self) -> _Loaded | None:
        """Where the profile is stored now (from its file, if this holder has not read it yet); None if nowhere."""
        if self._stored is None:
            try:
                self._stored = self.store._peek_at(self._directory, self.profile, self.path)
            except (NotLoggedIn, StoreError):
                return None  # nothing there, or a file the save replaces whole
        return self._stored

    def _keyring(self) -> Keyring:
        if self._keyring_handle is None:
            self._keyring_handle = self.store._keyring(self.path, f"profile '{self.profile}' (in the keyring store)")
        return self._keyring_handle


def _dump(data: dict[str, Any]) -> bytes:
    return (json.dumps(data, indent=2, sort_keys=True) + "\n").encode("utf-8")


def _lock_name(profile: str) -> str:
    return f".{profile}.lock"


def _still_at(fd: int, directory: int, name: str) -> bool:
    """Whether ``name`` in ``directory`` still is the file open as ``fd`` (not removed or replaced meanwhile)."""
    held = os.fstat(fd)
    try:
        now = os.stat(name, dir_fd=directory, follow_symlinks=False)
    except FileNotFoundError:
        return False
    return (held.st_dev, held.st_ino) == (now.st_dev, now.st_ino)


# -- trust -------------------------------------------------------------------------------------------


def _open_trusted_dir(path: Path, what: str, *, dir_fd: int | None = None) -> int:
    """Open directory ``path`` (or, with ``dir_fd``, its last component under that descriptor) and check it.

    StoreError unless it belongs to this user or root and nobody else may write to it; a symlink
    given as ``path`` must belong to this user or root too. OSError (FileNotFoundError,
    NotADirectoryError, ...) when it cannot be opened.
    """
    if dir_fd is None:
        link = os.lstat(path)
        if stat.S_ISLNK(link.st_mode) and link.st_uid not in (os.geteuid(), 0):
            raise StoreError(
                f"{what} {path} is a symlink that belongs to uid {link.st_uid}, not to you: refusing to follow it",
                path=path,
            )
    fd = os.open(path if dir_fd is None else path.name, _DIR_FLAGS, dir_fd=dir_fd)
    try:
        _check_trusted(path, os.fstat(fd), what)
    except BaseException:
        os.close(fd)
        raise
    return fd


def _check_trusted(path: Path, st: os.stat_result, what: str) -> None:
    """StoreError unless ``st`` (of ``path``) belongs to this user or root and is writable by nobody else."""
    mode = stat.S_IMODE(st.st_mode)
    if st.st_uid not in (os.geteuid(), 0):
        raise StoreError(
            f"{what} {path} belongs to uid {st.st_uid} (mode {mode:04o}), not to you: its owner could plant or "
            "swap credentials there; use one of your own",
            path=path,
        )
    if mode & 0o002 or (mode & 0o020 and not _private_group(st.st_gid, st.st_uid)):
        raise StoreError(
            f"{what} {path} is writable by other users (mode {mode:04o}): they could plant or swap credentials "
            f"there; make it private (chmod go-w {path})",
            path=path,
        )


def _private_group(gid: int, owner: int) -> bool:
    """Whether ``gid`` is ``owner``'s own private group, so that its write bit lets nobody else in.

    The user-private-group scheme (Debian, Ubuntu, Fedora: umask 002) gives each user a group of
    their own; ssh's Debian patch accepts group-writable files exactly then. Only reached for a
    group-writable directory or file, so the lookups cost nothing on the usual path.
    """
    import grp
    import pwd

    try:
        group = grp.getgrgid(gid)
        user = pwd.getpwuid(owner)
    except KeyError:
        return False
    if user.pw_gid != gid or any(member != user.pw_name for member in group.gr_mem):
        return False
    return all(entry.pw_gid != gid or entry.pw_uid == owner for entry in pwd.getpwall())


def read_trusted_file(path: Path, what: str, *, limit: int = MAX_FILE) -> bytes:
    """The bytes of ``path``, a regular file of at most ``limit`` bytes in a checked directory.

    For ``providers.toml``: the same checks as a profile. OSError (FileNotFoundError when it or its
    directory is missing) if it cannot be read, StoreError if another user could have put it there.
    """
    directory = _open_trusted_dir(path.parent, "config directory")
    try:
        return _read_at(directory, path.name, path, what, limit=limit)
    finally:
        os.close(directory)


def _read_at(directory: int, name: str, path: Path, what: str, *, limit: int = MAX_FILE) -> bytes:
    """Read ``name`` under ``directory`` (following a symlink); OSError if missing, unreadable, odd or too big."""
    # O_NONBLOCK so that a FIFO in place of the file cannot hang every tool that reads it.
    fd = os.open(name, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=directory)
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR))
        if not stat.S_ISREG(st.st_mode):
            raise OSError(errno.EINVAL, "not a regular file")
        _check_trusted(path, st, what)
        if st.st_size > limit:
            raise OSError(errno.EFBIG, f"larger than {_size(limit)}")
        chunks: list[bytes] = []
        size = 0
        # Never more than limit: the size fstat gave may change while we read.
        while chunk := os.read(fd, min(65536, limit + 1 - size)):
            chunks.append(chunk)
            size += len(chunk)
            if size > limit:
                raise OSError(errno.EFBIG, f"larger than {_size(limit)}")
        return b"".join(chunks)
    finally:
        os.close(fd)


def _size(limit: int) -> str:
    return f"{limit >> 20} MiB" if limit >= 1 << 20 and not limit % (1 << 20) else f"{limit:,} bytes"


# -- writing -----------------------------------------------------------------------------------------

# O_EXCL + 0600 means the secrets are never readable by others, not even for an instant,
# and O_NOFOLLOW means nobody can pre-plant a symlink under a temp name.
_NEW_FILE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC | os.O_NOFOLLOW


def _ensure_dir(path: Path) -> None:
    """Create *path* and any missing parents 0700; leave existing ones (symlinks included) alone."""
    missing: list[Path] = []
    current = path
    # isdir() follows symlinks, so a symlinked config dir counts as present and is never replaced.
    while not os.path.isdir(current):
        missing.append(current)
        if current.parent == current:
            break
        current = current.parent
    for directory in reversed(missing):
        try:
            os.mkdir(directory, _DIR_MODE)
        except FileExistsError:
            if os.path.isdir(directory):
                continue  # another loopauth created it between our check and mkdir; not ours to chmod
            raise _in_the_way(directory) from None
        except OSError as exc:
            raise StoreError(
                f"cannot create credential directory {directory}: {_os_reason(exc)}", path=directory
            ) from exc
        try:
            # mkdir's mode is filtered through the umask (0o277 would leave us 0500, unwritable);
            # set it exactly, but only on directories we just made.
            os.chmod(directory, _DIR_MODE)
        except OSError as exc:
            raise StoreError(
                f"cannot set permissions on credential directory {directory}: {_os_reason(exc)}", path=directory
            ) from exc


def _make_dir_at(parent: int, name: str, path: Path) -> None:
    """Create directory ``name`` under the (checked) ``parent`` descriptor, 0700, unless it exists."""
    try:
        os.mkdir(name, _DIR_MODE, dir_fd=parent)
    except FileExistsError:
        return  # a directory (checked when opened), or whatever is in the way (reported then)
    except OSError as exc:
        raise StoreError(f"cannot create credential directory {path}: {_os_reason(exc)}", path=path) from exc
    try:
        fd = os.open(name, _DIR_FLAGS | os.O_NOFOLLOW, dir_fd=parent)
        try:
            os.fchmod(fd, _DIR_MODE)  # exactly 0700, whatever the umask, and only on what we just made
        finally:
            os.close(fd)
    except OSError as exc:
        raise StoreError(
            f"cannot set permissions on credential directory {path}: {_os_reason(exc)}", path=path
        ) from exc


def _write_target(directory: int, path: Path) -> tuple[int, Path, str]:
    """Where a save of ``path`` (an entry of ``directory``) lands: a directory descriptor, its path, the name.

    Usually ``profiles/`` itself (the descriptor is then ``directory``). A symlinked profile is written
    through, as long as the link is this user's (or root's) and the directory it leads to passes the
    same check as ``profiles/``; the caller closes a descriptor that is not ``directory``.
    """
    try:
        st = os.stat(path.name, dir_fd=directory, follow_symlinks=False)
    except FileNotFoundError:
        return directory, path.parent, path.name
    except OSError as exc:
        raise StoreError(f"cannot use credential file {path}: {_os_reason(exc)}", path=path) from exc
    if not stat.S_ISLNK(st.st_mode):
        return directory, path.parent, path.name
    if st.st_uid not in (os.geteuid(), 0):
        raise StoreError(
            f"credential file {path} is a symlink that belongs to uid {st.st_uid}, not to you: refusing to follow it",
            path=path,
        )
    target = Path(os.path.realpath(path))
    try:
        fd = _open_trusted_dir(target.parent, "directory of the credential file")
    except OSError as exc:
        raise StoreError(f"cannot save credentials to {path} (-> {target}): {_os_reason(exc)}", path=path) from exc
    return fd, target.parent, target.name


def _write_atomic(directory: int, path: Path, data: bytes, *, what: str = "credentials") -> None:
    """Replace the profile ``path`` (an entry of ``directory``, or the file its symlink names) with *data*, 0600.

    Readers see the old file or the new one, never a mix; on failure the old file is untouched and
    no temp file is left. OSError becomes StoreError; anything else (KeyboardInterrupt included)
    is re-raised after the clean-up.
    """
    # Writing to a symlink's target keeps a symlinked profile file a symlink; the temp file must
    # live next to the target because os.replace is only atomic within one filesystem.
    where_fd, where, name = _write_target(directory, path)
    shown = str(path) if where == path.parent else f"{path} (-> {where / name})"
    tmp = f".{name}.{os.urandom(_TMP_RAND_BYTES).hex()}{_TMP_SUFFIX}"
    fd = -1
    created = False
    replaced = False
    try:
        _remove_stale_temps(where_fd, name)
        fd = os.open(tmp, _NEW_FILE_FLAGS, _FILE_MODE, dir_fd=where_fd)
        created = True
        # The umask can only remove bits from the open() mode; fchmod makes it exactly 0600.
        os.fchmod(fd, _FILE_MODE)
        _write_all(fd, data)
        # Raw os.write has no user-space buffer to flush; fsync puts the bytes on disk before the
        # rename makes them visible, so a crash cannot leave an empty file under the real name.
        os.fsync(fd)
        os.close(fd)
        fd = -1
        os.replace(tmp, name, src_dir_fd=where_fd, dst_dir_fd=where_fd)
        replaced = True
        _fsync(where_fd)
    except BaseException as exc:
        if fd >= 0:
            with contextlib.suppress(OSError):
                os.close(fd)
        if created and not replaced:
            with contextlib.suppress(OSError):
                os.unlink(tmp, dir_fd=where_fd)
        if isinstance(exc, OSError):
            raise StoreError(f"cannot save {what} to {shown}: {_os_reason(exc)}", path=path) from exc
        raise
    finally:
        if where_fd != directory:
            os.close(where_fd)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _remove_stale_temps(directory: int, target_name: str) -> None:
    """Remove temp files a killed writer left for *target_name* (we hold its lock, so none is live)."""
    prefix = f".{target_name}."
    expected_len = len(prefix) + 2 * _TMP_RAND_BYTES + len(_TMP_SUFFIX)
    # Best effort: a leftover only wastes space (it is 0600), so a failure here must not stop the save.
    with contextlib.suppress(OSError), os.scandir(directory) as it:
        for entry in it:
            name = entry.name
            if len(name) == expected_len and name.startswith(prefix) and name.endswith(_TMP_SUFFIX):
                with contextlib.suppress(OSError):
                    os.unlink(name, dir_fd=directory)


def _fsync(directory: int) -> None:
    """Make a rename or unlink in *directory* durable."""
    # Best effort: the rename has already happened and is visible, so failing the save now would
    # be wrong, and some filesystems refuse fsync on directories (EINVAL).
    with contextlib.suppress(OSError):
        os.fsync(directory)


def _exists(directory: int, name: str) -> bool:
    try:
        os.stat(name, dir_fd=directory, follow_symlinks=False)
    except FileNotFoundError:
        return False
    return True


# -- reading -----------------------------------------------------------------------------------------


def _parse(path: Path, raw: bytes) -> dict[str, Any]:
    """The JSON object in a profile file's bytes, or StoreError saying (without quoting it) what is wrong."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        # Not str(exc): it quotes the offending byte, which may be part of a secret.
        raise _corrupt(path, "not UTF-8 text") from None
    if not text.strip():
        raise _corrupt(path, "the file is empty")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        # exc.msg/lineno/colno describe where, never what, so nothing from the file is quoted.
        # Some of json's messages end in "at" already ("Unterminated string starting at").
        at = "" if exc.msg.endswith(" at") else " at"
        raise _corrupt(path, f"not valid JSON ({exc.msg}{at} line {exc.lineno}, column {exc.colno})") from None
    except RecursionError:
        raise _corrupt(path, "not valid JSON (nested too deeply)") from None
    if not isinstance(data, dict):
        raise _corrupt(path, "not a JSON object")
    return data


def _store_of(path: Path, data: dict[str, Any]) -> tuple[str, str | None]:
    """A profile file's store, and for the keyring store the name of its entry; StoreError when it names neither."""
    kind = data.get("store", FILE)
    if kind == FILE:
        return FILE, None
    if kind != KEYRING:
        raise _corrupt(path, f"unknown store {str(kind)[:20]!r}")
    from loopauth.store.keyring import SERVICE

    where = data.get("keyring")
    entry = where.get("entry") if isinstance(where, dict) and where.get("service") == SERVICE else None
    if not isinstance(entry, str) or not entry:
        raise _corrupt(path, f"it names no keyring entry of service '{SERVICE}'")
    return KEYRING, entry


def _credentials(path: Path, data: dict[str, Any], profile: str) -> AnyCredentials:
    """Credentials from a profile's whole object, as *profile* (the file's name, which a later save writes)."""
    creds = _checked(path, credentials_from_dict, data)
    # A file copied or renamed by hand must not send a later save to another profile's file.
    return creds if creds.profile == profile else creds.replace(profile=profile)


def _metadata(path: Path, data: dict[str, Any], profile: str) -> AnyCredentials:
    """What ``list`` and ``status`` show of a profile file whose secrets are elsewhere (the keyring store)."""
    creds = _checked(path, metadata_from_dict, data)
    return creds if creds.profile == profile else creds.replace(profile=profile)


def _checked(path: Path, read: Callable[[dict[str, Any]], T], data: dict[str, Any]) -> T:
    try:
        return read(data)
    except ValueError as exc:
        # The models' from_dict ValueError names the field, never its value.
        raise _corrupt(path, str(exc)) from None
    except KeyError as exc:
        raise _corrupt(path, f"missing field {exc.args[0]!r}" if exc.args else "a field is missing") from None
    except TypeError:
        raise _corrupt(path, "a field has the wrong type") from None


def _not_logged_in(profile: str) -> NotLoggedIn:
    return NotLoggedIn(f"not logged in: no profile '{profile}'", profile=profile)


def _corrupt(path: Path, reason: str) -> StoreError:
    return StoreError(
        f"credential file {path} is corrupt or unreadable: {reason}; log in again to replace it", path=path
    )


def _in_the_way(directory: Path) -> StoreError:
    return StoreError(
        f"cannot create credential directory {directory}: something that is not a directory is in the way",
        path=directory,
    )


def _os_reason(exc: OSError) -> str:
    # strerror alone ("Permission denied"): the message already names the path.
    return exc.strerror or type(exc).__name__
