"""Credential files: one JSON file per profile under ``<config dir>/profiles``.

Layout::

    <config dir>/                  0700 when we create it ($LOOPAUTH_CONFIG_DIR or the platform's)
        profiles/                  0700 when we create it
            <profile>.json         0600, replaced atomically on every save
            .<profile>.lock        0600, flock()ed around each save/delete; removed with the profile

The files are plaintext JSON: anyone who can read them as this user has the
tokens. The modes, the atomic replace and the lock only make sure nobody
*else* can read them and that a crash or a second loopauth never leaves half
a file behind.

``load()`` runs at the start of every tool that uses a stored login, so this
module imports only cheap standard-library modules: no tempfile, secrets,
asyncio, aiohttp or oauthlib, and platformdirs only when it is needed.
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
from loopauth.models import AnyCredentials, _Value, credentials_from_dict

ENV_CONFIG_DIR = "LOOPAUTH_CONFIG_DIR"
ENV_PROFILE = "LOOPAUTH_PROFILE"
DEFAULT_PROFILE = "default"
_ACTIVE_FILE = "active"
LOCK_TIMEOUT = 5.0
_LOCK_POLL = 0.05
_DIR_MODE = 0o700
_FILE_MODE = 0o600
# A profile name becomes a file name: no separators, no leading dot (which would
# also let it collide with our hidden lock and temp files), nothing empty.
_PROFILE_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_TMP_SUFFIX = ".tmp"
_TMP_RAND_BYTES = 6


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


class ProfileEntry(_Value):
    """One profile file as seen by ``CredentialStore.profiles()``: credentials, or why there are none."""

    _fields = ("name", "path", "credentials", "error")

    name: str
    path: Path
    credentials: AnyCredentials | None
    error: str | None

    def __init__(self, name: str, path: Path, credentials: AnyCredentials | None, error: str | None) -> None:
        self._init(name=name, path=path, credentials=credentials, error=error)


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
        try:
            name = (self.root / _ACTIVE_FILE).read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError):
            return DEFAULT_PROFILE
        return name if _PROFILE_RE.fullmatch(name) else DEFAULT_PROFILE

    def resolve(self, profile: str | None) -> str:
        """``profile`` if one is named, else :meth:`active`."""
        return validate_profile_name(profile) if profile is not None else self.active()

    def path_for(self, profile: str) -> Path:
        """The file that holds *profile*'s credentials (it may not exist)."""
        return self.profiles_dir / f"{validate_profile_name(profile)}.json"

    # -- reading ---------------------------------------------------------------------------------

    def load(self, profile: str) -> AnyCredentials:
        """The stored credentials of *profile*; NotLoggedIn if there are none, StoreError if unusable."""
        path = self.path_for(profile)
        try:
            raw = _read_regular_file(path)
        except FileNotFoundError:
            # Also a dangling symlink, or no profiles directory at all: nothing stored.
            raise NotLoggedIn(
                f"not logged in: no profile '{profile}'",
                profile=profile,
            ) from None
        except OSError as exc:
            raise _corrupt(path, _os_reason(exc)) from exc
        creds = _parse(path, raw)
        # The file name is what the user asked for and where a later save() writes; a file
        # copied or renamed by hand must not send that save to another profile's file.
        if creds.profile != profile:
            creds = creds.replace(profile=profile)
        return creds

    def profiles(self) -> list[ProfileEntry]:
        """Every profile file, sorted by name; an unusable one is listed with its error, not raised."""
        directory = self.profiles_dir
        try:
            with os.scandir(directory) as it:
                names = sorted(
                    entry.name[: -len(".json")]
                    for entry in it
                    if entry.name.endswith(".json") and _PROFILE_RE.fullmatch(entry.name[: -len(".json")])
                )
        except FileNotFoundError:
            return []
        except OSError as exc:
            raise StoreError(
                f"cannot list credential directory {directory}: {_os_reason(exc)}", path=directory
            ) from exc
        entries: list[ProfileEntry] = []
        for name in names:
            path = self.path_for(name)
            try:
                creds = self.load(name)
            except NotLoggedIn:
                continue  # removed since the listing, or a dangling symlink: nothing stored
            except StoreError as exc:
                entries.append(ProfileEntry(name=name, path=path, credentials=None, error=exc.message))
            else:
                entries.append(ProfileEntry(name=name, path=path, credentials=creds, error=None))
        return entries

    # -- writing ---------------------------------------------------------------------------------

    def save(self, creds: AnyCredentials) -> Path:
        """Store *creds* under ``creds.profile``, atomically and 0600; returns the profile's path."""
        profile = validate_profile_name(creds.profile)
        path = self.path_for(profile)
        data = _encode(creds)
        self._ensure_dirs()
        with self._locked(profile):
            _write_atomic(path, data)
        return path

    @contextlib.contextmanager
    def holding(self, profile: str, *, timeout: float | None = None) -> Iterator[Held]:
        """Hold *profile*'s lock for a read-check-write (an OAuth 2.0 refresh): nobody else saves meanwhile.

        ``timeout`` is how long to wait for the lock (default: the store's), for a holder that makes a
        network call while holding it.
        """
        profile = validate_profile_name(profile)
        self._ensure_dirs()
        with self._locked(profile, timeout=timeout):
            yield Held(self, profile)

    def delete(self, profile: str) -> bool:
        """Remove *profile*'s credentials; True if a file was removed."""
        path = self.path_for(profile)
        if not os.path.lexists(path):
            # Nothing to do, so write nothing: no directories, no lock file (works read-only too).
            return False
        with self._locked(profile):
            # Through a symlink, remove the file holding the secrets and keep the link, the same
            # way save() writes through it; a later save() recreates the target.
            target = Path(os.path.realpath(path))
            try:
                os.unlink(target)
            except FileNotFoundError:
                return False
            except OSError as exc:
                raise StoreError(
                    f"cannot remove credential file {_describe(path, target)}: {_os_reason(exc)}", path=path
                ) from exc
            # The lock goes too, while we hold it: a waiter that locks this removed file notices and
            # locks the path's new one instead (see _locked).
            with contextlib.suppress(OSError):
                os.unlink(self._lock_path(profile))
            _fsync_dir(target.parent)
            return True

    def check_writable(self) -> None:
        """Fail now, before a browser opens, if a login could not be saved here."""
        self._ensure_dirs()
        directory = self.profiles_dir
        probe = directory / f".probe-{os.urandom(_TMP_RAND_BYTES).hex()}{_TMP_SUFFIX}"
        try:
            fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC | os.O_NOFOLLOW, _FILE_MODE)
        except OSError as exc:
            raise StoreError(
                f"cannot write to credential directory {directory}: {_os_reason(exc)}", path=directory
            ) from exc
        os.close(fd)
        try:
            os.unlink(probe)
        except OSError as exc:
            raise StoreError(
                f"cannot remove files in credential directory {directory}: {_os_reason(exc)}", path=directory
            ) from exc

    # -- helpers ---------------------------------------------------------------------------------

    def _ensure_dirs(self) -> None:
        _ensure_dir(self.profiles_dir)

    def _lock_path(self, profile: str) -> Path:
        return self.profiles_dir / f".{profile}.lock"

    @contextlib.contextmanager
    def _locked(self, profile: str, *, timeout: float | None = None) -> Iterator[None]:
        """Hold an exclusive flock on ``.<profile>.lock`` for the block, waiting up to ``timeout`` (default:
        the store's lock_timeout).

        delete() removes the lock file while holding it. A waiter may then get the flock of that removed
        file, which locks nothing anybody else will look at: so once locked, the file at the path must
        still be the one we hold, or we start over with the file that is there now.
        """
        directory = self.profiles_dir
        lockpath = self._lock_path(profile)
        deadline = time.monotonic() + (self._lock_timeout if timeout is None else timeout)
        while True:
            try:
                fd = os.open(lockpath, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, _FILE_MODE)
            except OSError as exc:
                # Read-only or foreign directory: report it once and stop (no retry loop).
                raise StoreError(
                    f"cannot write to credential directory {directory}: {_os_reason(exc)}", path=directory
                ) from exc
            try:
                self._lock(fd, lockpath, profile, deadline)
                if _still_at(fd, lockpath):
                    break
            except BaseException:
                os.close(fd)
                raise
            os.close(fd)  # removed by a logout while we waited: lock the path's new file
            if time.monotonic() >= deadline:
                raise StoreError(f"profile '{profile}' is busy: another loopauth is writing it", path=lockpath)
        try:
            yield
        finally:
            # Closing the descriptor releases the flock.
            os.close(fd)

    def _lock(self, fd: int, lockpath: Path, profile: str, deadline: float) -> None:
        try:
            # The umask may have narrowed 0600 (to 0400 under umask 277, say), which would make
            # the next opener's O_RDWR fail; the file is ours and in our own 0700 directory.
            os.fchmod(fd, _FILE_MODE)
        except OSError as exc:
            raise StoreError(f"cannot use lock file {lockpath}: {_os_reason(exc)}", path=lockpath) from exc
        while True:
            try:
                # Non-blocking and polled, so a stuck peer costs at most lock_timeout, and
                # Ctrl-C is handled promptly while we wait.
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise StoreError(
                        f"profile '{profile}' is busy: another loopauth is writing it", path=lockpath
                    ) from None
                time.sleep(_LOCK_POLL)
            except OSError as exc:  # e.g. ENOLCK on a network filesystem
                raise StoreError(f"cannot lock {lockpath}: {_os_reason(exc)}", path=lockpath) from exc


