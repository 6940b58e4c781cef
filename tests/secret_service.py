"""A real, throwaway Secret Service for tests: a private session D-Bus and a gnome-keyring-daemon on it.

Fixtures (function-scoped: each test gets its own daemons, about 30 ms to start):

``secret_service``
    A running Secret Service whose default ("login") collection exists and is unlocked.
``locked_secret_service``
    The same, with that collection locked. Unlocking needs gnome-keyring's prompter (gcr-prompter), and
    with no display it fails at once, so the daemon answers every unlock as dismissed.
``no_secret_service``
    No session bus at all, as on a headless server or in a container. Needs none of the packages.

Each yields a :class:`SecretServiceEnv` and, for the length of the test, puts its variables into
``os.environ``: keyring in the test process and every subprocess the test starts (``run_cli``) see the
same bus. ``HOME``, ``XDG_*`` and ``XDG_RUNTIME_DIR`` point into a fresh temp dir, so the keyring files
are throwaways and the user's real keyring, bus and config are never touched. keyring's cached backend
is reset before and after, so each test's ``keyring.get_keyring()`` is chosen in its own environment.

Without Debian's gnome-keyring and dbus, tests that use the first two skip, naming ``make secret-service``.
Every process started here is ended on teardown: the two daemons by pid, and anything they started
(D-Bus activates gcr-prompter and, on demand, another gnome-keyring-daemon) by the marker variable
``LOOPAUTH_TEST_SECRET_SERVICE`` that they inherit; :func:`processes_with_marker` finds them.

:func:`running_secret_service` is the same as a context manager, for other scopes or for use outside pytest.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import select
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

MAKE_HINT = "make secret-service"
MARKER = "LOOPAUTH_TEST_SECRET_SERVICE"
PASSWORD = "loopauth-test-keyring"
SECRETS_BUS_NAME = "org.freedesktop.secrets"
LOGIN_COLLECTION = "/org/freedesktop/secrets/collection/login"
DEFAULT_ALIAS = "/org/freedesktop/secrets/aliases/default"
BINARIES = ("dbus-daemon", "dbus-send", "gnome-keyring-daemon")
START_TIMEOUT = 10.0
# Variables that would let the daemons, or keyring, reach something outside the temp dir: a desktop's
# bus, a display on which gcr-prompter would show a real unlock dialog (and a test would wait for a
# click), keyring's own backend choice, the desktop's extra D-Bus service dirs.
_CLEARED = (
    "DBUS_SESSION_BUS_ADDRESS",
    "DBUS_STARTER_ADDRESS",
    "DBUS_STARTER_BUS_TYPE",
    "DISPLAY",
    "WAYLAND_DISPLAY",
    "GNOME_KEYRING_CONTROL",
    "PYTHON_KEYRING_BACKEND",
    "XDG_DATA_DIRS",
    "XDG_CONFIG_DIRS",
)


@dataclass
class SecretServiceEnv:
    """Where a test's Secret Service is (or is not), and the environment that reaches it."""

    root: Path
    #: Variables to set: HOME, XDG_*, the marker and, when there is a bus, DBUS_SESSION_BUS_ADDRESS.
    env: dict[str, str]
    #: Variables to remove from the inherited environment (see ``_CLEARED``).
    unset: tuple[str, ...]
    #: The bus address, or None for ``no_secret_service``.
    bus_address: str | None = None
    collection: str = LOGIN_COLLECTION
    password: str = PASSWORD
    pids: list[int] = field(default_factory=list)

    def subprocess_env(self, base: dict[str, str] | None = None) -> dict[str, str]:
        """A complete environment for a child process: *base* (default ``os.environ``) with ours on top."""
        merged = {k: v for k, v in (os.environ if base is None else base).items() if k not in self.unset}
        merged.update(self.env)
        return merged

    def dbus_send(self, dest: str, path: str, method: str, *args: str, timeout: float = 10) -> str:
        """One D-Bus call with ``dbus-send``; its reply as ``--print-reply=literal`` prints it."""
        if self.bus_address is None:
            raise RuntimeError("no bus: this is no_secret_service")
        done = subprocess.run(
            [
                "dbus-send",
                "--session",
                "--print-reply=literal",
                f"--reply-timeout={int(timeout * 1000)}",
                f"--dest={dest}",
                path,
                method,
                *args,
            ],
            env=self.subprocess_env(),
            capture_output=True,
            text=True,
            timeout=timeout + 5,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"dbus-send {method} failed ({done.returncode}): {done.stderr.strip()}")
        return done.stdout

    def is_locked(self) -> bool:
        reply = self.dbus_send(
            SECRETS_BUS_NAME,
            self.collection,
            "org.freedesktop.DBus.Properties.Get",
            "string:org.freedesktop.Secret.Collection",
            "string:Locked",
        )
        return reply.split()[-1] == "true"

    def lock(self) -> None:
        """Lock the collection with the Secret Service's own ``Lock`` call, which needs no prompt.

        (libsecret-tools 0.20.5's ``secret-tool lock`` will not do: ``--collection=login`` locks and then
        dies of SIGSEGV; ``--collection=<object path>`` logs GLib-CRITICAL assertions, locks nothing and
        waits forever.)
        """
        self.dbus_send(
            SECRETS_BUS_NAME,
            "/org/freedesktop/secrets",
            "org.freedesktop.Secret.Service.Lock",
            f"array:objpath:{self.collection}",
        )
        if not self.is_locked():
            raise RuntimeError(f"{self.collection} is still unlocked after Lock")

    def has_owner(self, name: str = SECRETS_BUS_NAME) -> bool:
        """Whether *name* is owned on the bus. Asks the bus itself, so it never activates the service."""
        reply = self.dbus_send(
            "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus.NameHasOwner", f"string:{name}"
        )
        return reply.split()[-1] == "true"


