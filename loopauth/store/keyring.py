"""The opt-in OS keyring: a profile's secrets in one keyring entry, through the one backend we trust here.

A keyring profile's file (``profiles/<name>.json``, as for the file store) keeps what is not secret and
names its entry: ``"store": "keyring", "keyring": {"service": "loopauth", "entry": "<name>/<random>"}``.
The entry (service ``loopauth``, user name ``<name>/<random>``) holds the secrets as one JSON object
(:data:`loopauth.models.SECRET_FIELDS`). Every save writes a *new* entry, renames the file into place,
and only then deletes the old entry, so readers always find the pair the file names, and a failed save
removes only what it wrote. :mod:`loopauth.store` does that, under the profile's lock; this module is the
keyring's side, imported only for a profile that uses it (``import keyring`` costs about 60 ms).

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
from pathlib import Path

from ..errors import StoreError, UsageError

TYPE_CHECKING = False  # not typing's: see loopauth.models
if TYPE_CHECKING:
    from keyring.backend import KeyringBackend

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

    def __init__(self, backend: KeyringBackend, path: Path) -> None:
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


def _backend_class(what: str) -> type[KeyringBackend]:
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
