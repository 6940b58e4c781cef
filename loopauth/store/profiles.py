"""Profiles on disk: one JSON file per profile under ``<config dir>/profiles``, read and written under its lock.

Layout::

    <config dir>/                  0700 when we create it ($LOOPAUTH_CONFIG_DIR or the platform's)
        providers.toml             the user's own providers (loopauth.providers)
        config.toml                the user's defaults (.choice)
        active                     0600, the active profile's name (``loopauth switch``; .active), replaced atomically
        .active.lock               0600, flock()ed around each write of ``active``
        profiles/                  0700 when we create it
            <profile>.json         0600, replaced atomically on every save
            .<profile>.lock        0600, flock()ed around each save/delete (.lock)

The files are plaintext JSON: anyone who can read them as this user has the
tokens. The modes, the atomic replace and the lock only make sure nobody
*else* can read them (.trusted) and that a crash or a second loopauth never leaves half
a file behind.

Two stores, chosen per profile (:mod:`.choice` chooses for a login) and recorded in its file, each a
:class:`~.backends.Backend`: the *file* store keeps the whole profile in it; the opt-in *keyring* store
keeps the secrets in one entry of the OS keyring (:mod:`.keyring`) and only what is not secret in the file.
Reading a keyring profile fetches its entry; listing does not, so ``loopauth list`` never unlocks
anything. A keyring save writes a new entry, renames the file into place, then deletes the old entry, all
under the profile's lock: a failure before the rename removes the new entry and leaves the profile as it was.

``load()`` runs at the start of every tool that uses a stored login, so the store imports only cheap
standard-library modules: no tempfile, secrets, asyncio, aiohttp or oauthlib, platformdirs only when it is
needed, and keyring only for a keyring profile. The checks cost a few ``stat`` calls.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path

from ..errors import NotLoggedIn, StoreError, UsageError
from ..models import AnyCredentials, Value
from .active import DEFAULT_PROFILE, PROFILE_RE, config_dir, validate_profile_name
from .active import active as active_profile
from .active import clear_active as clear_active_file
from .active import set_active as set_active_file
from .active import switched as switched_profile
from .active import update_config_file as update_config_file_at
from .backends import FILE, KEYRING, STORES, Backend, FileBackend, corrupt, not_logged_in, parse, whole_credentials
from .lock import LOCK_TIMEOUT, lock_name, locked
from .trusted import (
    FILE_MODE,
    NEW_FILE_FLAGS,
    TMP_RAND_BYTES,
    TMP_SUFFIX,
    ensure_dir,
    exists_at,
    fsync_dir,
    make_dir_at,
    open_trusted_dir,
    os_reason,
    read_at,
    write_all,
    write_atomic,
    write_target,
)

TYPE_CHECKING = False  # not typing's: see loopauth.models
if TYPE_CHECKING:
    from typing import Any

    from .choice import Choice

PROBE_SIZE = 8192
"""Bytes written by :meth:`CredentialStore.check_writable`: more than any profile, so a full disk shows up then."""


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
        return backend_for(self.kind, self.path, self.profile).describe(self.entry)


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
        return active_profile(self.root)

    def switched(self) -> str | None:
        """The profile named by ``<config dir>/active`` (written by :meth:`set_active`), or None; see
        :func:`.active.switched`."""
        return switched_profile(self.root)

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
                raise not_logged_in(profile)
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
                raise not_logged_in(profile)
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
                    backend, _entry = backend_of(path, data, name)
                    creds, shown = backend.listed(data)
                except NotLoggedIn:
                    continue  # removed since the listing, or a dangling symlink: nothing stored
                except StoreError as exc:
                    entries.append(ProfileEntry(name=name, path=path, credentials=None, error=exc.message))
                else:
                    entries.append(ProfileEntry(name, path, creds, None, store=backend.kind, shown=shown))
            return entries

    def metadata(self, profile: str) -> AnyCredentials:
        """*profile* to show, from its file alone: a keyring profile's secrets stay in the keyring (never sign with
        what this returns for one). NotLoggedIn / StoreError as :meth:`load`."""
        path = self.path_for(profile)
        with self._reading() as directory:
            if directory is None:
                raise not_logged_in(profile)
            data = self._read_object(directory, profile, path)
        backend, _entry = backend_of(path, data, profile)
        return backend.listed(data)[1]

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
        return location.kind, str(location.path) if location.entry is None else location.describe()

    # -- writing ---------------------------------------------------------------------------------

    def save(self, creds: AnyCredentials, *, kind: str | None = None) -> Path:
        """Store *creds* under ``creds.profile``, atomically; returns the profile's path.

        ``kind`` is the store (``"file"``, 0600, or ``"keyring"``); by default the profile stays in its own, and a
        new profile goes to the configured default (:func:`.choice.configured`).
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
            if directory is None or not exists_at(directory, path.name):
                return False
            with self._locked(directory, profile):
                self._delete_entry(directory, profile, path)
                try:
                    os.unlink(path.name, dir_fd=directory)
                except FileNotFoundError:
                    return False
                except OSError as exc:
                    raise StoreError(f"cannot remove credential file {path}: {os_reason(exc)}", path=path) from exc
                # The lock goes too, while we hold it: a waiter that locks this removed file notices and
                # locks the path's new one instead (see lock.locked).
                with contextlib.suppress(OSError):
                    os.unlink(lock_name(profile), dir_fd=directory)
                fsync_dir(directory)
                return True

    def choose_store(self, profile: str, explicit: str | None = None) -> Choice:
        """The store a login of *profile* uses: ``explicit``, else ``$LOOPAUTH_STORE``, else the profile's own,
        else config.toml's default, else the file (:func:`.choice.choose`). Reads no secret."""
        from .choice import choose

        try:
            existing: str | None = self.where(profile).kind
        except (NotLoggedIn, StoreError):
            existing = None  # a new profile, or one the login will replace
        return choose(explicit, existing, self.root)

    def check_store(self, kind: str, profile: str) -> None:
        """Fail now, before a browser opens, if *profile* could not be stored in ``kind``; writes nothing.

        For the keyring: UsageError without the keyring package, StoreError when there is no usable keyring.
        """
        backend_for(kind, self.path_for(profile), profile).check()

    def set_active(self, profile: str) -> None:
        """Make *profile* the active one: ``<config dir>/active``, written as a profile is (atomic, 0600).

        It does not check that the profile exists; ``loopauth switch`` does.
        """
        set_active_file(self.root, profile, lock_timeout=self._lock_timeout)

    def clear_active(self) -> bool:
        """Remove ``<config dir>/active`` (commands then use ``default``); True if there was one."""
        return clear_active_file(self.root, lock_timeout=self._lock_timeout)

    def update_config_file(self, name: str, change: Callable[[bytes | None], bytes], *, what: str) -> None:
        """Replace ``<config dir>/<name>`` with ``change(its bytes, or None)``, as ``active`` is written (atomic,
        0600), under ``.<name>.lock`` from the read to the write so no update is lost."""
        update_config_file_at(self.root, name, change, what=what, lock_timeout=self._lock_timeout)

    def check_writable(self, profile: str | None = None) -> None:
        """Fail now, before a browser opens, if a login could not be saved here (as ``profile``, when given).

        The probe writes :data:`PROBE_SIZE` bytes, so a full disk or a quota is found now rather than
        after the user has approved the login.
        """
        directory = self._open_profiles(create=True)
        where_fd, where = directory, self.profiles_dir
        try:
            if profile is not None:
                where_fd, where, _ = write_target(directory, self.path_for(profile))
            probe = f".probe-{os.urandom(TMP_RAND_BYTES).hex()}{TMP_SUFFIX}"
            try:
                fd = os.open(probe, NEW_FILE_FLAGS, FILE_MODE, dir_fd=where_fd)
            except OSError as exc:
                raise StoreError(f"cannot write to credential directory {where}: {os_reason(exc)}", path=where) from exc
            try:
                try:
                    write_all(fd, bytes(PROBE_SIZE))
                finally:
                    os.close(fd)
            except OSError as exc:
                with contextlib.suppress(OSError):
                    os.unlink(probe, dir_fd=where_fd)
                raise StoreError(f"cannot write to credential directory {where}: {os_reason(exc)}", path=where) from exc
            try:
                os.unlink(probe, dir_fd=where_fd)
            except OSError as exc:
                raise StoreError(
                    f"cannot remove files in credential directory {where}: {os_reason(exc)}", path=where
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
            ensure_dir(root)
        try:
            root_fd = open_trusted_dir(root, "config directory")
        except OSError as exc:
            if isinstance(exc, FileNotFoundError) and not create:
                raise
            raise StoreError(f"cannot use config directory {root}: {os_reason(exc)}", path=root) from exc
        directory = self.profiles_dir
        try:
            if create:
                make_dir_at(root_fd, "profiles", directory)
            try:
                return open_trusted_dir(directory, "credential directory", dir_fd=root_fd)
            except OSError as exc:
                if isinstance(exc, FileNotFoundError) and not create:
                    raise
                raise StoreError(
                    f"cannot use credential directory {directory}: {os_reason(exc)}", path=directory
                ) from exc
        finally:
            os.close(root_fd)

    def _names_at(self, directory: int) -> list[str]:
        try:
            with os.scandir(directory) as it:
                return sorted(
                    entry.name[: -len(".json")]
                    for entry in it
                    if entry.name.endswith(".json") and PROFILE_RE.fullmatch(entry.name[: -len(".json")])
                )
        except OSError as exc:
            raise StoreError(
                f"cannot list credential directory {self.profiles_dir}: {os_reason(exc)}", path=self.profiles_dir
            ) from exc

    def _read_object(self, directory: int, profile: str, path: Path) -> dict[str, Any]:
        """The JSON object in *profile*'s file; NotLoggedIn when there is none, StoreError when it is unusable."""
        try:
            raw = read_at(directory, path.name, path, "credential file")
        except FileNotFoundError:
            # Also a dangling symlink: nothing stored.
            raise not_logged_in(profile) from None
        except OSError as exc:
            raise corrupt(path, os_reason(exc)) from exc
        return parse(path, raw)

    def _peek_at(self, directory: int, profile: str, path: Path) -> _Loaded:
        """Where *profile* is stored, from its file alone (no credentials)."""
        backend, entry = backend_of(path, self._read_object(directory, profile, path), profile)
        return _Loaded(None, backend.kind, entry)

    def _load_at(
        self, directory: int, profile: str, path: Path, *, locked: bool = False, backend: Backend | None = None
    ) -> _Loaded:
        """*profile*'s credentials and where they are; ``locked`` when the caller holds the profile's lock.
        ``backend`` is the holder's own, for the profile's store (so a keyring is opened once per holder)."""
        data = self._read_object(directory, profile, path)
        found, entry = backend_of(path, data, profile)
        if backend is None or backend.kind != found.kind:
            backend = found
        whole = backend.whole(data, entry, final=locked)
        if whole is None:
            # A save may have replaced the keyring entry between our two reads: it writes a new entry, renames the
            # file that names it, then deletes ours, all under the profile's lock. Wait for it and read again.
            with self._locked(directory, profile):
                return self._load_at(directory, profile, path, locked=True, backend=backend)
        return _Loaded(whole_credentials(path, whole, profile), backend.kind, entry)

    def _delete_entry(self, directory: int, profile: str, path: Path) -> None:
        """Delete a keyring profile's entry (with its lock held), before its file: StoreError when it cannot be."""
        try:
            loaded = self._peek_at(directory, profile, path)
        except (NotLoggedIn, StoreError):
            return  # gone, or a file that names no entry we could find: only the file is removed
        try:
            backend_for(loaded.kind, path, profile).delete(loaded.entry)
        except StoreError as exc:
            raise StoreError(
                f"{exc.message}; nothing was deleted (to forget profile '{profile}' anyway, remove {path})", path=path
            ) from exc

    def _default_kind(self) -> str:
        from .choice import configured

        return configured(self.root).kind

    @contextlib.contextmanager
    def _locked(self, directory: int, profile: str, *, timeout: float | None = None) -> Iterator[None]:
        """Hold *profile*'s lock (``.<profile>.lock`` in ``directory``) for the block, waiting up to ``timeout``
        (default: the store's lock_timeout)."""
        lockpath = self.profiles_dir / lock_name(profile)
        with locked(directory, lockpath, f"profile '{profile}'", self._lock_timeout if timeout is None else timeout):
            yield


class Held:
    """A profile whose lock is held (:meth:`CredentialStore.holding`): read and replace it without re-locking."""

    def __init__(self, store: CredentialStore, directory: int, profile: str) -> None:
        self.store = store
        self.profile = profile
        self.path = store.path_for(profile)
        self._directory = directory
        self._stored: _Loaded | None = None
        """Where the profile is now, once this holder has read or written it."""
        self._backends: dict[str, Backend] = {}

    def load(self) -> AnyCredentials:
        loaded = self._current_load()
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
        if old is not None and old.entry != entry:
            # Nothing reads the old entry any more: the file names the new one (or holds the secrets itself). A
            # keyring that fails now leaves it behind, unread; the save has happened and stands.
            self._backend(old.kind).discard(old.entry)
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
        for kind in (to, old.kind):
            self._backend(kind).open()  # usable (a keyring unlocked) before anything is written, or nothing is
        try:
            raw = read_at(self._directory, self.path.name, self.path, "credential file")
        except OSError as exc:
            raise corrupt(self.path, os_reason(exc)) from exc
        entry = self._put(creds, to, verify=True)
        try:
            again = self._current_load().credentials
            if again != creds:
                raise StoreError(
                    f"profile '{self.profile}' read back from the {to} store is not what was written there",
                    path=self.path,
                )
        except BaseException:
            # Put the old file back (it still names the old entry, untouched), and drop the new entry.
            with contextlib.suppress(StoreError):
                write_atomic(self._directory, self.path, raw)
            self._backend(to).discard(entry)
            self._stored = old
            raise
        after = Location(self.profile, to, self.path, entry)
        try:
            self._backend(old.kind).delete(old.entry)
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
        entry = self._backend(kind).put(self._directory, creds.to_dict(), verify=verify)
        self._stored = _Loaded(creds, kind, entry)
        return entry

    def _current_load(self) -> _Loaded:
        backend = self._backends.get(self._stored.kind) if self._stored is not None else None
        return self.store._load_at(self._directory, self.profile, self.path, locked=True, backend=backend)

    def _current(self) -> _Loaded | None:
        """Where the profile is stored now (from its file, if this holder has not read it yet); None if nowhere."""
        if self._stored is None:
            try:
                self._stored = self.store._peek_at(self._directory, self.profile, self.path)
            except (NotLoggedIn, StoreError):
                return None  # nothing there, or a file the save replaces whole
        return self._stored

    def _backend(self, kind: str) -> Backend:
        """This holder's backend for store ``kind``: one per store, so a keyring is opened once."""
        if kind not in self._backends:
            self._backends[kind] = backend_for(kind, self.path, self.profile)
        return self._backends[kind]


def backend_for(kind: str, path: Path, profile: str) -> Backend:
    """The backend of store ``kind`` for *profile*'s file at ``path``: the one place that chooses by store (the
    keyring's is imported only for a profile that uses it)."""
    if kind == KEYRING:
        from .keyring import KeyringBackend

        return KeyringBackend(path, profile)
    return FileBackend(path, profile)


def backend_of(path: Path, data: dict[str, Any], profile: str) -> tuple[Backend, str | None]:
    """The backend a profile file's ``data`` records, and the keyring entry it names; StoreError for another."""
    kind = data.get("store", FILE)
    if kind not in STORES:
        raise corrupt(path, f"unknown store {str(kind)[:20]!r}")
    backend = backend_for(str(kind), path, profile)
    return backend, backend.entry_of(data)


def claim_active(store: CredentialStore, profile: str) -> str | None:
    """After a login (or ``add``) saved ``profile``: make it active when there is no usable active profile yet.

    That is the first login, or one after the active profile was deleted by hand. An active profile that
    exists stays so: a login of another account must not re-point every tool that uses the default; the
    note returned says how to switch. Returns a line for stderr, or None.
    """
    switched = store.switched()
    current = switched or DEFAULT_PROFILE
    names = store.names()
    if current in names and not (switched is None and current == profile):
        if current == profile:
            return None
        return (
            f"loopauth: note: the active profile is still '{current}'; `loopauth switch {profile}` makes "
            f"'{profile}' the default"
        )
    try:
        store.set_active(profile)
    except StoreError as exc:
        # The login itself is saved: that is what the exit status reports.
        return f"loopauth: warning: {exc.message}; profile '{profile}' is saved, but not made the active one"
    if switched is None and profile == DEFAULT_PROFILE:
        return None  # the first login, as 'default': what a command without --profile used anyway
    return f"Active profile: '{profile}' (the default of every command's --profile; `loopauth switch` changes it)"
