"""What several commands share: a consumer or client secret from its file or the terminal, whether we may
prompt, the profile a command replaces and the note that says so."""

from __future__ import annotations

import argparse
import os
import sys

from ..errors import NotLoggedIn, StoreError, UsageError
from ..models import AnyCredentials
from ..store import CredentialStore
from ..text import account_name, clean
from .parser import ASK

MAX_SECRET_FILE = 64 * 1024


def consumer_secret(args: argparse.Namespace) -> str | None:
    """--consumer-secret, else the first line of --consumer-secret-file (the environment comes later, after a
    stored profile's own secret)."""
    return _secret_option(args.consumer_secret, args.consumer_secret_file, "--consumer-secret-file")


def client_secret(args: argparse.Namespace) -> str | None:
    """--client-secret S, or alone (asked for without echo), else the first line of --client-secret-file."""
    if args.client_secret == ASK:
        if not foreground_terminal():
            raise UsageError(
                "--client-secret without a value asks on a terminal, and there is none: "
                "use $LOOPAUTH_CLIENT_SECRET or --client-secret-file FILE"
            )
        import getpass

        try:
            return getpass.getpass("OAuth 2.0 client secret (not shown): ", stream=sys.stderr).strip() or None
        except EOFError:
            return None  # Ctrl-D: no secret, as for a public client
    return _secret_option(args.client_secret, args.client_secret_file, "--client-secret-file")


def _secret_option(value: str | None, path: str | None, flag: str) -> str | None:
    """A secret given as an option's value, else the first line of the file ``flag`` names, else None."""
    if value is not None:
        return str(value)
    if path is None:
        return None
    try:
        with open(path, "rb") as f:
            raw = f.read(MAX_SECRET_FILE + 1)
    except OSError as exc:
        raise UsageError(f"{flag} {path}: cannot read: {exc.strerror or exc}") from None
    lines = raw.decode("utf-8", "replace").splitlines()
    if len(raw) > MAX_SECRET_FILE or not lines or not lines[0].strip():
        raise UsageError(f"{flag} {path}: expected the secret on its first line")
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
