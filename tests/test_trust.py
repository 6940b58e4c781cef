"""A config dir someone else could write to: refused like ssh's StrictModes; symlinks, locks, odd and huge files.

These run as any user. tests/test_two_users.py plays the same attacks with a second Unix user.
"""

# ruff: noqa: S103 -- modes that let other users in are what these tests are about

from __future__ import annotations

import json
import os
import stat
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import pytest

from loopauth.errors import StoreError
from loopauth.store import CredentialStore

from .conftest import Cli, oauth1, run_cli
from .test_store import make_creds, mode_of

OPEN_MODES = [0o777, 0o1777, 0o703]


def _planted(root: Path) -> Path:
    """A saved profile 'work', as another user would find it."""
    CredentialStore(root).save(make_creds())
    return root / "profiles" / "work.json"


@pytest.mark.parametrize("mode", OPEN_MODES, ids=[f"{m:04o}" for m in OPEN_MODES])
@pytest.mark.parametrize("which", ["config", "profiles"])
def test_a_dir_others_can_write_to_is_refused_by_every_store_call(config_dir: Path, which: str, mode: int) -> None:
    """load, list, save, delete and the login's pre-check all refuse, naming the directory and its mode."""
    path = _planted(config_dir)
    before = path.read_bytes()
    shared = config_dir if which == "config" else config_dir / "profiles"
    os.chmod(shared, mode)
    store = CredentialStore()
    calls: list[Callable[[], object]] = [
        lambda: store.load("work"),
        store.profiles,
        lambda: store.save(make_creds(n=2)),
        lambda: store.delete("work"),
        store.check_writable,
    ]
    for call in calls:
        with pytest.raises(StoreError) as info:
            call()
        assert f"{shared} is writable by other users (mode {mode:04o})" in info.value.message
        assert info.value.path == shared
        assert info.value.exit_code == 6
    assert path.read_bytes() == before
    assert sorted(p.name for p in path.parent.iterdir()) == [".work.lock", "work.json"]


def test_cli_names_the_directory_and_its_mode_in_one_line(cli: Cli, config_dir: Path) -> None:
    """`loopauth token` on a world-writable config dir: exit 6, one line with the path and the mode."""
    _planted(config_dir)
    os.chmod(config_dir, 0o777)
    result = cli("token")
    assert result.returncode == 6
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert str(config_dir) in result.stderr
    assert "mode 0777" in result.stderr


def test_a_symlinked_lock_file_is_never_followed(config_dir: Path, tmp_path: Path) -> None:
    """A symlink in place of the lock file neither creates its target nor changes the mode of an existing one."""
    store = CredentialStore()
    store.check_writable()
    existing = tmp_path / "notes.txt"
    existing.write_text("mine")
    os.chmod(existing, 0o644)
    lock = config_dir / "profiles" / ".work.lock"
    lock.symlink_to(existing)
    with pytest.raises(StoreError, match=r"lock file .* is a symlink"):
        store.save(make_creds())
    assert mode_of(existing) == 0o644
    lock.unlink()
    lock.symlink_to(tmp_path / "created-by-a-lock")
    with pytest.raises(StoreError, match="is a symlink"):
        store.save(make_creds())
    assert not (tmp_path / "created-by-a-lock").exists()
    assert not (config_dir / "profiles" / "work.json").exists()


def test_a_symlinked_profile_is_written_through_only_into_a_private_directory(config_dir: Path, tmp_path: Path) -> None:
    """A profile symlinked into a directory others can write to is not saved there (they could swap the file)."""
    store = CredentialStore()
    store.check_writable()
    shared = tmp_path / "shared"
    shared.mkdir()
    os.chmod(shared, 0o777)
    (config_dir / "profiles" / "work.json").symlink_to(shared / "work.json")
    with pytest.raises(StoreError, match=rf"{shared} is writable by other users \(mode 0777\)"):
        store.check_writable("work")
    with pytest.raises(StoreError, match="writable by other users"):
        store.save(make_creds())
    assert list(shared.iterdir()) == []
    os.chmod(shared, 0o700)
    store.save(make_creds())
    assert json.loads((shared / "work.json").read_text())["oauth_token"] == "tok-1"


def test_a_profile_file_others_can_write_to_is_refused(config_dir: Path) -> None:
    """A profile with mode 0666 could carry anybody's tokens: refused, and listed as unusable."""
    path = _planted(config_dir)
    os.chmod(path, 0o666)
    with pytest.raises(StoreError, match=r"writable by other users \(mode 0666\)"):
        CredentialStore().load("work")
    [entry] = CredentialStore().profiles()
    assert entry.credentials is None
    assert entry.error is not None
    assert "mode 0666" in entry.error


