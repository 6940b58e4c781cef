"""Tests for loopauth.store: modes, atomicity, symlinks, locking, corrupt files, crashes."""

from __future__ import annotations

import errno
import fcntl
import json
import os
import signal
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import platformdirs
import pytest

from loopauth.errors import EXIT_LOCAL, NotLoggedIn, StoreError, UsageError
from loopauth.models import Credentials, Provider
from loopauth.store import CredentialStore, ProfileEntry, config_dir, validate_profile_name

from .conftest import oauth1

SECRET = "s3cr3t-never-shown"


def make_creds(profile: str = "work", n: int = 1, *, endpoints: bool = False) -> Credentials:
    """Credentials whose fields all carry *n*, so a mix of two saves is detectable."""
    return Credentials(
        profile=profile,
        provider="example",
        consumer_key=f"ck-{n}",
        consumer_secret=f"cs-{n}-{SECRET}",
        oauth_token=f"tok-{n}",
        oauth_token_secret=f"ts-{n}-{SECRET}",
        user_id="42",
        screen_name="alice",
        created_at="2024-01-01T00:00:00Z",
        endpoints=Provider(
            name="example",
            request_token_url="https://example.com/rt",
            authorize_url="https://example.com/auth",
            access_token_url="https://example.com/at",
            authorize_params={"perms": "read"},
        )
        if endpoints
        else None,
    )


