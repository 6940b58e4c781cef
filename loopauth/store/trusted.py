"""Files nobody else controls: trust checks on open descriptors, bounded reads, atomic 0600 writes, 0700 dirs.

Trust, as ssh's StrictModes: the config directory and ``profiles/`` (and the directory a symlinked
profile leads to) must belong to this user or root and be writable by nobody else, and so must the
files read from them. Otherwise another user could plant a profile or a ``providers.toml``, or swap a
file for a symlink to one of ours so that a save overwrites it or a logout deletes it. Every check
is made on an open descriptor (``fstat``), and everything below the checked directory is opened
relative to that descriptor (``openat``), so nothing can be swapped between the check and the use.
A group-writable directory or file passes only when the group is the owner's own private group
(the user-private-group scheme behind umask 002 on Debian and Ubuntu).

:func:`read_trusted_file` is also how ``providers.toml`` and ``config.toml`` are read.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from pathlib import Path

from ..errors import StoreError

MAX_FILE = 1 << 20
"""The largest profile or ``providers.toml`` read: both are a few hundred bytes; a bigger one is not ours."""
DIR_MODE = 0o700
FILE_MODE = 0o600
TMP_SUFFIX = ".tmp"
TMP_RAND_BYTES = 6
DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC
# O_EXCL + 0600 means the secrets are never readable by others, not even for an instant,
# and O_NOFOLLOW means nobody can pre-plant a symlink under a temp name.
NEW_FILE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC | os.O_NOFOLLOW


def open_trusted_dir(path: Path, what: str, *, dir_fd: int | None = None) -> int:
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
    fd = os.open(path if dir_fd is None else path.name, DIR_FLAGS, dir_fd=dir_fd)
    try:
        check_trusted(path, os.fstat(fd), what)
    except BaseException:
        os.close(fd)
        raise
    return fd


def check_trusted(path: Path, st: os.stat_result, what: str) -> None:
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
    directory = open_trusted_dir(path.parent, "config directory")
    try:
        return read_at(directory, path.name, path, what, limit=limit)
    finally:
        os.close(directory)


def read_at(directory: int, name: str, path: Path, what: str, *, limit: int = MAX_FILE) -> bytes:
    """Read ``name`` under ``directory`` (following a symlink); OSError if missing, unreadable, odd or too big."""
    # O_NONBLOCK so that a FIFO in place of the file cannot hang every tool that reads it.
    fd = os.open(name, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=directory)
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR))
        if not stat.S_ISREG(st.st_mode):
            raise OSError(errno.EINVAL, "not a regular file")
        check_trusted(path, st, what)
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


def ensure_dir(path: Path) -> None:
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
            os.mkdir(directory, DIR_MODE)
        except FileExistsError:
            if os.path.isdir(directory):
                continue  # another loopauth created it between our check and mkdir; not ours to chmod
            raise _in_the_way(directory) from None
        except OSError as exc:
            raise StoreError(
                f"cannot create credential directory {directory}: {os_reason(exc)}", path=directory
            ) from exc
        try:
            # mkdir's mode is filtered through the umask (0o277 would leave us 0500, unwritable);
            # set it exactly, but only on directories we just made.
            os.chmod(directory, DIR_MODE)
        except OSError as exc:
            raise StoreError(
                f"cannot set permissions on credential directory {directory}: {os_reason(exc)}", path=directory
            ) from exc


def make_dir_at(parent: int, name: str, path: Path) -> None:
    """Create directory ``name`` under the (checked) ``parent`` descriptor, 0700, unless it exists."""
    try:
        os.mkdir(name, DIR_MODE, dir_fd=parent)
    except FileExistsError:
        return  # a directory (checked when opened), or whatever is in the way (reported then)
    except OSError as exc:
        raise StoreError(f"cannot create credential directory {path}: {os_reason(exc)}", path=path) from exc
    try:
        fd = os.open(name, DIR_FLAGS | os.O_NOFOLLOW, dir_fd=parent)
        try:
            os.fchmod(fd, DIR_MODE)  # exactly 0700, whatever the umask, and only on what we just made
        finally:
            os.close(fd)
    except OSError as exc:
        raise StoreError(f"cannot set permissions on credential directory {path}: {os_reason(exc)}", path=path) from exc


def write_target(directory: int, path: Path) -> tuple[int, Path, str]:
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
        raise StoreError(f"cannot use credential file {path}: {os_reason(exc)}", path=path) from exc
    if not stat.S_ISLNK(st.st_mode):
        return directory, path.parent, path.name
    if st.st_uid not in (os.geteuid(), 0):
        raise StoreError(
            f"credential file {path} is a symlink that belongs to uid {st.st_uid}, not to you: refusing to follow it",
            path=path,
        )
    target = Path(os.path.realpath(path))
    try:
        fd = open_trusted_dir(target.parent, "directory of the credential file")
    except OSError as exc:
        raise StoreError(f"cannot save credentials to {path} (-> {target}): {os_reason(exc)}", path=path) from exc
    return fd, target.parent, target.name


def write_atomic(directory: int, path: Path, data: bytes, *, what: str = "credentials") -> None:
    """Replace the profile ``path`` (an entry of ``directory``, or the file its symlink names) with *data*, 0600.

    Readers see the old file or the new one, never a mix; on failure the old file is untouched and
    no temp file is left. OSError becomes StoreError; anything else (KeyboardInterrupt included)
    is re-raised after the clean-up.
    """
    # Writing to a symlink's target keeps a symlinked profile file a symlink; the temp file must
    # live next to the target because os.replace is only atomic within one filesystem.
    where_fd, where, name = write_target(directory, path)
    shown = str(path) if where == path.parent else f"{path} (-> {where / name})"
    tmp = f".{name}.{os.urandom(TMP_RAND_BYTES).hex()}{TMP_SUFFIX}"
    fd = -1
    created = False
    replaced = False
    try:
        _remove_stale_temps(where_fd, name)
        fd = os.open(tmp, NEW_FILE_FLAGS, FILE_MODE, dir_fd=where_fd)
        created = True
        # The umask can only remove bits from the open() mode; fchmod makes it exactly 0600.
        os.fchmod(fd, FILE_MODE)
        write_all(fd, data)
        # Raw os.write has no user-space buffer to flush; fsync puts the bytes on disk before the
        # rename makes them visible, so a crash cannot leave an empty file under the real name.
        os.fsync(fd)
        os.close(fd)
        fd = -1
        os.replace(tmp, name, src_dir_fd=where_fd, dst_dir_fd=where_fd)
        replaced = True
        fsync_dir(where_fd)
    except BaseException as exc:
        if fd >= 0:
            with contextlib.suppress(OSError):
                os.close(fd)
        if created and not replaced:
            with contextlib.suppress(OSError):
                os.unlink(tmp, dir_fd=where_fd)
        if isinstance(exc, OSError):
            raise StoreError(f"cannot save {what} to {shown}: {os_reason(exc)}", path=path) from exc
        raise
    finally:
        if where_fd != directory:
            os.close(where_fd)


def write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _remove_stale_temps(directory: int, target_name: str) -> None:
    """Remove temp files a killed writer left for *target_name* (we hold its lock, so none is live)."""
    prefix = f".{target_name}."
    expected_len = len(prefix) + 2 * TMP_RAND_BYTES + len(TMP_SUFFIX)
    # Best effort: a leftover only wastes space (it is 0600), so a failure here must not stop the save.
    with contextlib.suppress(OSError), os.scandir(directory) as it:
        for entry in it:
            name = entry.name
            if len(name) == expected_len and name.startswith(prefix) and name.endswith(TMP_SUFFIX):
                with contextlib.suppress(OSError):
                    os.unlink(name, dir_fd=directory)


def fsync_dir(directory: int) -> None:
    """Make a rename or unlink in *directory* durable."""
    # Best effort: the rename has already happened and is visible, so failing the save now would
    # be wrong, and some filesystems refuse fsync on directories (EINVAL).
    with contextlib.suppress(OSError):
        os.fsync(directory)


def exists_at(directory: int, name: str) -> bool:
    try:
        os.stat(name, dir_fd=directory, follow_symlinks=False)
    except FileNotFoundError:
        return False
    return True


def still_at(fd: int, directory: int, name: str) -> bool:
    """Whether ``name`` in ``directory`` still is the file open as ``fd`` (not removed or replaced meanwhile)."""
    held = os.fstat(fd)
    try:
        now = os.stat(name, dir_fd=directory, follow_symlinks=False)
    except FileNotFoundError:
        return False
    return (held.st_dev, held.st_ino) == (now.st_dev, now.st_ino)


def _in_the_way(directory: Path) -> StoreError:
    return StoreError(
        f"cannot create credential directory {directory}: something that is not a directory is in the way",
        path=directory,
    )


def os_reason(exc: OSError) -> str:
    # strerror alone ("Permission denied"): the message already names the path.
    return exc.strerror or type(exc).__name__
