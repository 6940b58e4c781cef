"""Logging out leaves no ``.NAME.lock`` behind, and removing it never lets two writers hold "the" lock at once."""

from __future__ import annotations

import os
import threading
from pathlib import Path

from loopauth.store import CredentialStore

from .conftest import Cli, oauth1
from .test_store import hold_lock, make_creds


def _open_count(path: Path) -> int:
    """How many descriptors of this process have ``path`` open (Linux's /proc)."""
    count = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            if os.readlink(f"/proc/self/fd/{fd}") in (str(path), f"{path} (deleted)"):
                count += 1
        except OSError:
            continue
    return count


def test_logout_removes_the_lock_file_with_the_profile(config_dir: Path, cli: Cli) -> None:
    """After `logout`, the profiles directory holds neither the profile nor its lock file."""
    CredentialStore().save(make_creds())
    assert (config_dir / "profiles" / ".work.lock").exists()
    assert cli("logout", "--profile", "work").returncode == 0
    assert sorted(os.listdir(config_dir / "profiles")) == []


def test_a_writer_waiting_on_a_removed_lock_file_locks_the_new_one(config_dir: Path) -> None:
    """A save that was waiting while a logout removed the lock file does not trust the removed file's
    lock: it locks the file now at the path (creating it), so the next writer waits for it."""
    store = CredentialStore()
    lockpath = config_dir / "profiles" / ".work.lock"
    held = hold_lock(config_dir, "work")  # the logout, holding the lock
    saver = threading.Thread(target=store.save, args=(make_creds(n=2),))
    saver.start()
    try:
        # Wait (not for a time: for the fact) until the saver has the lock file open and is polling for it.
        while _open_count(lockpath) < 2:
            saver.join(0.01)
        os.unlink(lockpath)  # what delete() does while it holds the lock
    finally:
        os.close(held)
    saver.join()
    assert oauth1(store.load("work")).oauth_token == "tok-2"
    # Locking the removed file would have saved without recreating the path.
    assert lockpath.exists()
