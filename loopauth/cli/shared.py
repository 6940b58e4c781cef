"""What several commands share: a consumer secret from its file, whether we may prompt, the profile a command
replaces and the note that says so."""

from __future__ import annotations

import argparse
import os

from ..errors import NotLoggedIn, StoreError, UsageError
from ..models import AnyCredentials
from ..store import CredentialStore
from ..text import account_name, clean

MAX_SECRET_FILE = 64 * 1024


def consumer_secret(args: argparse.Namespace) -> str | None:
    """--consumer-secret, else the first line of --consumer-secret-file (the environment comes later, after a
    stored profile's own secret)."""
    if args.consumer_secret is not None:
        return str(args.consumer_secret)
    if args.consumer_secret_file is None:
        return None
    path = args.consumer_secret_file
    try:
        with open(path, "rb") as f:
            raw = f.read(MAX_SECRET_FILE + 1)
    except OSError as exc:
        raise UsageError(f"--consumer-secret-file {path}: cannot read: {exc.strerror or exc}") from None
    lines = raw.decode("utf-8", "replace").splitlines()
    if len(raw) > MAX_SECRET_FILE or not lines or not lines[0].strip():
        raise UsageError(f"--consumer-secret-file {path}: expected the secret on its first line")
    return lines[0].strip()


def foreground_terminal() -> bool:
    """Whether stdin is a terminal we may prompt on: `loopauth login &` would be stopped (SIGTTOU) instead."""
    if not os.isatty(0):
        return False
    try:
        return os.tcgetpgrp(0) == os.getpgrp()
    except OSError:
        return True  # not our controlling terminal, so prompting on it cannot stop us


def stored_profile(store: CredentialStore, profile: str) -> AnyCredentials | None:
    """The profile a login would replace, if one is there and readable (a corrupt one is simply replaced)."""
    try:
        return store.load(profile)
    except (NotLoggedIn, StoreError):
        return None


def replaced_note(old: AnyCredentials, new: AnyCredentials) -> str | None:
    """One line when a login replaced a profile that held another provider or another account."""
    same_provider = old.provider == new.provider
    same_account = (old.user_id or old.screen_name) == (new.user_id or new.screen_name)
    if same_provider and same_account:
        return None
    was = f"{account_name(old.screen_name, old.user_id)} on {clean(old.provider)}"
    now = f"{account_name(new.screen_name, new.user_id)} on {clean(new.provider)}"
    return f"loopauth: note: profile '{new.profile}' held {was}; it now holds {now}"


def first(*values: str | None) -> str | None:
    """The first value that is given (an empty string is given)."""
    return next((v for v in values if v is not None), None)
