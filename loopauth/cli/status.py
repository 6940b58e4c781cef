"""``loopauth status``: every profile (or one) at a glance, offline, or checked with each provider (``--check``).

For each profile: provider and protocol, the account, where it is stored, when it was made (and whether by
a login or by ``add``), when its token expires, whether it needs a new login, and which profile is active.
No secret is ever shown. Exit status: 0 when all is well; else the first that applies of 7 (a profile asked
for is missing or needs a login, the active one included), 6 (a profile file is unreadable) and 5
(``--check``: a provider rejected a token, or could not be asked).
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple  # not dataclasses: its import (inspect) cost every run ~10 ms

from ..errors import (
    EXIT_LOCAL,
    EXIT_NOT_LOGGED_IN,
    EXIT_OK,
    EXIT_PROVIDER,
    LoopAuthError,
    NotLoggedIn,
    ProviderError,
    StoreError,
    UsageError,
)
from ..models import AnyCredentials
from ..protocols import access_for
from ..store import ENV_PROFILE, CredentialStore
from ..text import account_with_id, clean, one_line
from .output import print_json
from .parser import CHECK_TIMEOUT


class Checked(NamedTuple):
    """What ``--check`` found for one profile."""

    outcome: str
    """``ok``, ``rejected`` (the provider refused the token), ``failed`` (could not ask it), ``needs_login``,
    ``unreadable`` or ``skipped`` (no verify endpoint)."""
    message: str
    screen_name: str | None = None
    user_id: str | None = None
    creds: AnyCredentials | None = None
    """The profile as the check left it (an OAuth 2.0 token refreshed on the way), shown instead of the old one."""


class Row(NamedTuple):
    """One profile as ``status`` shows it."""

    name: str
    active: bool
    creds: AnyCredentials | None = None
    error: str | None = None
    """Why the file cannot be read; None for a readable profile or a missing one (``creds`` None too)."""
    checked: Checked | None = None

    @property
    def missing(self) -> bool:
        return self.creds is None and self.error is None


class StatusCommand(NamedTuple):
    profile: str | None
    json_out: bool
    check: bool
    timeout: float = CHECK_TIMEOUT

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> StatusCommand:
        if not args.timeout > 0:
            raise UsageError("--timeout must be a positive number of seconds")
        if args.timeout != CHECK_TIMEOUT and not args.check:
            raise UsageError("--timeout goes with --check")
        return cls(args.profile, args.json, args.check, args.timeout)

    def run(self) -> int:
        store = CredentialStore()
        active = store.active()
        rows = self._rows(store, active)
        if self.check:
            rows = _checked(store, rows, self.timeout)
        now = time.time()
        if self.json_out:
            print_json([_json(row, store, now) for row in rows])
        elif rows:
            stored = [row.name for row in rows if not row.missing]
            print("\n\n".join(_block(row, store, now, stored) for row in rows))
        if not rows:
            raise NotLoggedIn(f"not logged in: no profiles yet in {store.profiles_dir}", profile=active)
        failure = _failure(rows, now, store)
        if failure is not None:
            raise failure
        return EXIT_OK

    def _rows(self, store: CredentialStore, active: str) -> list[Row]:
        if self.profile is not None:
            name = store.resolve(self.profile)
            try:
                return [Row(name, name == active, creds=store.metadata(name))]
            except NotLoggedIn:
                return [Row(name, name == active)]
            except StoreError as exc:
                return [Row(name, name == active, error=exc.message)]
        entries = store.profiles()
        if not entries:
            return []
        # What the files say: a keyring profile is shown without unlocking the keyring (--check loads it for real).
        rows = [Row(e.name, e.name == active, creds=e.shown, error=e.error) for e in entries]
        if active not in {e.name for e in entries} and _chosen(store):
            # Every command without --profile would fail: that is worth a row of its own. The implicit
            # `default` nobody chose is not (as after `loopauth demo`): `gh auth status` shows every host alike.
            rows.insert(0, Row(active, True))
        return rows


def _chosen(store: CredentialStore) -> bool:
    """Whether the active profile was chosen ($LOOPAUTH_PROFILE, ``loopauth switch``), not merely ``default``."""
    return bool(os.environ.get(ENV_PROFILE)) or store.switched() is not None


def needs_login(creds: AnyCredentials, now: float) -> bool:
    """Whether only a new login can make this profile work: its refresh was refused, or its token is due with no
    refresh token to renew it, or none loopauth will send (its last refresh's outcome is unknown). An OAuth 1.0a
    token never expires."""
    return access_for(creds).needs_login(now)


def expiry(creds: AnyCredentials, now: float) -> str:
    """When the token expires, for a person: the local time and how far from now, and what happens then."""
    access = access_for(creds)
    if not access.expires:
        return f"never ({access.label} tokens last until revoked)"
    if access.expires_at is None:
        return "not said by the provider (used until it answers 401" + (
            ", then refreshed)" if access.can_refresh else ")"
        )
    when = f"{local_time(access.expires_at)} ({relative(access.expires_at - now)}"
    if access.refresh_refused:
        return f"{when}; its refresh was refused: log in again)"
    if not access.due(now):
        return when + ")"
    if not access.can_refresh:
        return f"{when}; no refresh token: log in again)"
    if access.refresh_in_doubt:
        return f"{when}; its last refresh may have spent the refresh token: log in again)"
    return f"{when}, refreshes on next use)"


def local_time(epoch: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M %Z", time.localtime(epoch)).strip()


def relative(seconds: float) -> str:
    """``in 1 h 12 min`` or ``3 min ago``: a span rounded to its two largest units (seconds below a minute)."""
    span = abs(int(seconds))
    if span < 60:
        text = f"{span} s"
    elif span < 3600:
        text = f"{span // 60} min"
    elif span < 86400:
        text = f"{span // 3600} h" + (f" {span % 3600 // 60} min" if span % 3600 // 60 else "")
    else:
        text = f"{span // 86400} d" + (f" {span % 86400 // 3600} h" if span % 86400 // 3600 else "")
    return f"in {text}" if seconds >= 0 else f"{text} ago"


def created(creds: AnyCredentials, now: float) -> str:
    stamp = creds.created_at
    if not stamp:
        return "-"
    try:
        epoch = datetime.fromisoformat(stamp).timestamp()
    except ValueError:
        return clean(stamp)
    return f"{local_time(epoch)} ({relative(epoch - now)})"


def _active_note(row: Row) -> str:
    if not row.active:
        return ""
    env = os.environ.get(ENV_PROFILE)
    return " (active, from $LOOPAUTH_PROFILE)" if env == row.name else " (active)"


def _state(row: Row, now: float, others: Sequence[str]) -> str:
    if row.missing:
        hint = f"run `loopauth login --profile {row.name}`"
        if row.active:
            hint += f", or `loopauth switch {others[0] if len(others) == 1 else 'NAME'}`"
        return f"not logged in: no profile '{row.name}' ({hint})"
    if row.creds is None:
        return f"unreadable: {row.error}"
    if needs_login(row.creds, now):
        return f"needs a new login (run `loopauth login --profile {row.name}`)"
    return "ok"


def _block(row: Row, store: CredentialStore, now: float, others: Sequence[str] = ()) -> str:
    """The lines of one profile, for a person."""
    lines = [f"{row.name}{_active_note(row)}"]

    def add(label: str, value: str) -> None:
        lines.append(f"  {label:<9} {value}")

    c = row.creds
    if c is not None:
        add("provider", f"{clean(c.provider)} ({access_for(c).label})")
        add("account", account_with_id(c.screen_name, c.user_id) if c.screen_name or c.user_id else "-")
    if not row.missing:
        kind, where = store.storage_of(row.name)
        add("stored", f"{kind} {where}")
    if c is not None:
        how = "added with `loopauth add`" if c.origin == "add" else "logged in"
        add("created", f"{created(c, now)}, {how}")
        add("expires", expiry(c, now))
    add("status", _state(row, now, others))
    if row.checked is not None:
        add("check", _check_line(row.checked))
    return "\n".join(lines)


def _check_line(checked: Checked) -> str:
    if checked.outcome == "ok":
        who = account_with_id(checked.screen_name, checked.user_id) if checked.screen_name or checked.user_id else ""
        return f"ok: the provider accepts the token{f' ({who})' if who else ''}"
    return f"{checked.outcome.replace('_', ' ')}: {checked.message}"


def _json(row: Row, store: CredentialStore, now: float) -> dict[str, Any]:
    data: dict[str, Any]
    if row.creds is not None:
        data = {**row.creds.public_dict(), "needs_login": needs_login(row.creds, now)}
    else:
        data = {"profile": row.name, "error": row.error or f"not logged in: no profile '{row.name}'"}
    data["active"] = row.active
    data["state"] = "missing" if row.missing else "unreadable" if row.creds is None else _short_state(row, now)
    if not row.missing:
        kind, where = store.storage_of(row.name)
        data["storage"] = kind
        data["location"] = where
    if row.checked is not None:
        c = row.checked
        data["check"] = {"outcome": c.outcome, "message": c.message, "screen_name": c.screen_name, "user_id": c.user_id}
    return data


def _short_state(row: Row, now: float) -> str:
    assert row.creds is not None
    if needs_login(row.creds, now):
        return "needs_login"
    if access_for(row.creds).due(now):
        return "due"  # refreshed by the next command that uses it
    return "ok"


def _failure(rows: Sequence[Row], now: float, store: CredentialStore) -> LoopAuthError | None:
    """The error status exits with: the first of 7, 6, 5 that applies, its message naming every problem."""
    # Short: the details are in the report above it.
    problems: list[tuple[int, str, str]] = []
    for row in rows:
        outcome = row.checked.outcome if row.checked else None
        if row.missing:
            problems.append((EXIT_NOT_LOGGED_IN, row.name, f"no profile '{row.name}'"))
        elif row.creds is None or outcome == "unreadable":
            problems.append((EXIT_LOCAL, row.name, f"profile '{row.name}' is unreadable"))
        elif needs_login(row.creds, now) or outcome == "needs_login":
            problems.append((EXIT_NOT_LOGGED_IN, row.name, f"profile '{row.name}' needs a new login"))
        elif outcome == "rejected":
            problems.append((EXIT_PROVIDER, row.name, f"profile '{row.name}': the provider rejected its token"))
        elif outcome == "failed":
            problems.append((EXIT_PROVIDER, row.name, f"profile '{row.name}': its provider could not be asked"))
    if not problems:
        return None
    code = next(c for c in (EXIT_NOT_LOGGED_IN, EXIT_LOCAL, EXIT_PROVIDER) if any(p[0] == c for p in problems))
    message = "; ".join(text for _, _, text in problems)
    first = next(name for c, name, _ in problems if c == code)
    if code == EXIT_NOT_LOGGED_IN:
        return NotLoggedIn(message, profile=first)
    if code == EXIT_LOCAL:
        return StoreError(message, path=store.path_for(first))
    return ProviderError(message)


# -- --check ----------------------------------------------------------------------------------------------------


def _checked(store: CredentialStore, rows: list[Row], timeout: float) -> list[Row]:
    """``rows``, each readable profile checked with its provider: all at once, none for longer than ``timeout``."""
    from concurrent.futures import ThreadPoolExecutor, wait  # with logging, ~10 ms a plain `status` does not need

    todo = [row for row in rows if row.creds is not None]
    if not todo:
        return rows
    pool = ThreadPoolExecutor(max_workers=min(8, len(todo)), thread_name_prefix="loopauth-check")
    futures = {row.name: pool.submit(_check, store, row.name, timeout) for row in todo}
    done, _ = wait(futures.values(), timeout=timeout)
    # Whatever is still running is given up on: its thread ends at its own call's timeout, unwaited for.
    pool.shutdown(wait=False, cancel_futures=True)
    late = Checked("failed", f"no answer within {timeout:g} s")
    results = {name: future.result() if future in done else late for name, future in futures.items()}
    checked = []
    for row in rows:
        result = results.get(row.name)
        creds = result.creds if result is not None and result.creds is not None else row.creds
        checked.append(Row(row.name, row.active, creds, row.error, result))
    return checked


def _check(store: CredentialStore, profile: str, timeout: float) -> Checked:
    from ..calls import verify
    from ..fresh import load_fresh
    from .errors import describe, profile_hint

    creds: AnyCredentials | None = None
    try:
        creds = load_fresh(profile, store)
        who = verify(creds, timeout=timeout, store=store)
    except NotLoggedIn as exc:
        return Checked("needs_login", one_line(exc.message))
    except StoreError as exc:
        return Checked("unreadable", one_line(exc.message))
    except UsageError as exc:
        return Checked("skipped", one_line(describe(exc)))
    except ProviderError as exc:
        if creds is not None:
            exc = profile_hint(exc, creds)
        outcome = "rejected" if exc.status in (401, 403) else "failed"
        return Checked(outcome, one_line(exc.message, 300))
    except Exception as exc:  # a bug in one check must not hide the others' answers
        return Checked("failed", one_line(f"{type(exc).__name__}: {exc}"))
    return Checked("ok", "", who.screen_name, who.user_id, creds)
