"""The opt-in OS keyring: a profile's secrets in one keyring entry, through the one backend we trust here.

A keyring profile's file (``profiles/<name>.json``, as for the file store) keeps what is not secret and
names its entry: ``"store": "keyring", "keyring": {"service": "loopauth", "entry": "<name>/<random>"}``.
The entry (service ``loopauth``, user name ``<name>/<random>``) holds the secrets as one JSON object
(:data:`SECRET_FIELDS`). Every save writes a *new* entry, renames the file into place,
and only then deletes the old entry, so readers always find the pair the file names, and a failed save
removes only what it wrote. :class:`KeyringBackend` does that, under the profile's lock that the store holds;
this module is imported only for a profile that uses it, and imports ``keyring`` itself (about 60 ms) only
when the keyring is used.

Which backend: never ``keyring.get_keyring()``. It picks by priority among everything installed, so
keyrings.alt's plaintext file backend, ``PYTHON_KEYRING_BACKEND`` or a ``keyringrc.cfg`` could put the
secrets in a file, and with no usable keyring it returns a backend that fails only at the first write.
Instead the platform's own class is imported and built directly (Secret Service on Linux and the BSDs,
the Keychain on macOS, the Credential Manager on Windows), with whatever ``KEYRING_PROPERTY_*`` set on it
removed (``KEYRING_PROPERTY_PREFERRED_COLLECTION`` would send the items to another collection, the
Secret Service's in-memory ``session`` one included).

Before it is used, :meth:`Keyring.open` checks that it works, without writing: on the Secret Service,
that a session bus and the service are there, that a default keyring exists (creating one needs a
prompt), and that it is unlocked, or can be unlocked within :data:`UNLOCK_TIMEOUT` (keyring's own
unlock has no timeout: with a display and nobody at it, it would wait forever). A failure is one
StoreError (exit 6) saying why; a missing ``keyring`` package is a UsageError (exit 2) naming the extra.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path

from ..errors import StoreError, UsageError
from ..models import AnyCredentials, credentials_from_dict
from .backends import KEYRING, Backend, checked, corrupt, dump
from .trusted import TMP_RAND_BYTES, write_atomic

TYPE_CHECKING = False  # not typing's: see loopauth.models
if TYPE_CHECKING:
    from typing import Any

    from keyring.backend import KeyringBackend as _PlatformKeyring

SERVICE = "loopauth"
"""The service every loopauth entry is stored under (``secret-tool search service loopauth`` lists them)."""
UNLOCK_TIMEOUT = 60.0
"""How long the Secret Service's unlock prompt may wait for the user before loopauth gives up."""
EXTRA = "pip install 'loopauth[keyring]'"
# The packages the extra brings (keyring's own dependencies included): one of them missing means the extra is not
# (fully) installed, and the user is told to install it rather than shown a traceback.
_EXTRA_PACKAGES = frozenset(
    {"keyring", "secretstorage", "jeepney", "cryptography", "jaraco", "importlib_metadata", "zipp", "more_itertools"}
)
_MAX_CAUSE = 200


def backend_name(platform: str | None = None) -> str:
    """The OS keyring loopauth uses on ``platform`` (default: this one), for messages; imports nothing."""
    platform = sys.platform if platform is None else platform
    if platform == "darwin":
        return "macOS Keychain"
    if platform == "win32":
        return "Windows Credential Manager"
    return "Secret Service"


def missing_extra(what: str) -> UsageError:
    return UsageError(f"{what} needs the keyring package: {EXTRA}")


