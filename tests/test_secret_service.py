"""Smoke tests of the Secret Service harness (tests/secret_service.py) and of what keyring does on it.

They pin down the behaviour a keyring store has to handle: set/get/delete on a real gnome-keyring, in
this process and in a child; a locked collection with no prompter (KeyringLocked, at once, not a hang);
no session bus (keyring's fail backend, never a usable one); the bus going away between calls (an
exception that is *not* a keyring.errors.KeyringError). Without Debian's gnome-keyring and dbus the
tests that need a daemon skip, naming ``make secret-service``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import keyring
import keyring.backends.fail
import keyring.backends.SecretService
import keyring.core
import keyring.errors
import pytest
import secretstorage

from .secret_service import (
    MAKE_HINT,
    SecretServiceEnv,
    processes_with_marker,
    running_secret_service,
    skip_without_packages,
)

pytestmark = pytest.mark.keyring

SERVICE = "loopauth-test"
# A child that would wait for an unlock prompt must fail the test, not wedge it.
CHILD_TIMEOUT = 30


def keyring_cli(
    *args: str, input: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """keyring's own CLI as a child process, with os.environ (which the fixtures set) unless *env* is given."""
    return subprocess.run(
        [sys.executable, "-m", "keyring", *args],
        input=input,
        capture_output=True,
        text=True,
        env=env,
        timeout=CHILD_TIMEOUT,
        check=False,
    )


def files_under(path: Path) -> list[str]:
    return sorted(str(p.relative_to(path)) for p in path.rglob("*") if p.is_file())


def test_set_get_delete_in_process(secret_service: SecretServiceEnv) -> None:
    backend = keyring.get_keyring()
    assert type(backend) is keyring.backends.SecretService.Keyring
    assert backend.priority >= 1

    keyring.set_password(SERVICE, "alice", "s3cr3t")
    assert keyring.get_password(SERVICE, "alice") == "s3cr3t"
    keyring.set_password(SERVICE, "alice", "rotated")
    assert keyring.get_password(SERVICE, "alice") == "rotated"
    keyring.delete_password(SERVICE, "alice")
    assert keyring.get_password(SERVICE, "alice") is None
    with pytest.raises(keyring.errors.PasswordDeleteError):
        keyring.delete_password(SERVICE, "alice")

    # The keyring is the throwaway one under the fixture's HOME, not the user's.
    assert os.environ["HOME"] == str(secret_service.root / "home")
    assert "home/.local/share/keyrings/login.keyring" in files_under(secret_service.root)


def test_a_child_process_uses_the_same_keyring(secret_service: SecretServiceEnv) -> None:
    keyring.set_password(SERVICE, "alice", "from-the-test")
    got = keyring_cli("get", SERVICE, "alice")
    assert (got.returncode, got.stdout) == (0, "from-the-test\n"), got.stderr

    # The other way, and with the environment passed explicitly as a tool that builds its own would.
    done = keyring_cli("set", SERVICE, "bob", input="from-the-child\n", env=secret_service.subprocess_env({}))
    assert done.returncode == 0, done.stderr
    assert keyring.get_password(SERVICE, "bob") == "from-the-child"

    assert keyring_cli("del", SERVICE, "bob").returncode == 0
    assert keyring.get_password(SERVICE, "bob") is None


LOCKED_CHILD = """
import time, keyring, keyring.backends.SecretService as ss
assert type(keyring.get_keyring()) is ss.Keyring, keyring.get_keyring()
for call, args in (("set_password", ("s", "u", "p")), ("get_password", ("s", "u")), ("delete_password", ("s", "u"))):
    start = time.monotonic()
    try:
        getattr(keyring, call)(*args)
    except Exception as e:
        print(call, type(e).__module__ + "." + type(e).__qualname__, round(time.monotonic() - start, 1))
    else:
        print(call, "no error")
"""