def mode_of(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


def temp_files(*dirs: Path) -> list[str]:
    return sorted(p.name for d in dirs for p in d.iterdir() if p.name.endswith(".tmp"))


def child_env(root: Path) -> dict[str, str]:
    return {**os.environ, "LOOPAUTH_CONFIG_DIR": str(root)}


def assert_whole(creds: Credentials) -> None:
    """All fields come from one save: the tag in each field is the same."""
    n = creds.oauth_token.removeprefix("tok-")
    assert creds.consumer_key == f"ck-{n}"
    assert creds.consumer_secret.startswith(f"cs-{n}-")
    assert creds.oauth_token_secret.startswith(f"ts-{n}-")


@pytest.fixture
def root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "config"
    monkeypatch.setenv("LOOPAUTH_CONFIG_DIR", str(path))
    return path


@pytest.fixture
def store(root: Path) -> CredentialStore:
    return CredentialStore()


skip_if_root = pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root bypasses file permissions")


# -- round trip and format ----------------------------------------------------------------------


def test_save_then_load_returns_equal_credentials(store: CredentialStore, root: Path) -> None:
    """A saved login loads back field for field, endpoints included."""
    creds = make_creds(endpoints=True)
    path = store.save(creds)
    assert path == root / "profiles" / "work.json"
    assert store.load("work") == creds


def test_saved_file_is_indented_sorted_json_with_trailing_newline(store: CredentialStore) -> None:
    """The file is the to_dict JSON, indent 2, sorted keys, newline-terminated."""
    creds = make_creds()
    path = store.save(creds)
    assert path.read_text() == json.dumps(creds.to_dict(), indent=2, sort_keys=True) + "\n"


def test_load_of_absent_profile_raises_not_logged_in(store: CredentialStore) -> None:
    """No file means NotLoggedIn naming the profile, not StoreError."""
    with pytest.raises(NotLoggedIn, match=r"no profile .nobody.") as info:
        store.load("nobody")
    assert info.value.profile == "nobody"


def test_load_uses_file_name_as_profile(store: CredentialStore, root: Path) -> None:
    """A file copied by hand to another name loads as that name, so a later save stays there."""
    store.save(make_creds("a"))
    (root / "profiles" / "b.json").write_bytes((root / "profiles" / "a.json").read_bytes())
    assert store.load("b").profile == "b"


# -- modes ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("umask", [0o000, 0o077, 0o277], ids=["umask000", "umask077", "umask277"])
def test_dirs_are_0700_and_files_0600_whatever_the_umask(root: Path, umask: int) -> None:
    """Created dirs are exactly 0700 and files 0600 even when the umask would loosen or narrow them."""
    old = os.umask(umask)
    try:
        store = CredentialStore()
        path = store.save(make_creds())
        store.save(make_creds(n=2))  # the lock file must still be openable the second time
    finally:
        os.umask(old)
    assert mode_of(root) == 0o700
    assert mode_of(root / "profiles") == 0o700
    assert mode_of(path) == 0o600
    assert mode_of(root / "profiles" / ".work.lock") == 0o600


def test_existing_dirs_keep_their_mode(root: Path) -> None:
    """Only directories we create are chmodded; an existing config dir is left as the user set it."""
    root.mkdir(mode=0o755)
    os.chmod(root, 0o755)  # noqa: S103 -- a user's own looser choice, which we must not change
    CredentialStore().save(make_creds())
    assert mode_of(root) == 0o755
    assert mode_of(root / "profiles") == 0o700


def test_save_over_world_readable_file_leaves_0600(store: CredentialStore, root: Path) -> None:
    """An old 0644 file does not pass its mode on to the new one."""
    (root / "profiles").mkdir(parents=True)
    old = root / "profiles" / "work.json"
    old.write_text(json.dumps(make_creds().to_dict()))
    os.chmod(old, 0o644)
    store.save(make_creds(n=2))
    assert mode_of(old) == 0o600
    assert oauth1(store.load("work")).oauth_token == "tok-2"


def test_check_writable_creates_private_dirs_and_leaves_no_file(root: Path, tmp_path: Path) -> None:
    """check_writable makes root and profiles 0700 (parents too) and removes its probe."""
    nested = tmp_path / "a" / "b"
    store = CredentialStore(nested)
    store.check_writable()
    assert mode_of(tmp_path / "a") == 0o700
    assert mode_of(nested) == 0o700
    assert mode_of(nested / "profiles") == 0o700
    assert list((nested / "profiles").iterdir()) == []


# -- atomicity -----------------------------------------------------------------------------------


def test_failed_replace_keeps_old_file_and_removes_temp(
    store: CredentialStore, root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """os.replace failing leaves the old bytes, no temp file, and a StoreError naming the path."""
    path = store.save(make_creds())
    before = path.read_bytes()

    def broken_replace(src: Any, dst: Any, **kwargs: Any) -> None:
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(StoreError) as info:
        store.save(make_creds(n=2))
    assert info.value.path == path
    assert info.value.exit_code == EXIT_LOCAL
    assert str(path) in str(info.value)
    assert SECRET not in str(info.value)
    assert path.read_bytes() == before
    assert temp_files(root / "profiles") == []


def test_failed_write_keeps_old_file_and_removes_temp(
    store: CredentialStore, root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A full disk mid-write leaves the old file whole and no temp file behind."""
    path = store.save(make_creds())
    before = path.read_bytes()

    def full_disk(fd: int, data: Any) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "write", full_disk)
    with pytest.raises(StoreError, match="No space left"):
        store.save(make_creds(n=2))
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert temp_files(root / "profiles") == []


def test_keyboard_interrupt_during_save_is_reraised_after_cleanup(
    store: CredentialStore, root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C is not turned into StoreError, and the temp file is still removed."""
    path = store.save(make_creds())
    before = path.read_bytes()

    def interrupted(src: Any, dst: Any, **kwargs: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        store.save(make_creds(n=2))
    assert path.read_bytes() == before
    assert temp_files(root / "profiles") == []


def test_save_removes_temp_files_left_by_a_killed_writer(store: CredentialStore, root: Path) -> None:
    """A leftover temp of this profile (its writer died holding the lock) is cleaned by the next save."""
    store.save(make_creds())
    stale = root / "profiles" / f".work.json.{os.urandom(6).hex()}.tmp"
    stale.write_text("half a secret")
    other = root / "profiles" / f".other.json.{os.urandom(6).hex()}.tmp"
    other.write_text("another profile's temp")
    store.save(make_creds(n=2))
    assert not stale.exists()
    assert other.exists()


# -- corrupt and unreadable files ----------------------------------------------------------------

CORRUPT_CONTENTS = {
    "empty": b"",
    "whitespace": b"  \n",
    "not-json": b'{"profile": "work", "oauth_token": ',
    "not-utf8": b"\xff\xfe" + SECRET.encode(),
    "array": b"[1, 2, 3]",
    "string": b'"just a string"',
    "missing-field": json.dumps({"profile": "work", "provider": "x", "oauth_token_secret": SECRET}).encode(),
    "wrong-type": json.dumps({**make_creds().to_dict(), "oauth_token": 12345}).encode(),
}


@pytest.mark.parametrize("content", CORRUPT_CONTENTS.values(), ids=CORRUPT_CONTENTS.keys())
def test_corrupt_file_raises_store_error_for_that_profile_only(
    store: CredentialStore, root: Path, content: bytes
) -> None:
    """A bad file gives a StoreError naming it; other profiles load and list normally."""
    store.save(make_creds("good"))
    bad = root / "profiles" / "work.json"
    bad.write_bytes(content)
    with pytest.raises(StoreError) as info:
        store.load("work")
    message = str(info.value)
    assert info.value.path == bad
    assert str(bad) in message
    assert "corrupt or unreadable" in message
    assert "log in again" in message
    assert SECRET not in message
    assert store.load("good").profile == "good"
    entries = store.profiles()
    assert [e.name for e in entries] == ["good", "work"]
    assert entries[0].credentials is not None
    assert entries[0].error is None
    assert entries[1].credentials is None
    assert entries[1].error == message


def test_directory_in_place_of_file_is_unreadable_store_error(store: CredentialStore, root: Path) -> None:
    """An unreadable profile (here a directory, so it works as root) is a StoreError, and listed as one."""
    bad = root / "profiles" / "work.json"
    bad.mkdir(parents=True)
    with pytest.raises(StoreError, match="corrupt or unreadable") as info:
        store.load("work")
    assert info.value.path == bad
    [entry] = store.profiles()
    assert entry == ProfileEntry(name="work", path=bad, credentials=None, error=str(info.value))


def test_fifo_in_place_of_file_does_not_hang_load(store: CredentialStore, root: Path) -> None:
    """A FIFO named like a profile is reported, not opened for a blocking read."""
    (root / "profiles").mkdir(parents=True)
    fifo = root / "profiles" / "work.json"
    os.mkfifo(fifo)
    with pytest.raises(StoreError, match="not a regular file"):
        store.load("work")


@skip_if_root
def test_unreadable_file_raises_store_error(store: CredentialStore) -> None:
    """A file we may not read is a StoreError naming it."""
    path = store.save(make_creds())
    os.chmod(path, 0o000)
    with pytest.raises(StoreError, match="Permission denied") as info:
        store.load("work")
    assert info.value.path == path


def test_save_repairs_a_corrupt_file(store: CredentialStore, root: Path) -> None:
    """Logging in again replaces a corrupt file with a good one."""
    (root / "profiles").mkdir(parents=True)
    (root / "profiles" / "work.json").write_text("{garbage")
    store.save(make_creds(n=3))
    assert oauth1(store.load("work")).oauth_token == "tok-3"


# -- listing and deleting ------------------------------------------------------------------------


def test_profiles_of_missing_dir_is_empty(store: CredentialStore, root: Path) -> None:
    """No config dir yet means no profiles, and listing creates nothing."""
    assert store.profiles() == []
    assert not root.exists()


def test_profiles_are_sorted_and_skip_locks_temps_and_foreign_files(store: CredentialStore, root: Path) -> None:
    """Only <valid-name>.json files are profiles, listed by name."""
    for name in ("zeta", "alpha", "Mid"):
        store.save(make_creds(name))
    profiles = root / "profiles"
    (profiles / ".alpha.json.0123456789ab.tmp").write_text("{}")
    (profiles / "notes.txt").write_text("hi")
    (profiles / "bad name.json").write_text("{}")
    assert [e.name for e in store.profiles()] == ["Mid", "alpha", "zeta"]
    assert all(e.error is None and e.credentials is not None for e in store.profiles())


def test_delete_removes_file_and_reports_whether_it_did(store: CredentialStore) -> None:
    """delete is True once, then False, and the profile is then not logged in."""
    path = store.save(make_creds())
    assert store.delete("work") is True
    assert not path.exists()
    assert store.delete("work") is False
    with pytest.raises(NotLoggedIn):
        store.load("work")


def test_delete_without_store_creates_nothing(store: CredentialStore, root: Path) -> None:
    """Deleting from a store that does not exist writes nothing at all."""
    assert store.delete("work") is False
    assert not root.exists()


# -- symlinks ------------------------------------------------------------------------------------


def test_symlinked_config_dir_is_followed_and_survives_save(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A config dir that is a symlink stays one; the profile lands in the real directory."""
    real = tmp_path / "dotfiles" / "loopauth"
    real.mkdir(parents=True)
    link = tmp_path / "config"
    link.symlink_to(real)
    monkeypatch.setenv("LOOPAUTH_CONFIG_DIR", str(link))
    store = CredentialStore()
    store.save(make_creds())
    store.save(make_creds(n=2))
    assert link.is_symlink()
    assert os.readlink(link) == str(real)
    assert (real / "profiles" / "work.json").is_file()
    assert oauth1(store.load("work")).oauth_token == "tok-2"
    assert temp_files(real / "profiles") == []


def test_symlinked_profile_file_is_written_through(store: CredentialStore, root: Path, tmp_path: Path) -> None:
    """Saving to a symlinked profile replaces the link's target and keeps the link."""
    store.check_writable()
    elsewhere = tmp_path / "vault"
    elsewhere.mkdir()
    target = elsewhere / "work-creds.json"
    target.write_text(json.dumps(make_creds().to_dict()))
    os.chmod(target, 0o644)
    link = root / "profiles" / "work.json"
    link.symlink_to(target)
    store.save(make_creds(n=2))
    assert link.is_symlink()
    assert os.readlink(link) == str(target)
    assert json.loads(target.read_text())["oauth_token"] == "tok-2"
    assert mode_of(target) == 0o600
    assert oauth1(store.load("work")).oauth_token == "tok-2"
    assert temp_files(root / "profiles", elsewhere) == []


def test_delete_of_a_symlinked_profile_removes_the_link_never_its_target(
    store: CredentialStore, root: Path, tmp_path: Path
) -> None:
    """logout of a symlinked profile removes the profile entry itself; the file it points to stays whole."""
    store.check_writable()
    target = tmp_path / "id_ed25519"
    target.write_text("not a credential file, and not ours to delete")
    link = root / "profiles" / "work.json"
    link.symlink_to(target)
    assert store.delete("work") is True
    assert not os.path.lexists(link)
    assert target.read_text() == "not a credential file, and not ours to delete"
    assert store.delete("work") is False


# -- read-only locations -------------------------------------------------------------------------


@skip_if_root
def test_read_only_dir_gives_one_store_error_naming_it(store: CredentialStore, root: Path) -> None:
    """check_writable and save fail at once with a StoreError naming the read-only directory."""
    store.check_writable()
    profiles = root / "profiles"
    os.chmod(profiles, 0o500)
    try:
        with pytest.raises(StoreError, match="Permission denied") as info:
            store.check_writable()
        assert info.value.path == profiles
        assert str(profiles) in str(info.value)
        started = time.monotonic()
        with pytest.raises(StoreError) as info:
            store.save(make_creds())
        assert time.monotonic() - started < 1.0  # no retry loop
        assert info.value.path == profiles
    finally:
        os.chmod(profiles, 0o700)


@skip_if_root
def test_uncreatable_config_dir_is_named(tmp_path: Path) -> None:
    """A config dir whose parent is read-only is named in the StoreError."""
    parent = tmp_path / "ro"
    parent.mkdir(mode=0o500)
    try:
        with pytest.raises(StoreError) as info:
            CredentialStore(parent / "config").check_writable()
        assert info.value.path == parent / "config"
        assert str(parent / "config") in str(info.value)
    finally:
        os.chmod(parent, 0o700)


def test_read_only_filesystem_is_one_attempt_and_one_error(
    store: CredentialStore, root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With creation refused (EROFS, simulated so it also runs as root) each call tries once and fails."""
    store.check_writable()
    real_open = os.open
    attempts: list[str] = []

    def read_only_open(path: Any, flags: int, mode: int = 0o777, **kwargs: Any) -> int:
        if flags & os.O_CREAT:
            attempts.append(str(path))
            raise OSError(errno.EROFS, "Read-only file system")
        return real_open(path, flags, mode, **kwargs)

    with monkeypatch.context() as m:
        m.setattr(os, "open", read_only_open)
        with pytest.raises(StoreError, match="Read-only file system") as info:
            store.check_writable()
        assert info.value.path == root / "profiles"
        assert len(attempts) == 1
        started = time.monotonic()
        with pytest.raises(StoreError, match=f"credential directory {root / 'profiles'}"):
            store.save(make_creds())
        assert time.monotonic() - started < 1.0
        assert len(attempts) == 2


# -- config dir and names ------------------------------------------------------------------------


def test_config_dir_honours_env_var(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """LOOPAUTH_CONFIG_DIR wins; empty means the platform default."""
    monkeypatch.setenv("LOOPAUTH_CONFIG_DIR", str(tmp_path / "x"))
    assert config_dir() == tmp_path / "x"
    monkeypatch.setenv("LOOPAUTH_CONFIG_DIR", "")
    assert config_dir() == platformdirs.user_config_path("loopauth")
    monkeypatch.delenv("LOOPAUTH_CONFIG_DIR")
    assert config_dir() == platformdirs.user_config_path("loopauth")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the platformdirs shortcut is Linux-only")
@pytest.mark.parametrize(
    ("xdg", "home"),
    [
        (None, "/home/u"),
        (None, "/home/u/"),
        (None, "/"),
        ("", "/home/u"),
        ("/x/conf", "/home/u"),
        ("/x/conf/", None),
        ("//x//conf", "/home/u"),
        ("   ", "/home/u"),
        ("relative/conf", "/home/u"),
        ("~/conf", "/home/u"),
        (None, "relative-home"),
        (None, ""),
        (None, None),
    ],
)
def test_config_dir_agrees_with_platformdirs(
    monkeypatch: pytest.MonkeyPatch, xdg: str | None, home: str | None
) -> None:
    """Without LOOPAUTH_CONFIG_DIR the store finds exactly the directory platformdirs names, whether it
    resolves the plain cases itself (to keep platformdirs off the token path) or asks platformdirs."""
    monkeypatch.delenv("LOOPAUTH_CONFIG_DIR", raising=False)
    for name, value in (("XDG_CONFIG_HOME", xdg), ("HOME", home)):
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    try:
        expected: Path | str = platformdirs.user_config_path("loopauth")
    except RuntimeError as exc:  # newer platformdirs refuse a home they cannot resolve
        expected = str(exc)
    try:
        got: Path | str = config_dir()
    except RuntimeError as exc:
        got = str(exc)
    assert got == expected


def test_load_without_env_var_skips_platformdirs_on_linux(tmp_path: Path) -> None:
    """The common case, no LOOPAUTH_CONFIG_DIR and an absolute HOME, reads the login without platformdirs."""
    home = tmp_path / "home"
    CredentialStore(home / ".config" / "loopauth").save(make_creds())
    env = {k: v for k, v in os.environ.items() if k not in ("LOOPAUTH_CONFIG_DIR", "XDG_CONFIG_HOME")}
    env["HOME"] = str(home)
    code = "import sys, loopauth\nprint(loopauth.load('work').screen_name, 'platformdirs' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    assert out.split() == ["alice", str(not sys.platform.startswith("linux"))]


def test_store_root_is_resolved_lazily(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The default root is read from the environment on first use, not at construction."""
    monkeypatch.delenv("LOOPAUTH_CONFIG_DIR", raising=False)
    store = CredentialStore()
    monkeypatch.setenv("LOOPAUTH_CONFIG_DIR", str(tmp_path / "late"))
    assert store.root == tmp_path / "late"
    assert CredentialStore(tmp_path / "explicit").path_for("p") == tmp_path / "explicit" / "profiles" / "p.json"


@pytest.mark.parametrize("name", ["../x", "a/b", "", ".hidden", "-x", "x" * 65, "a\n", "a b", "a\x00"])
def test_invalid_profile_names_raise_usage_error(store: CredentialStore, name: str) -> None:
    """Names that could escape the directory or hide as dotfiles are refused everywhere."""
    with pytest.raises(UsageError, match="invalid profile name"):
        validate_profile_name(name)
    with pytest.raises(UsageError):
        store.path_for(name)
    with pytest.raises(UsageError):
        store.load(name)
    with pytest.raises(UsageError):
        store.delete(name)
    with pytest.raises(UsageError):
        store.save(make_creds(name))


@pytest.mark.parametrize("name", ["a", "9", "Work.2_b-c", "x" * 64])
def test_valid_profile_names_are_accepted(name: str) -> None:
    """Letters, digits, dot, underscore and dash, up to 64, starting alphanumeric."""
    assert validate_profile_name(name) == name


# -- locking -------------------------------------------------------------------------------------


def hold_lock(root: Path, profile: str) -> int:
    """Take the profile's lock from this process through a separate open file."""
    (root / "profiles").mkdir(parents=True, exist_ok=True)
    fd = os.open(root / "profiles" / f".{profile}.lock", os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    return fd


def test_busy_lock_times_out_with_store_error(root: Path) -> None:
    """While another writer holds the lock, save and delete give up with 'busy' and change nothing."""
    store = CredentialStore(lock_timeout=0.2)
    path = store.save(make_creds())
    before = path.read_bytes()
    fd = hold_lock(root, "work")
    try:
        with pytest.raises(StoreError, match="profile 'work' is busy: another loopauth is writing it") as info:
            store.save(make_creds(n=2))
        assert info.value.path == root / "profiles" / ".work.lock"
        with pytest.raises(StoreError, match="busy"):
            store.delete("work")
        store.save(make_creds("other"))  # other profiles are not blocked
    finally:
        os.close(fd)
    assert path.read_bytes() == before
    store.save(make_creds(n=3))
    assert oauth1(store.load("work")).oauth_token == "tok-3"


def test_save_waits_for_a_lock_released_in_time(root: Path) -> None:
    """A writer holding the lock briefly delays the save instead of failing it."""
    store = CredentialStore(lock_timeout=5.0)
    fd = hold_lock(root, "work")
    timer = threading.Timer(0.3, os.close, args=(fd,))
    timer.start()
    started = time.monotonic()
    try:
        store.save(make_creds(n=2))
    finally:
        timer.join()
    assert time.monotonic() - started >= 0.25
    assert oauth1(store.load("work")).oauth_token == "tok-2"


PARALLEL_CHILD = """
import sys, time
from loopauth.errors import StoreError
from loopauth.models import Credentials
from loopauth.store import CredentialStore
profile, tag, start, count = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4])
store = CredentialStore(lock_timeout=float(sys.argv[5]))
while time.time() < start:
    time.sleep(0.001)
busy = 0
for i in range(count):
    n = f"{tag}.{i}"
    creds = Credentials(profile=profile, provider="example", consumer_key=f"ck-{n}", consumer_secret=f"cs-{n}-x",
                        oauth_token=f"tok-{n}", oauth_token_secret=f"ts-{n}-x" * 100)
    try:
        store.save(creds)
    except StoreError as exc:
        if "is busy" not in exc.message:
            raise
        busy += 1
print(busy)
"""


def test_parallel_saves_never_mix_or_lose_files(root: Path) -> None:
    """8 processes save at once: distinct profiles all land; the shared one is always one whole credential."""
    count = 25
    start = time.time() + 0.5  # let every child import first so their saves overlap
    procs: list[tuple[str, subprocess.Popen[str]]] = []
    for k in range(8):
        profile = f"solo{k}" if k < 4 else "shared"
        argv = [sys.executable, "-c", PARALLEL_CHILD, profile, str(k), str(start), str(count), "0.5" if k == 7 else "5"]
        proc = subprocess.Popen(argv, env=child_env(root), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        procs.append((profile, proc))
    store = CredentialStore()
    reads = 0
    while any(proc.poll() is None for _, proc in procs):
        try:
            assert_whole(oauth1(store.load("shared")))  # readers never see a torn file, even mid-write
            reads += 1
        except NotLoggedIn:
            pass
        time.sleep(0.002)
    for profile, proc in procs:
        out, err = proc.communicate()
        assert proc.returncode == 0, err
        if profile != "shared":
            assert out.strip() == "0"  # nobody else writes a solo profile, so it is never busy
    for k in range(4):
        creds = oauth1(store.load(f"solo{k}"))
        assert creds.oauth_token == f"tok-{k}.{count - 1}"
        assert_whole(creds)
    shared = oauth1(store.load("shared"))
    assert_whole(shared)
    assert shared.oauth_token.split(".")[0] in {"tok-4", "tok-5", "tok-6", "tok-7"}
    assert temp_files(root / "profiles") == []
    assert reads > 0


KILL_CHILD = """
from loopauth.models import Credentials
from loopauth.store import CredentialStore
store = CredentialStore()
i = 0
while True:
    store.save(Credentials(profile="victim", provider="example", consumer_key=f"ck-{i}", consumer_secret=f"cs-{i}-x",
                           oauth_token=f"tok-{i}", oauth_token_secret=f"ts-{i}-x" * 2000))
    if i == 0:
        print("ready", flush=True)
    i += 1
"""


def test_writer_killed_at_random_moments_never_leaves_a_torn_file(root: Path) -> None:
    """SIGKILL a saving process 20 times: the profile always parses as one whole credential."""
    store = CredentialStore()
    for _ in range(20):
        proc = subprocess.Popen([sys.executable, "-c", KILL_CHILD], env=child_env(root), stdout=subprocess.PIPE)
        assert proc.stdout is not None
        assert proc.stdout.readline() == b"ready\n"
        # A random 0-20 ms into the save loop; os.urandom rather than random to keep the linter quiet.
        time.sleep(int.from_bytes(os.urandom(2), "big") / 65535 * 0.02)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        proc.stdout.close()
        assert_whole(oauth1(store.load("victim")))
    store.save(make_creds("victim"))  # also sweeps the temp files the kills left behind
    assert temp_files(root / "profiles") == []


# -- import cost ---------------------------------------------------------------------------------


def test_load_imports_nothing_heavy(store: CredentialStore, root: Path) -> None:
    """Importing the store and loading a profile pulls in no tempfile/secrets/asyncio/aiohttp/oauthlib/platformdirs."""
    store.save(make_creds())
    code = (
        "import sys\n"
        "from loopauth.store import CredentialStore\n"
        "CredentialStore().load('work')\n"
        "heavy = ['tempfile', 'secrets', 'asyncio', 'aiohttp', 'oauthlib', 'platformdirs']\n"
        "print(','.join(m for m in heavy if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], env=child_env(root), capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""


def test_the_active_profile_is_the_environments_then_the_switched_one_then_default(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """LOOPAUTH_PROFILE wins; else <config>/active names it; else 'default'; a bad active file is ignored."""
    store = CredentialStore(root)
    monkeypatch.delenv("LOOPAUTH_PROFILE", raising=False)
    assert store.active() == "default"
    root.mkdir(parents=True, exist_ok=True)
    (root / "active").write_text("work\n")
    assert store.active() == "work"
    assert store.resolve(None) == "work"
    assert store.resolve("named") == "named"
    monkeypatch.setenv("LOOPAUTH_PROFILE", "env")
    assert store.active() == "env"
    monkeypatch.setenv("LOOPAUTH_PROFILE", "../x")
    with pytest.raises(UsageError):
        store.active()
    monkeypatch.delenv("LOOPAUTH_PROFILE")
    (root / "active").write_text("../../etc/passwd")
    assert store.active() == "default"


def test_set_active_writes_the_name_atomically_0600_and_clear_active_removes_it(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`switch` stores the active profile as a profile is stored: one 0600 file, replaced whole, no temp left."""
    monkeypatch.delenv("LOOPAUTH_PROFILE", raising=False)
    store = CredentialStore(root)
    assert store.switched() is None
    assert store.clear_active() is False
    assert not root.exists()  # nothing to clear, so nothing written
    store.set_active("work")
    assert (root / "active").read_text() == "work\n"
    assert mode_of(root / "active") == 0o600
    assert mode_of(root) == 0o700
    assert (store.switched(), store.active()) == ("work", "work")
    store.set_active("bot")
    assert store.active() == "bot"
    assert temp_files(root) == []
    with pytest.raises(UsageError):
        store.set_active("../x")
    assert store.clear_active() is True
    assert (store.switched(), store.active()) == (None, "default")


def test_an_active_file_others_could_have_written_is_refused_and_a_fifo_does_not_hang(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The active file is read with a profile's checks: writable by others is exit 6; not a regular file names none."""
    monkeypatch.delenv("LOOPAUTH_PROFILE", raising=False)
    store = CredentialStore(root)
    store.set_active("work")
    (root / "active").chmod(0o666)
    with pytest.raises(StoreError, match="writable by other users"):
        store.active()
    (root / "active").unlink()
    os.mkfifo(root / "active", 0o600)
    assert store.active() == "default"


def test_names_lists_profiles_from_the_directory_without_reading_them(root: Path) -> None:
    """Completion's list: every valid `*.json` name, a corrupt one included; lock and temp files left out."""
    store = CredentialStore(root)
    assert store.names() == []
    store.save(make_creds("work"))
    store.save(make_creds("alt"))
    (root / "profiles" / "broken.json").write_text("{")
    (root / "profiles" / ".hidden.json").write_text("{}")
    assert store.names() == ["alt", "broken", "work"]
    assert store.storage_of("work") == ("file", str(root / "profiles" / "work.json"))