class Keyring:
    """The OS keyring's loopauth entries. Errors are StoreErrors about ``path`` (the profile's file)."""

    def __init__(self, backend: _PlatformKeyring, path: Path) -> None:
        self._backend = backend
        self.path = path
        self.name = backend_name()

    @classmethod
    def open(cls, path: Path, *, what: str = "the keyring store") -> Keyring:
        """The platform's keyring, checked to be usable now (see the module docstring); writes nothing.

        UsageError naming the extra when the keyring package is missing (``what`` needs it); StoreError with
        the reason when there is no usable keyring.
        """
        backend_class = _backend_class(what)
        try:
            if _secret_service():
                _probe_secret_service(UNLOCK_TIMEOUT)
            else:
                # The class's own check (macOS: running on Darwin with its Security framework; Windows: pywin32).
                _ = backend_class.priority
            backend = backend_class()
        except _Unusable as exc:
            raise StoreError(f"cannot use the OS keyring ({backend_name()}): {exc}", path=path) from None
        except Exception as exc:
            raise StoreError(f"cannot use the OS keyring ({backend_name()}): {_cause(exc)}", path=path) from exc
        # KEYRING_PROPERTY_* from the environment are set on the instance (KeyringBackend.__init__): drop them all,
        # so the class's own defaults (the default collection, keyring's own attributes) are what is used.
        vars(backend).clear()
        return cls(backend, path)

    def read(self, entry: str) -> dict[str, object] | None:
        """The JSON object stored in ``entry``; None when there is no such entry."""
        try:
            text = self._backend.get_password(SERVICE, entry)
        except Exception as exc:
            if _vanished(exc):
                return None  # deleted between the search and the read: as good as not there
            raise self._failed("read the secrets from", exc) from exc
        if text is None:
            return None
        try:
            data = json.loads(text)
        except ValueError:
            data = None
        if not isinstance(data, dict):
            # Never quote it: it is a secret, or somebody else's.
            raise StoreError(
                f"the OS keyring's entry {entry!r} (service {SERVICE!r}) is not loopauth's: log in again to replace it",
                path=self.path,
            )
        return data

    def write(self, entry: str, secrets: dict[str, str]) -> None:
        """Store ``secrets`` as ``entry`` (replacing one of that name)."""
        text = json.dumps(secrets, sort_keys=True, separators=(",", ":"))
        try:
            self._backend.set_password(SERVICE, entry, text)
        except Exception as exc:
            raise self._failed("write the secrets to", exc) from exc

    def delete(self, entry: str) -> bool:
        """Remove ``entry``; False when there was none."""
        from keyring.errors import PasswordDeleteError

        try:
            self._backend.delete_password(SERVICE, entry)
        except PasswordDeleteError:
            return False
        except Exception as exc:
            raise self._failed("delete the secrets from", exc) from exc
        return True

    def discard(self, entry: str) -> None:
        """Remove ``entry`` if it can be: the clean-up after a failure, which must not hide that failure."""
        with contextlib.suppress(StoreError):
            self.delete(entry)

    def _failed(self, doing: str, exc: Exception) -> StoreError:
        """Any failure of a keyring call as one StoreError: keyring's errors, and also what the backend lets
        through (secretstorage's when the bus goes away, jeepney's, OSError)."""
        return StoreError(f"cannot {doing} the OS keyring ({self.name}): {_cause(exc)}", path=self.path)


class _Unusable(Exception):
    """Why the keyring cannot be used, in words for the user."""


def _secret_service() -> bool:
    return sys.platform not in ("darwin", "win32")


def _backend_class(what: str) -> type[_PlatformKeyring]:
    """The platform's keyring class, imported directly (never through keyring's backend selection)."""
    try:
        if sys.platform == "darwin":
            from keyring.backends import macOS

            return macOS.Keyring
        if sys.platform == "win32":
            from keyring.backends import Windows

            return Windows.WinVaultKeyring
        import secretstorage  # keyring's Secret Service backend quietly does without it; we need it for the probe
        from keyring.backends import SecretService

        del secretstorage
        return SecretService.Keyring
    except ModuleNotFoundError as exc:
        if (exc.name or "").split(".")[0] not in _EXTRA_PACKAGES:
            raise
        raise missing_extra(what) from exc


def _vanished(exc: Exception) -> bool:
    """Whether ``exc`` says that the item went away while it was being read (the Secret Service: found by the
    search, deleted by a save in another process before its secret was fetched)."""
    if not _secret_service():
        return False
    from secretstorage.exceptions import ItemNotFoundException

    return isinstance(exc, ItemNotFoundException)


