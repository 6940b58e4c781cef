"""``docker-credential-loopauth``: docker's credential-helper protocol, for registries mapped to OAuth 2.0 profiles.

Docker runs ``docker-credential-loopauth ACTION`` for each registry that ``~/.docker/config.json`` hands to it
(``"credHelpers": {"registry.gitlab.com": "loopauth"}``), the server URL or a JSON object on stdin. A
registry is mapped to a profile by ``loopauth credential docker --add SERVER --profile P``, kept in
``<config dir>/docker-registries.json`` (0600, replaced atomically, as the active profile is).

- ``get``: ``{"ServerURL", "Username", "Secret"}``, the secret a fresh access token of the mapped profile;
  an unmapped server is docker's "credentials not found in native keychain" (stdout, exit 1), as every
  docker helper answers it.
- ``store`` (after ``docker login``): loopauth keeps no registry passwords. For a mapped registry the answer
  is yes and the password is dropped (``get`` answers with the profile's token, which is what just logged
  in when docker asked ``get`` first); for any other registry it is an error, so ``docker login`` says the
  password was not stored rather than pretending it was.
- ``erase`` (``docker logout``): unmaps the registry, so docker sends it no more tokens; the profile stays.
- ``list``: the mapped registries and the user name each gets.

Errors are one line on stdout, where docker reads a helper's answer, and a non-zero exit.
"""

from __future__ import annotations

import json

from .._version import __version__
from ..errors import EXIT_OK, LoopAuthError, UsageError
from ..store import CredentialStore, read_trusted_file
from . import bearer_access, username_for

TYPE_CHECKING = False
if TYPE_CHECKING:
    from pathlib import Path
    from typing import TextIO

REGISTRIES_FILE = "docker-registries.json"
NOT_FOUND = "credentials not found in native keychain"
"""docker-credential-helpers' answer for a server it has nothing for; docker matches this text."""
MISSING_URL = "no credentials server URL"
EXIT_PROTOCOL = 1
"""The exit of every docker-credential-helpers failure; loopauth's own failures keep their exit codes."""
DOCKER_HUB = "https://index.docker.io/v1/"
_DOCKER_HUB_HOSTS = frozenset({"docker.io", "index.docker.io", "registry-1.docker.io", "registry.hub.docker.com"})
_WHAT = "the docker registries mapped to profiles"


class ProtocolError(Exception):
    """A docker-credential-helpers error: its text on stdout, exit 1."""


def normalize_server(server: str) -> str:
    """The key docker looks a registry up by: the host[:port], without scheme or path, Docker Hub's one URL for
    all its names (``docker.io`` is ``https://index.docker.io/v1/``)."""
    text = server.strip()
    if "://" in text:
        text = text.split("://", 1)[1]
    host = text.split("/", 1)[0].lower().rstrip(".")
    if not host or any(c.isspace() or not c.isprintable() for c in host):
        raise UsageError(f"not a registry server: {server[:80]!r} (give its host, like ghcr.io or gitlab.example.com)")
    return DOCKER_HUB if host in _DOCKER_HUB_HOSTS else host


def registries(store: CredentialStore | None = None) -> dict[str, dict[str, str]]:
    """The mapped registries: server -> {"profile", and "username" when one was given}."""
    store = store or CredentialStore()
    try:
        raw = read_trusted_file(store.root / REGISTRIES_FILE, _WHAT)
    except FileNotFoundError:
        return {}
    except OSError as exc:
        from ..errors import StoreError

        path = store.root / REGISTRIES_FILE
        raise StoreError(f"cannot read {path}: {exc.strerror or exc}", path=path) from exc
    return _parse(raw, store.root / REGISTRIES_FILE)