def test_locked_collection_raises_at_once(locked_secret_service: SecretServiceEnv) -> None:
    """No display, so gcr-prompter cannot start; gnome-keyring takes that as a dismissed prompt.

    In a child with a timeout: were there a prompter waiting for a click, keyring (which passes no
    timeout to the unlock) would wait forever, and this test must then fail rather than hang.
    """
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", LOCKED_CHILD], capture_output=True, text=True, timeout=CHILD_TIMEOUT, check=False
    )
    assert done.returncode == 0, done.stderr
    lines = [line.rsplit(" ", 1) for line in done.stdout.splitlines()]
    assert [head for head, _seconds in lines] == [
        "set_password keyring.errors.KeyringLocked",
        "get_password keyring.errors.KeyringLocked",
        "delete_password keyring.errors.KeyringLocked",
    ]
    assert all(float(seconds) < 5 for _head, seconds in lines), done.stdout
    assert time.monotonic() - started < CHILD_TIMEOUT
    assert locked_secret_service.is_locked()


def test_locked_collection_in_process(locked_secret_service: SecretServiceEnv) -> None:
    with pytest.raises(keyring.errors.KeyringLocked):
        keyring.set_password(SERVICE, "alice", "never-stored")
    # secretstorage's own unlock takes a timeout (3.5+); headless it answers "dismissed" long before it.
    with secretstorage.dbus_init() as connection:
        collection = secretstorage.get_default_collection(connection)
        assert collection.unlock(timeout=10) is True
        assert collection.is_locked()


def test_no_bus_gives_the_fail_backend(no_secret_service: SecretServiceEnv) -> None:
    assert "DBUS_SESSION_BUS_ADDRESS" not in os.environ
    backend = keyring.get_keyring()
    assert type(backend) is keyring.backends.fail.Keyring
    assert backend.priority < 1
    assert not keyring.core.recommended(backend)
    assert not keyring.backends.SecretService.Keyring.viable
    with pytest.raises(RuntimeError, match="DBUS_SESSION_BUS_ADDRESS is unset"):
        _ = keyring.backends.SecretService.Keyring.priority
    with pytest.raises(keyring.errors.NoKeyringError):
        keyring.set_password(SERVICE, "alice", "nowhere")
    assert files_under(no_secret_service.root) == []

    got = keyring_cli("get", SERVICE, "alice")
    assert got.returncode != 0
    assert "NoKeyringError" in got.stderr or "No recommended backend" in got.stderr, got.stderr


def test_bus_gone_midway(secret_service: SecretServiceEnv) -> None:
    """The session bus dies between two calls: secretstorage's exception comes through, not keyring's."""
    keyring.set_password(SERVICE, "alice", "before")
    bus_pid = secret_service.pids[0]
    os.kill(bus_pid, signal.SIGKILL)
    time.sleep(0.2)
    with pytest.raises(secretstorage.exceptions.SecretServiceNotAvailableException) as raised:
        keyring.get_password(SERVICE, "alice")
    assert not isinstance(raised.value, keyring.errors.KeyringError)
    assert isinstance(raised.value.__cause__, ConnectionRefusedError)


def test_nothing_is_left_running(tmp_path: Path) -> None:
    """Teardown ends the daemons and what D-Bus started for them (gcr-prompter, on an unlock attempt)."""
    skip_without_packages()
    with running_secret_service(tmp_path / "ss", locked=True) as service:
        pids = list(service.pids)
        assert {pid for pid, _cmd in processes_with_marker(service.root)} >= set(pids)
        unlock = subprocess.run(
            [sys.executable, "-c", "import keyring; keyring.get_password('s', 'u')"],
            env=service.subprocess_env(),
            capture_output=True,
            text=True,
            timeout=CHILD_TIMEOUT,
            check=False,
        )
        assert "KeyringLocked" in unlock.stderr
    assert processes_with_marker(tmp_path / "ss") == []


def test_skip_names_the_make_target(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(pytest.skip.Exception, match=MAKE_HINT):
        skip_without_packages()
    with pytest.raises(FileNotFoundError, match=MAKE_HINT), running_secret_service():
        pass