def _probe_secret_service(timeout: float) -> None:
    """Check, without writing anything, that the Secret Service's default keyring is there and unlocked.

    A locked one is unlocked now, through the service's prompt, for at most ``timeout`` seconds; headless,
    gnome-keyring's prompter cannot open a window and the service answers "dismissed" at once.
    """
    from contextlib import closing

    import secretstorage
    from secretstorage.exceptions import ItemNotFoundException, SecretStorageException

    if secretstorage.__version_tuple__ < (3, 5):
        raise _Unusable(f"SecretStorage {secretstorage.__version__} is too old (3.5 unlocks with a timeout): {EXTRA}")
    if not os.environ.get("DBUS_SESSION_BUS_ADDRESS"):
        # What dbus_init would say, in words that name the cause: headless, a container, su/sudo, cron, ssh.
        raise _Unusable("no Secret Service: there is no session D-Bus here (DBUS_SESSION_BUS_ADDRESS is unset)")
    try:
        connection = secretstorage.dbus_init()
    except SecretStorageException as exc:
        raise _Unusable(
            f"no Secret Service: cannot connect to the session D-Bus: {_cause(exc, with_type=False)}"
        ) from None
    with closing(connection):
        if not secretstorage.check_service_availability(connection):
            raise _Unusable("no Secret Service: nothing on the session bus provides org.freedesktop.secrets")
        try:
            collection = secretstorage.Collection(connection)
        except ItemNotFoundException:
            raise _Unusable(
                "the Secret Service has no default keyring yet, and creating one needs a prompt: create it "
                '(for example in Seahorse, "Passwords and Keys")'
            ) from None
        if not collection.is_locked():
            return
        try:
            dismissed = collection.unlock(timeout=timeout)
        except TimeoutError:
            raise _Unusable(
                f"the keyring is locked and nobody answered the unlock prompt within {timeout:g} s"
            ) from None
        if dismissed or collection.is_locked():
            raise _Unusable("the keyring is locked and the unlock prompt was dismissed")


def _cause(exc: BaseException, *, with_type: bool = True) -> str:
    """An exception as a short, printable reason (its text comes from the keyring service, never a secret)."""
    from ..text import clean

    text = clean(str(exc)).strip().rstrip(".!") or type(exc).__name__
    if len(text) > _MAX_CAUSE:
        text = text[: _MAX_CAUSE - 1] + "…"
    name = type(exc).__name__
    return f"{text} ({name})" if with_type and name not in text else text


# -- a profile's fields: which are secret ---------------------------------------------------------------------


SECRET_FIELDS = {
    "oauth1": ("consumer_secret", "oauth_token", "oauth_token_secret"),
    # The ID token is no secret of the client's, but it is a bearer credential (kubectl's API servers take it).
    "oauth2": ("client_secret", "access_token", "refresh_token", "id_token"),
}
"""The fields of a profile that the keyring store keeps in the keyring, by protocol; the rest is not secret."""
KEPT = "secrets"
"""The field of a keyring profile's file that names (never holds) the secrets the keyring entry has."""
ELSEWHERE = "(kept in the OS keyring)"
"""What :func:`metadata_from_dict` puts where a secret would be."""