def _parse(raw: bytes | None, path: Path) -> dict[str, dict[str, str]]:
    try:
        data = json.loads(raw or b"{}")
    except ValueError:
        data = None
    if not isinstance(data, dict):
        from ..errors import StoreError

        raise StoreError(f"{path} is not a JSON object: fix or remove it", path=path)
    return {
        str(server): {k: v for k, v in entry.items() if k in ("profile", "username") and isinstance(v, str)}
        for server, entry in data.items()
        if isinstance(entry, dict) and isinstance(entry.get("profile"), str)
    }


def _update(store: CredentialStore, server: str, entry: dict[str, str] | None) -> bool:
    """Map ``server`` to ``entry`` (None: unmap it); True when it was mapped before."""
    before: list[bool] = []

    def change(raw: bytes | None) -> bytes:
        mapped = _parse(raw, store.root / REGISTRIES_FILE)
        before.append(server in mapped)
        if entry is None:
            mapped.pop(server, None)
        else:
            mapped[server] = entry
        return (json.dumps(mapped, indent=2, sort_keys=True) + "\n").encode()

    store.update_config_file(REGISTRIES_FILE, change, what=_WHAT)
    return before[0]


def add_registry(server: str, profile: str | None, username: str | None = None) -> tuple[str, str]:
    """Map ``server`` to ``profile`` (the active one when None), which must be an OAuth 2.0 login; returns the
    (server, profile) stored."""
    store = CredentialStore()
    name = store.resolve(profile)
    bearer_access(store.metadata(name), "a registry")
    if username is not None and (not username or any(not c.isprintable() for c in username)):
        raise UsageError("{arg} must be a non-empty printable name", argument="username")
    key = normalize_server(server)
    _update(store, key, {"profile": name, **({"username": username} if username else {})})
    return key, name


def remove_registry(server: str) -> bool:
    """Unmap ``server``; True when it was mapped."""
    return _update(CredentialStore(), normalize_server(server), None)


def serve(action: str, stdin: TextIO, stdout: TextIO) -> int:
    """Answer docker's ``action``: see the module's docstring."""
    store = CredentialStore()
    if action == "get":
        server = _server_url(stdin.read())
        entry = registries(store).get(normalize_server(server))
        if entry is None:
            raise ProtocolError(NOT_FOUND)
        from ..fresh import load_fresh

        access, bearer = bearer_access(load_fresh(entry["profile"], store), "docker")
        username = entry.get("username") or username_for(access)
        answer = {"ServerURL": server, "Username": username, "Secret": bearer}
        stdout.write(json.dumps(answer) + "\n")
    elif action == "store":
        server = _server_url(_stored_url(stdin.read()))
        if normalize_server(server) not in registries(store):
            raise ProtocolError(
                f"loopauth stores no registry passwords; to answer for {server} with a profile's token, run "
                f"`loopauth credential docker --add {server} --profile NAME`"
            )
    elif action == "erase":
        if not _update(store, normalize_server(_server_url(stdin.read())), None):
            raise ProtocolError(NOT_FOUND)
    elif action == "list":
        stdout.write(json.dumps({server: _list_user(store, entry) for server, entry in registries(store).items()}))
        stdout.write("\n")
    elif action == "version":
        stdout.write(f"docker-credential-loopauth (loopauth) {__version__}\n")
    else:
        raise ProtocolError(f"Unknown credential action `{action[:40]}`")
    return EXIT_OK


def _server_url(text: str) -> str:
    server = text.strip()
    if not server:
        raise ProtocolError(MISSING_URL)
    return server


def _stored_url(text: str) -> str:
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ProtocolError(f"the credentials to store are not JSON: {exc}") from None
    url = data.get("ServerURL") if isinstance(data, dict) else None
    return url if isinstance(url, str) else ""


def _list_user(store: CredentialStore, entry: dict[str, str]) -> str:
    """The user name ``get`` answers with, read from the profile's file alone (no keyring, no refresh)."""
    if entry.get("username"):
        return entry["username"]
    try:
        access, _ = bearer_access(store.metadata(entry["profile"]), "docker")
    except LoopAuthError:
        return "oauth2"  # get will say what is wrong with the profile; list only names the registry
    return username_for(access)
