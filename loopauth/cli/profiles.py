"""The stored profiles: ``token`` (through argparse, when the fast path declined), ``list``, ``move``, ``logout``,
``path``."""

from __future__ import annotations

import argparse
import os
import sys
from typing import NamedTuple  # not dataclasses: its import (inspect) cost every run ~10 ms

from ..errors import EXIT_OK, NotLoggedIn, ProviderError, StoreError, UsageError
from ..models import PROTOCOL_LABELS
from ..store import FILE, KEYRING, CredentialStore
from ..store.keyring import backend_name
from ..text import clean
from .output import print_json, print_table
from .token import print_token

UNREADABLE = "(unreadable)"
"""What `list` shows for a profile file it cannot read; the reason is in `list --json` and `token`."""


class TokenCommand(NamedTuple):
    profile: str | None
    json_out: bool
    field: str | None
    prefix: str

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> TokenCommand:
        return cls(args.profile, args.json, args.field, args.prefix)

    def run(self) -> int:
        return print_token(self.profile, json_out=self.json_out, field=self.field, prefix=self.prefix)


class ListCommand(NamedTuple):
    json_out: bool

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> ListCommand:
        return cls(args.json)

    def run(self) -> int:
        store = CredentialStore()
        entries = store.profiles()
        active = store.active()
        if self.json_out:
            print_json(
                [
                    {**e.public, "store": e.store, "path": str(e.path), "active": e.name == active}
                    if e.public is not None
                    else {"profile": e.name, "path": str(e.path), "active": e.name == active, "error": e.error}
                    for e in entries
                ]
            )
            return EXIT_OK
        if not entries:
            print(
                f"No profiles yet (credentials would be stored in {store.root}). Log in with: loopauth login",
                file=sys.stderr,
            )
            return EXIT_OK
        rows = [("PROFILE", "PROVIDER", "PROTOCOL", "ACCOUNT", "USER ID", "CREATED", "STORE")]
        for e in entries:
            c = e.public
            # The active profile is starred after its name (as `docker context ls` does), so each row still starts
            # with the name.
            name = f"{e.name} *" if e.name == active else e.name
            if c is None:
                # The reason is a sentence with a path in it: too long for a column; see the note below.
                rows.append((name, "-", "-", UNREADABLE, "-", "-", "-"))
                continue
            account = f"@{clean(c['screen_name'])}" if c.get("screen_name") else "-"
            if c.get("needs_login"):
                account += " (needs login)"
            protocol = PROTOCOL_LABELS[c.get("protocol", "oauth1")]
            created = clean(c.get("created_at") or "-")
            user_id = clean(c.get("user_id") or "-")
            rows.append((name, clean(c["provider"]), protocol, account, user_id, created, e.store or "-"))
        print_table(rows)
        if active in {e.name for e in entries}:
            print("* marks the active profile (`loopauth switch NAME` changes it)", file=sys.stderr)
        else:
            print(
                f"None is active: the active profile, '{active}', does not exist (`loopauth switch NAME` picks one)",
                file=sys.stderr,
            )
        kinds = {e.store for e in entries}
        if KEYRING in kinds:
            print(
                f"keyring: the secrets are in the OS keyring ({backend_name()}), the rest in {store.root}",
                file=sys.stderr,
            )
        if FILE in kinds or None in kinds:
            print(
                f"{'file: s' if KEYRING in kinds else 'S'}tored unencrypted (mode 0600) in {store.root}",
                file=sys.stderr,
            )
        broken = [e.name for e in entries if e.public is None]
        if broken:
            example = f"loopauth token --profile {broken[0]}"
            print(
                f"Unreadable: {', '.join(broken)}. Why: `{example}` or `loopauth list --json`; "
                "log in again to replace one.",
                file=sys.stderr,
            )
        return EXIT_OK


class LogoutCommand(NamedTuple):
    profile: str | None
    revoke: bool
    force: bool

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> LogoutCommand:
        if args.force and not args.revoke:
            raise UsageError("--force only applies with --revoke")
        return cls(args.profile, args.revoke, args.force)

    def run(self) -> int:
        from .switch import hand_over

        store = CredentialStore()
        profile = store.resolve(self.profile)
        if self.revoke:
            self._revoke(store, profile)
        path = store.path_for(profile)
        target = os.path.realpath(path) if os.path.islink(path) else None
        try:
            kind = store.where(profile).kind
        except StoreError:
            kind = FILE  # an unreadable file is deleted as it is
        except NotLoggedIn:
            kind = None
        if kind is None or not store.delete(profile):
            raise NotLoggedIn(f"not logged in: no profile '{profile}'", profile=profile)
        also = f" and its secrets in the OS keyring ({backend_name()})" if kind == KEYRING else ""
        print(f"Logged out: deleted profile '{profile}'{also}", file=sys.stderr)
        if target is not None and os.path.lexists(target):
            # Only the link goes: the file it named may be anything, so deleting it is the user's call.
            print(f"It was a symlink; the file it pointed to is still there: {target}", file=sys.stderr)
        handed = hand_over(store, profile)
        if handed:
            print(handed, file=sys.stderr)
        return EXIT_OK

    def _revoke(self, store: CredentialStore, profile: str) -> None:
        from ..calls import revoke

        creds = store.load(profile)
        try:
            revoke(creds)
        except ProviderError as exc:
            if not self.force:
                from .errors import demo_not_running

                # The token may still work at the provider: keeping the profile lets the user retry
                # instead of losing the only copy of a token they wanted dead.
                demo = demo_not_running(exc, creds)
                raise ProviderError(
                    f"{exc.message}; kept profile '{creds.profile}' (retry, or add --force to delete it anyway)"
                    + (f"; {demo}" if demo else ""),
                    status=exc.status,
                    body=exc.body,
                ) from None
            print(
                f"loopauth: warning: {exc.message}; deleting the profile anyway (--force): the token may still be "
                f"valid, so revoke the app's access in {creds.provider}'s settings",
                file=sys.stderr,
            )
        else:
            print(f"Revoked the token at {creds.provider}", file=sys.stderr)


class MoveCommand(NamedTuple):
    profile: str | None
    to: str

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> MoveCommand:
        return cls(args.profile, args.to)

    def run(self) -> int:
        store = CredentialStore()
        profile = store.resolve(self.profile)
        before, after = store.move(profile, self.to)
        if before == after:
            print(f"Profile '{profile}' is already in the {self.to} store: {after.describe()}", file=sys.stderr)
            return EXIT_OK
        print(f"Moved profile '{profile}' to the {after.kind} store: {after.describe()}", file=sys.stderr)
        if after.kind == FILE:
            print(f"Deleted its entry '{before.entry}' from the OS keyring", file=sys.stderr)
        return EXIT_OK


class PathCommand(NamedTuple):
    @classmethod
    def from_args(cls, args: argparse.Namespace) -> PathCommand:
        return cls()

    def run(self) -> int:
        print(CredentialStore().root)
        return EXIT_OK