def split_secrets(data: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """A profile's object (``to_dict()``) as what may be on disk in the clear and what is secret.

    The secret part holds only the fields of :data:`SECRET_FIELDS` that have a value; ``join_secrets`` undoes it.
    """
    names = SECRET_FIELDS[_protocol_of(data)]
    public = {key: value for key, value in data.items() if key not in names}
    secret = {key: data[key] for key in names if data.get(key) is not None}
    # Which secrets there are (not what they are): `status` can then say, unlocking nothing, whether an expired
    # OAuth 2.0 token can be refreshed.
    public[KEPT] = sorted(secret)
    return public, secret


def join_secrets(public: Mapping[str, Any], secret: Mapping[str, Any]) -> dict[str, Any]:
    """The profile's whole object again; only the protocol's secret fields are taken from ``secret``.

    ValueError (naming the field, never its value) when ``secret`` holds anything else or a non-string.
    """
    names = SECRET_FIELDS[_protocol_of(public)]
    for key, value in secret.items():
        if key not in names or not isinstance(value, str):
            raise ValueError(f"unexpected field {str(key)[:40]!r} among the secrets")
    joined = {key: value for key, value in public.items() if key not in names and key != KEPT}
    joined.update(secret)
    return joined


def metadata_from_dict(data: Mapping[str, Any]) -> AnyCredentials:
    """The credentials of a profile's object whose secrets are kept elsewhere (a keyring profile's file), each
    secret it has replaced by :data:`ELSEWHERE`, checked as ``credentials_from_dict`` checks it: for showing a
    profile (``list``, ``status``) without unlocking anything. Never for signing or sending: it holds no secret."""
    names = SECRET_FIELDS[_protocol_of(data)]
    kept = data.get(KEPT, names)
    stand_ins = {key: ELSEWHERE if key in kept else None for key in names}
    return credentials_from_dict({**data, **stand_ins})


def _protocol_of(data: Mapping[str, Any]) -> str:
    protocol = data.get("protocol", "oauth1")
    if protocol not in SECRET_FIELDS:
        raise ValueError(f"unknown protocol {str(protocol)[:20]!r}")
    return str(protocol)


# -- the store's backend ----------------------------------------------------------------------------------------


class KeyringBackend(Backend):
    """The secrets in one entry of the OS keyring, the rest in the profile's file, which names the entry."""

    kind = KEYRING

    def __init__(self, path: Path, profile: str) -> None:
        super().__init__(path, profile)
        self._keyring: Keyring | None = None

    def keyring(self) -> Keyring:
        """The keyring, opened (and checked) once for this profile."""
        if self._keyring is None:
            self._keyring = Keyring.open(self.path, what=f"profile '{self.profile}' (in the keyring store)")
        return self._keyring

    def entry_of(self, data: dict[str, Any]) -> str:
        where = data.get("keyring")
        entry = where.get("entry") if isinstance(where, dict) and where.get("service") == SERVICE else None
        if not isinstance(entry, str) or not entry:
            raise corrupt(self.path, f"it names no keyring entry of service '{SERVICE}'")
        return entry

    def whole(self, data: dict[str, Any], entry: str | None, *, final: bool) -> dict[str, Any] | None:
        assert entry is not None
        secrets = self.keyring().read(entry)
        if secrets is None:
            if not final:
                return None
            raise StoreError(
                f"profile '{self.profile}' keeps its secrets in the OS keyring, but its entry there is gone (deleted "
                "outside loopauth?); log in again to replace it",
                path=self.path,
            )
        try:
            return join_secrets(data, secrets)
        except ValueError as exc:
            raise corrupt(self.path, f"its keyring entry {entry!r}: {exc}") from None

    def listed(self, data: dict[str, Any]) -> tuple[None, AnyCredentials]:
        creds = checked(self.path, metadata_from_dict, data)
        return None, creds if creds.profile == self.profile else creds.replace(profile=self.profile)

    def put(self, directory: int, data: dict[str, Any], *, verify: bool = False) -> str:
        """A new entry first, then the file that names it: a failure removes the new entry and leaves the file."""
        keyring = self.keyring()
        public, secrets = split_secrets(data)
        entry = f"{self.profile}/{os.urandom(TMP_RAND_BYTES).hex()}"
        keyring.write(entry, secrets)
        try:
            if verify and keyring.read(entry) != secrets:
                raise StoreError(
                    f"the OS keyring's entry {entry!r} read back is not what was written to it", path=self.path
                )
            named = {**public, "store": KEYRING, "keyring": {"service": SERVICE, "entry": entry}}
            write_atomic(directory, self.path, dump(named))
        except BaseException:
            keyring.discard(entry)
            raise
        return entry

    def describe(self, entry: str | None) -> str:
        return f"the OS keyring ({backend_name()}, service '{SERVICE}', entry '{entry}'); metadata in {self.path}"

    def check(self) -> None:
        Keyring.open(self.path, what="the keyring store")

    def open(self) -> None:
        self.keyring()

    def delete(self, entry: str | None) -> None:
        if entry is None:
            return
        if self._keyring is None:
            self._keyring = Keyring.open(self.path, what=f"deleting profile '{self.profile}' (in the keyring store)")
        self._keyring.delete(entry)

    def discard(self, entry: str | None) -> None:
        if entry is not None:
            with contextlib.suppress(StoreError, UsageError):
                self.keyring().discard(entry)
