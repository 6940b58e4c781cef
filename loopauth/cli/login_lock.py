"""One login per profile at a time: a second ``login`` (or ``demo``) of a profile that is being logged in fails at once.

Without it both would finish and the last to save would silently win, with the first user's approval thrown
away. The lock is an exclusive ``flock`` on ``profiles/.<profile>.login``, held from the checks that come
before the browser opens until the login has saved. The kernel drops it when its descriptor closes: at the
end of the block, or when the process dies however it dies, so a crashed login never blocks the next. The descriptor is
close-on-exec, so a browser the login started cannot keep holding it. A login removes the file when it ends;
one a killed login left behind locks nothing.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
from collections.abc import Iterator

from ..errors import LocalError, StoreError
from ..store import CredentialStore, validate_profile_name


def lock_path(store: CredentialStore, profile: str) -> str:
    return str(store.profiles_dir / f".{validate_profile_name(profile)}.login")


@contextlib.contextmanager
def login_lock(store: CredentialStore, profile: str) -> Iterator[None]:
    """Hold ``profile``'s login lock for the block; LocalError (exit 6, as a busy port) at once if another login
    holds it."""
    path = lock_path(store, profile)
    fd = _acquire(store, profile, path)
    try:
        yield
    finally:
        # Removed while still held, so a finished login leaves nothing behind; a login that opened this file
        # meanwhile notices it is gone once it holds it (see _acquire).
        with contextlib.suppress(OSError):
            os.unlink(path)
        os.close(fd)


def _acquire(store: CredentialStore, profile: str, path: str) -> int:
    for _ in range(_TRIES):
        try:
            fd = _open(path)
        except FileNotFoundError:
            store.check_writable(profile)  # makes profiles/ as a save would (0700, checked), or says why it cannot
            continue
        except OSError as exc:
            raise StoreError(f"cannot use lock file {path}: {exc.strerror or exc}", path=store.profiles_dir) from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            os.close(fd)
            if exc.errno not in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise StoreError(f"cannot lock {path}: {exc.strerror or exc}", path=store.profiles_dir) from exc
            raise LocalError(
                f"another login for profile '{profile}' is running; finish or stop it (Ctrl-C) first"
            ) from None
        if _still_at(fd, path):
            return fd
        os.close(fd)  # the login that held it finished and removed it: lock the path's new file
    raise StoreError(f"cannot lock {path}: it keeps being replaced", path=store.profiles_dir)


_TRIES = 5


def _still_at(fd: int, path: str) -> bool:
    try:
        here = os.stat(path, follow_symlinks=False)
    except OSError:
        return False
    held = os.fstat(fd)
    return (here.st_dev, here.st_ino) == (held.st_dev, held.st_ino)


def _open(path: str) -> int:
    # O_NOFOLLOW: a symlink planted in place of the lock must not make us create the file it names.
    return os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, 0o600)