def missing_binaries() -> list[str]:
    return [name for name in BINARIES if shutil.which(name) is None]


def skip_without_packages() -> None:
    missing = missing_binaries()
    if missing:
        pytest.skip(f"no {', '.join(missing)}: run `{MAKE_HINT}` (Debian's gnome-keyring, dbus, libsecret-tools)")


def base_env(root: Path) -> tuple[dict[str, str], tuple[str, ...]]:
    """HOME, XDG_* and the marker, all inside *root*; and the variables to remove."""
    home = root / "home"
    runtime = root / "runtime"
    for path in (home, runtime):
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
    env = {
        "HOME": str(home),
        "XDG_RUNTIME_DIR": str(runtime),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
        "XDG_CACHE_HOME": str(home / ".cache"),
        "XDG_STATE_HOME": str(home / ".local" / "state"),
        MARKER: str(root),
    }
    # KEYRING_PROPERTY_<NAME> sets <name> on every keyring backend, e.g. another preferred_collection.
    unset = _CLEARED + tuple(name for name in os.environ if name.startswith("KEYRING_PROPERTY_"))
    return env, unset


def processes_with_marker(root: Path | str) -> list[tuple[int, str]]:
    """(pid, command line) of every live process whose environment names *root* in the marker variable."""
    needle = f"{MARKER}={root}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environ = (entry / "environ").read_bytes()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z" and needle in environ.split(b"\0"):
            found.append((int(entry.name), cmdline))
    return found


def _die_with_parent() -> None:
    """In the child, before exec: SIGTERM when the test process dies, so a killed pytest leaves no daemon."""
    pr_set_pdeathsig = 1
    ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def _read_line(proc: subprocess.Popen[bytes], timeout: float) -> str:
    assert proc.stdout is not None
    ready, _, _ = select.select([proc.stdout], [], [], timeout)
    line = proc.stdout.readline().decode().strip() if ready else ""
    if not line:
        raise RuntimeError(f"dbus-daemon printed no address within {timeout} s (exit status {proc.poll()})")
    return line