def _still_at(fd: int, path: Path) -> bool:
    """Whether ``path`` still names the file open as ``fd`` (it was not removed or replaced meanwhile)."""
    held = os.fstat(fd)
    try:
        now = os.stat(path)  # followed, as os.open() follows it
    except FileNotFoundError:
        return False
    return (held.st_dev, held.st_ino) == (now.st_dev, now.st_ino)


class Held:
    """A profile whose lock is held (:meth:`CredentialStore.holding`): read and replace it without re-locking."""

    def __init__(self, store: CredentialStore, profile: str) -> None:
        self.store = store
        self.profile = profile

    def load(self) -> AnyCredentials:
        return self.store.load(self.profile)

    def save(self, creds: AnyCredentials) -> Path:
        if creds.profile != self.profile:
            raise ValueError(f"holding profile {self.profile!r}, not {creds.profile!r}")
        path = self.store.path_for(self.profile)
        _write_atomic(path, _encode(creds))
        return path


def _encode(creds: AnyCredentials) -> bytes:
    return (json.dumps(creds.to_dict(), indent=2, sort_keys=True) + "\n").encode("utf-8")


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
            raise StoreError(
                f"cannot create credential directory {directory}: something that is not a directory is in the way",
                path=directory,
            ) from None
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


def _write_atomic(path: Path, data: bytes) -> None:
    """Replace *path* (or, if it is a symlink, the file it resolves to) with *data*, mode 0600.

    Readers see the old file or the new one, never a mix; on failure the old file is untouched and
    no temp file is left. OSError becomes StoreError; anything else (KeyboardInterrupt included)
    is re-raised after the clean-up.
    """
    # Writing to the resolved target keeps a symlinked profile file a symlink; the temp file must
    # live next to the target because os.replace is only atomic within one filesystem.
    target = Path(os.path.realpath(path))
    directory = target.parent
    tmp = directory / f".{target.name}.{os.urandom(_TMP_RAND_BYTES).hex()}{_TMP_SUFFIX}"
    fd = -1
    created = False
    replaced = False
    try:
        _remove_stale_temps(directory, target.name)
        # O_EXCL + 0600 means the secrets are never readable by others, not even for an instant,
        # and O_NOFOLLOW means nobody can pre-plant a symlink under the temp name.
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC | os.O_NOFOLLOW, _FILE_MODE)
        created = True
        # The umask can only remove bits from the open() mode; fchmod makes it exactly 0600.
        os.fchmod(fd, _FILE_MODE)
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]
        # Raw os.write has no user-space buffer to flush; fsync puts the bytes on disk before the
        # rename makes them visible, so a crash cannot leave an empty file under the real name.
        os.fsync(fd)
        os.close(fd)
        fd = -1
        os.replace(tmp, target)
        replaced = True
    except BaseException as exc:
        if fd >= 0:
            with contextlib.suppress(OSError):
                os.close(fd)
        if created and not replaced:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        if isinstance(exc, OSError):
            raise StoreError(
                f"cannot save credentials to {_describe(path, target)}: {_os_reason(exc)}", path=path
            ) from exc
        raise
    _fsync_dir(directory)


