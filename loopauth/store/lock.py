"""The one place that locks: an exclusive ``flock`` on a lock file beside what it guards, with a deadline.

Each profile has ``profiles/.<profile>.lock``, held around every save, delete and OAuth 2.0 refresh; the
config directory has ``.active.lock``, held around each write of ``active``.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import os
import time
from collections.abc import Iterator
from pathlib import Path

from ..errors import StoreError
from .trusted import FILE_MODE, os_reason, still_at

LOCK_TIMEOUT = 5.0
"""How long a command waits for a peer that holds a profile's lock, unless told otherwise."""
_LOCK_POLL = 0.05


def lock_name(profile: str) -> str:
    """The lock file of *profile*, an entry of ``profiles/``."""
    return f".{profile}.lock"


@contextlib.contextmanager
def locked(directory: int, lockpath: Path, what: str, timeout: float) -> Iterator[None]:
    """Hold an exclusive flock on ``lockpath`` (an entry of ``directory``) for the block, waiting up to ``timeout``
    seconds; ``what`` names what it guards in messages.

    A logout removes a profile's lock file while holding it. A waiter may then get the flock of that removed
    file, which locks nothing anybody else will look at: so once locked, the file at the path must still be the
    one we hold, or we start over with the file that is there now.
    """
    deadline = time.monotonic() + timeout
    while True:
        fd = _open_lock(directory, lockpath)
        try:
            _lock(fd, lockpath, what, deadline)
            if still_at(fd, directory, lockpath.name):
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


def _open_lock(directory: int, lockpath: Path) -> int:
    try:
        # O_NOFOLLOW: a symlink in place of the lock must not make us create or chmod the file it names.
        fd = os.open(lockpath.name, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, FILE_MODE, dir_fd=directory)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise StoreError(f"cannot use lock file {lockpath}: it is a symlink", path=lockpath) from exc
        # Read-only or foreign directory: report it once and stop (no retry loop).
        raise StoreError(
            f"cannot write to credential directory {lockpath.parent}: {os_reason(exc)}", path=lockpath.parent
        ) from exc
    try:
        # The umask may have narrowed 0600 (to 0400 under umask 277, say), which would make
        # the next opener's O_RDWR fail; the file is ours and in our own checked directory.
        os.fchmod(fd, FILE_MODE)
    except OSError as exc:
        os.close(fd)
        raise StoreError(f"cannot use lock file {lockpath}: {os_reason(exc)}", path=lockpath) from exc
    return fd


def _lock(fd: int, lockpath: Path, what: str, deadline: float) -> None:
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
            raise StoreError(f"cannot lock {lockpath}: {os_reason(exc)}", path=lockpath) from exc