def test_a_huge_profile_is_corrupt_without_being_read(config_dir: Path) -> None:
    """A 64 MiB sparse profile is refused from its size alone: memory stays flat."""
    path = _planted(config_dir)
    os.truncate(path, 64 << 20)
    tracemalloc.start()
    try:
        with pytest.raises(StoreError, match="larger than 1 MiB"):
            CredentialStore().load("work")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 1 << 20


# -- providers.toml ----------------------------------------------------------------------------------


def test_a_fifo_as_providers_toml_does_not_hang(config_dir: Path) -> None:
    """`loopauth providers` with a FIFO in place of providers.toml ends at once with one line, exit 2."""
    config_dir.mkdir(mode=0o700)
    os.mkfifo(config_dir / "providers.toml")
    started = time.monotonic()
    result = run_cli("providers", timeout=20)
    assert result.returncode == 2, result.stderr
    assert "providers.toml: cannot read: not a regular file" in result.stderr
    assert time.monotonic() - started < 15


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_a_device_as_providers_toml_is_refused_without_reading_it(config_dir: Path, device: str) -> None:
    """A symlink to an endless device is not a regular file: exit 2, no MemoryError."""
    config_dir.mkdir(mode=0o700)
    (config_dir / "providers.toml").symlink_to(device)
    result = run_cli("providers", timeout=20)
    assert result.returncode == 2, result.stderr
    assert "not a regular file" in result.stderr
    assert "MemoryError" not in result.stderr


def test_a_huge_providers_toml_is_refused_from_its_size(config_dir: Path) -> None:
    """A 64 MiB sparse providers.toml: exit 2 naming the limit, not parsed."""
    config_dir.mkdir(mode=0o700)
    with open(config_dir / "providers.toml", "wb") as f:
        f.truncate(64 << 20)
    result = run_cli("providers", timeout=20)
    assert result.returncode == 2, result.stderr
    assert "larger than 1 MiB" in result.stderr


def test_providers_toml_in_a_dir_others_can_write_to_is_refused(config_dir: Path) -> None:
    """A [twitter] table in a world-writable config dir could send the login elsewhere: exit 6 before reading it."""
    config_dir.mkdir(mode=0o700)
    (config_dir / "providers.toml").write_text(
        '[twitter]\nrequest_token_url = "https://evil.example/rt"\n'
        'authorize_url = "https://evil.example/a"\naccess_token_url = "https://evil.example/at"\n'
    )
    os.chmod(config_dir, 0o777)
    for args in (("providers",), ("login", "--provider", "x", "--consumer-key", "k", "--consumer-secret", "s")):
        result = run_cli(*args)
        assert result.returncode == 6, result.stderr
        assert "mode 0777" in result.stderr
        assert "evil.example" not in result.stdout + result.stderr


def test_a_providers_toml_others_can_write_to_is_refused(config_dir: Path) -> None:
    """providers.toml itself with mode 0666: exit 6 naming it."""
    config_dir.mkdir(mode=0o700)
    toml = config_dir / "providers.toml"
    toml.write_text("")
    os.chmod(toml, 0o666)
    result = run_cli("providers")
    assert result.returncode == 6
    assert f"{toml} is writable by other users (mode 0666)" in result.stderr


def test_the_private_config_dir_a_login_makes_passes_its_own_check(config_dir: Path) -> None:
    """The directories loopauth creates are exactly what it then trusts."""
    store = CredentialStore()
    store.save(make_creds())
    assert stat.S_IMODE(config_dir.stat().st_mode) == 0o700
    assert oauth1(store.load("work")).oauth_token == "tok-1"


def test_logout_of_a_symlinked_profile_says_the_target_is_still_there(
    cli: Cli, config_dir: Path, tmp_path: Path
) -> None:
    """Only the link is removed; logout says where the file it pointed to is."""
    CredentialStore().check_writable()
    target = tmp_path / "vault.json"
    target.write_text(json.dumps(make_creds("default").to_dict()))
    os.chmod(target, 0o600)
    (config_dir / "profiles" / "default.json").symlink_to(target)
    result = cli("logout")
    assert result.returncode == 0
    assert f"the file it pointed to is still there: {target}" in result.stderr
    assert target.exists()
    assert not os.path.lexists(config_dir / "profiles" / "default.json")
