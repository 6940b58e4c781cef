"""The active profile: ``switch``, and what a login or a logout does to it.

The active profile is the default of every command's ``--profile`` (and of ``loopauth.load()``):
``$LOOPAUTH_PROFILE``, else the name in ``<config dir>/active``, else ``default``
(:meth:`loopauth.store.CredentialStore.active`). ``switch`` writes that file; the first login
writes it too (:func:`loopauth.store.claim_active`); logging out of the active profile hands it to another one or
removes it (:func:`hand_over`), so the default never names a profile that is gone.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import NamedTuple  # not dataclasses: its import (inspect) cost every run ~10 ms

from ..errors import EXIT_OK
from ..store import DEFAULT_PROFILE, ENV_PROFILE, CredentialStore
from ..text import account_name, clean


class SwitchCommand(NamedTuple):
    profile: str

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> SwitchCommand:
        return cls(args.profile)

    def run(self) -> int:
        store = CredentialStore()
        # Loaded, not just looked for: switching to a profile no command could use helps nobody (exit 7 or 6).
        creds = store.load(store.resolve(self.profile))
        store.set_active(creds.profile)
        print(
            f"Active profile: '{creds.profile}' ({account_name(creds.screen_name, creds.user_id)} on "
            f"{clean(creds.provider)})",
            file=sys.stderr,
        )
        overridden = _overridden(creds.profile)
        if overridden:
            print(overridden, file=sys.stderr)
        return EXIT_OK


def _overridden(active: str) -> str | None:
    """A note when ``$LOOPAUTH_PROFILE`` names another profile: it wins in this shell."""
    env = os.environ.get(ENV_PROFILE)
    if not env or env == active:
        return None
    return f"loopauth: note: $LOOPAUTH_PROFILE={clean(env)} overrides it in this shell (unset LOOPAUTH_PROFILE)"


def hand_over(store: CredentialStore, gone: str) -> str | None:
    """After ``gone`` was deleted: when it was the active profile, make another one active (``default`` if it is
    there, else the first by name) or, with none left, remove the active file. Returns a line for stderr."""
    if (store.switched() or DEFAULT_PROFILE) != gone:
        return None
    names = store.names()
    if not names:
        store.clear_active()
        return "No profiles left; the next login becomes the active profile"
    successor = DEFAULT_PROFILE if DEFAULT_PROFILE in names else names[0]
    store.set_active(successor)
    line = f"Active profile is now '{successor}'" + (
        "; `loopauth switch NAME` picks another (`loopauth list` shows them)" if len(names) > 1 else ""
    )
    overridden = _overridden(successor)
    return f"{line}\n{overridden}" if overridden else line