def _remove_stale_temps(directory: Path, target_name: str) -> None:
    """Remove temp files a killed writer left for *target_name* (we hold its lock, so none is live)."""
    prefix = f".{target_name}."
    expected_len = len(prefix) + 2 * _TMP_RAND_BYTES + len(_TMP_SUFFIX)
    # Best effort: a leftover only wastes space (it is 0600), so a failure here must not stop the save.
    with contextlib.suppress(OSError), os.scandir(directory) as it:
        for entry in it:
            name = entry.name
            if len(name) == expected_len and name.startswith(prefix) and name.endswith(_TMP_SUFFIX):
                with contextlib.suppress(OSError):
                    os.unlink(entry.path)


def _fsync_dir(directory: Path) -> None:
    """Make a rename or unlink in *directory* durable."""
    # Best effort: the rename has already happened and is visible, so failing the save now would
    # be wrong, and some filesystems refuse fsync on directories (EINVAL).
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _read_regular_file(path: Path) -> bytes:
    """Read *path* (following symlinks); OSError if it is missing, unreadable or not a regular file."""
    # O_NONBLOCK so that a FIFO in place of the file cannot hang every tool that loads credentials.
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR))
        if not stat.S_ISREG(mode):
            raise OSError(errno.EINVAL, "not a regular file")
        chunks: list[bytes] = []
        while chunk := os.read(fd, 65536):
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def _parse(path: Path, raw: bytes) -> AnyCredentials:
    """Credentials from a profile file's bytes, or StoreError saying (without quoting it) what is wrong."""
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
    try:
        return credentials_from_dict(data)
    except ValueError as exc:
        # The models' from_dict ValueError names the field, never its value.
        raise _corrupt(path, str(exc)) from None
    except KeyError as exc:
        raise _corrupt(path, f"missing field {exc.args[0]!r}" if exc.args else "a field is missing") from None
    except TypeError:
        raise _corrupt(path, "a field has the wrong type") from None


def _corrupt(path: Path, reason: str) -> StoreError:
    return StoreError(
        f"credential file {path} is corrupt or unreadable: {reason}; log in again to replace it", path=path
    )


def _describe(path: Path, target: Path) -> str:
    """*path*, plus where it really points when it is (or sits under) a symlink."""
    return str(path) if os.path.abspath(path) == str(target) else f"{path} (-> {target})"


def _os_reason(exc: OSError) -> str:
    # strerror alone ("Permission denied"): the message already names the path.
    return exc.strerror or type(exc).__name__
