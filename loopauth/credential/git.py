"""``loopauth credential git``: git's credential-helper protocol (``git help credential``) over an OAuth 2.0 profile.

Git runs the helper with ``get``, ``store`` or ``erase`` and ``key=value`` lines on stdin up to a blank line.

- ``get``: for a host of the profile's provider (or one named with ``--host``), ``username=``, ``password=`` (a
  fresh access token) and ``password_expiry_utc=``; for any other host nothing, so git asks its next helper
  and a token never goes to a host the user did not name.
- ``store``: nothing to keep (the profile is the store).
- ``erase``: the server refused the token. Nothing is deleted: the token is noted as refused (a hash of it, in
  ``<config dir>/git-refused``), and the next ``get`` that would hand out that same token refreshes first.
  The note is written under the profile's lock; the refresh is ``loopauth token``'s, so eight gits at once
  still cause one refresh.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence

from ..errors import EXIT_OK, UsageError
from ..fresh import load_fresh
from ..store import CredentialStore, read_trusted_file
from . import bearer_access, provider_hosts, split_host, username_for

TYPE_CHECKING = False  # not typing's: importing typing is a few ms on the path git takes at every fetch
if TYPE_CHECKING:
    from typing import TextIO

    from ..access import Access

REFUSED_FILE = "git-refused"
"""``<config dir>/git-refused``: per profile, the SHA-256 of the access token a git server last refused."""
_MAX_INPUT = 1 << 16
"""The most of git's request read: a few short lines (a ``wwwauth[]`` header may be long, never this long)."""


def git_credential(
    action: str,
    profile: str | None,
    hosts: Sequence[str] = (),
    stdin: TextIO | None = None,
    stdout: TextIO | None = None,
) -> int:
    """Answer git's ``action`` for ``profile`` (the active one when None); ``hosts`` are ``--host`` values."""
    for host in hosts:
        if not host or any(c in host for c in "/@ ") or not host.isprintable():
            raise UsageError(f"--host takes HOST or HOST:PORT (no scheme or path), got {host[:80]!r}")
    request = read_request(stdin or sys.stdin)
    if action not in ("get", "erase"):
        return EXIT_OK  # store, and any action a newer git invents: git asks helpers to ignore those
    store = CredentialStore()
    name = store.resolve(profile)
    # Matched on the profile's file alone: a host that is not ours costs no keyring unlock and no refresh.
    shown, _ = bearer_access(store.metadata(name), "git")
    if not _matches(request, shown, hosts):
        return EXIT_OK
    if action == "erase":
        _note_refused(store, name, request.get("password"))
        return EXIT_OK
    access, token = bearer_access(load_fresh(name, store), "git")
    if _was_refused(store, name, token):
        # Given the refused token: when a peer has already refreshed past it, the refresh hands out the peer's.
        access, token = bearer_access(access.refreshed(store, force=True), "git")
    lines = {"username": username_for(access), "password": token}
    if access.expires_at is not None:
        lines["password_expiry_utc"] = str(access.expires_at)
    for key, value in lines.items():
        if "\n" in value or "\0" in value:
            raise UsageError(f"profile '{name}' holds a {key} that git's protocol cannot carry")
    out = stdout or sys.stdout
    out.write("".join(f"{key}={value}\n" for key, value in lines.items()))
    return EXIT_OK


def read_request(stream: TextIO) -> dict[str, str]:
    """git's ``key=value`` lines, up to a blank line or the end; the last value of a repeated key wins."""
    request: dict[str, str] = {}
    size = 0
    for line in stream:
        size += len(line)
        line = line.rstrip("\n")
        if not line or size > _MAX_INPUT:
            break
        key, eq, value = line.partition("=")
        if eq:
            request[key] = value
    return request


def _matches(request: dict[str, str], access: Access, hosts: Sequence[str]) -> bool:
    """Whether ``request`` is for one of the profile's hosts, over https (or plain http to loopback)."""
    protocol, host = request.get("protocol", ""), request.get("host", "")
    if protocol not in ("https", "http") or not host:
        return False
    wanted = split_host(host, protocol)
    if wanted not in provider_hosts(access) and wanted not in {split_host(h, protocol) for h in hosts}:
        return False
    if protocol == "http":
        from ..urls import is_loopback_host

        if not is_loopback_host(wanted[0]):
            print(
                f"loopauth: not sending profile '{access.credentials.profile}''s token to http://{host}: plain http "
                "would expose it to the network (use https)",
                file=sys.stderr,
            )
            return False
    return True


def _digest(token: str) -> str:
    import hashlib

    return hashlib.sha256(token.encode()).hexdigest()


def _note_refused(store: CredentialStore, profile: str, password: str | None) -> None:
    """Note that a server refused ``password`` (the profile's current token when git did not say which)."""
    from ..oauth2.refresh import LOCK_WAIT

    with store.holding(profile, timeout=LOCK_WAIT) as held:
        if password is None:
            _, password = bearer_access(held.load(), "git")
        digest = _digest(password)

        def change(raw: bytes | None) -> bytes:
            return (json.dumps({**_parse_notes(raw), profile: digest}, indent=2, sort_keys=True) + "\n").encode()

        store.update_config_file(REFUSED_FILE, change, what="the tokens git servers refused")


def _was_refused(store: CredentialStore, profile: str, token: str) -> bool:
    """Whether a git server refused ``token``, ``profile``'s current one (noted by ``erase``)."""
    try:
        raw = read_trusted_file(store.root / REFUSED_FILE, "the tokens git servers refused")
    except OSError:
        return False  # none noted (or none readable: then the token is handed out as it is)
    noted = _parse_notes(raw).get(profile)
    return noted is not None and noted == _digest(token)


def _parse_notes(raw: bytes | None) -> dict[str, str]:
    """The notes file's profile -> digest map; anything else in it is dropped (it only ever saves a refresh)."""
    try:
        data = json.loads(raw or b"{}")
    except ValueError:
        return {}
    if not isinstance(data, dict):
        return {}
    return {str(k): v for k, v in data.items() if isinstance(v, str)}