@contextlib.contextmanager
def running_secret_service(root: Path | None = None, *, locked: bool = False) -> Iterator[SecretServiceEnv]:
    """Start a private session bus and gnome-keyring-daemon; stop them, and all they started, on exit.

    *root* holds HOME, the XDG dirs and the bus socket (a unix socket path has a 108-byte limit, so the
    default is a fresh short dir under the system temp dir, removed on exit). The login keyring is created
    with :data:`PASSWORD`, unlocked, and then locked again when *locked* is true.
    """
    missing = missing_binaries()
    if missing:
        raise FileNotFoundError(f"no {', '.join(missing)}: run `{MAKE_HINT}`")
    owned = root is None
    root = Path(tempfile.mkdtemp(prefix="loopauth-ss-")) if root is None else root
    env, unset = base_env(root)
    service = SecretServiceEnv(root=root, env=env, unset=unset)
    daemons: list[subprocess.Popen[bytes]] = []
    logs = root / "logs"
    logs.mkdir(exist_ok=True)
    try:
        with open(logs / "dbus-daemon.log", "wb") as log:
            bus = subprocess.Popen(
                [
                    "dbus-daemon",
                    "--session",
                    "--nofork",
                    "--nopidfile",
                    "--print-address=1",
                    f"--address=unix:path={root / 'runtime' / 'bus'}",
                ],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=log,
                env=service.subprocess_env(),
                preexec_fn=_die_with_parent,
            )
        daemons.append(bus)
        service.bus_address = _read_line(bus, START_TIMEOUT)
        service.env["DBUS_SESSION_BUS_ADDRESS"] = service.bus_address
        # --foreground keeps it our child (its pid is ours to stop); --unlock reads the login keyring's
        # password from stdin until EOF and creates that keyring, unlocked, as the default collection.
        with open(logs / "gnome-keyring-daemon.log", "wb") as log:
            keyring_daemon = subprocess.Popen(
                ["gnome-keyring-daemon", "--foreground", "--unlock", "--components=secrets"],
                stdin=subprocess.PIPE,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=service.subprocess_env(),
                preexec_fn=_die_with_parent,
            )
        daemons.append(keyring_daemon)
        assert keyring_daemon.stdin is not None
        keyring_daemon.stdin.write(PASSWORD.encode())
        keyring_daemon.stdin.close()
        service.pids = [p.pid for p in daemons]
        # Ask the bus, not the service: a call to org.freedesktop.secrets before our daemon owns the name
        # would have D-Bus activate a second gnome-keyring-daemon.
        deadline = time.monotonic() + START_TIMEOUT
        while not service.has_owner():
            if keyring_daemon.poll() is not None or time.monotonic() > deadline:
                log_text = (logs / "gnome-keyring-daemon.log").read_text(errors="replace")
                raise RuntimeError(
                    f"gnome-keyring-daemon did not come up (exit status {keyring_daemon.poll()}): {log_text.strip()}"
                )
            time.sleep(0.01)
        if service.is_locked():
            raise RuntimeError(f"{service.collection} is locked right after gnome-keyring-daemon --unlock")
        if locked:
            service.lock()
        yield service
    finally:
        for proc in reversed(daemons):
            _stop(proc)
            if proc.stdout is not None:
                proc.stdout.close()
        # D-Bus activated services (gcr-prompter; a gnome-keyring-daemon started on demand) are the bus's
        # children, not ours; they carry the marker. Normally they are gone with the bus already.
        for _ in range(50):
            leftovers = processes_with_marker(root)
            if not leftovers:
                break
            for pid, _cmd in leftovers:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.02)
        if owned:
            shutil.rmtree(root, ignore_errors=True)
        leftovers = processes_with_marker(root)
        if leftovers:
            raise RuntimeError(f"still running after SIGKILL: {leftovers}")


def _reset_keyring_cache() -> None:
    """Forget keyring's chosen backend and its once-per-process list of viable ones."""
    try:
        import keyring.backend
        import keyring.core
    except ImportError:
        return
    keyring.core._keyring_backend = None
    # get_all_keyring is jaraco.functools.once: its result sits in saved_result (reset() fails when unset).
    vars(keyring.backend.get_all_keyring).pop("saved_result", None)


@contextlib.contextmanager
def _applied(service: SecretServiceEnv) -> Iterator[SecretServiceEnv]:
    """*service*'s environment in os.environ (its own MonkeyPatch, so other fixtures' settings stay put)."""
    with pytest.MonkeyPatch.context() as mp:
        for name in service.unset:
            mp.delenv(name, raising=False)
        for name, value in service.env.items():
            mp.setenv(name, value)
        _reset_keyring_cache()
        try:
            yield service
        finally:
            _reset_keyring_cache()


@pytest.fixture
def secret_service() -> Iterator[SecretServiceEnv]:
    """A real Secret Service, unlocked, in this test's environment (os.environ and subprocesses)."""
    skip_without_packages()
    with running_secret_service() as service, _applied(service):
        yield service


@pytest.fixture
def locked_secret_service() -> Iterator[SecretServiceEnv]:
    """A real Secret Service whose default collection is locked, with no prompter that could unlock it."""
    skip_without_packages()
    with running_secret_service(locked=True) as service, _applied(service):
        yield service


@pytest.fixture
def no_secret_service(tmp_path: Path) -> Iterator[SecretServiceEnv]:
    """No session bus: DBUS_SESSION_BUS_ADDRESS unset, XDG_RUNTIME_DIR empty, HOME a temp dir."""
    root = tmp_path / "no-secret-service"
    env, unset = base_env(root)
    with _applied(SecretServiceEnv(root=root, env=env, unset=unset)) as service:
        yield service
