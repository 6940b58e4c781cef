"""The keyring store against a real Secret Service (tests/secret_service.py: gnome-keyring on a private D-Bus).

What is checked: the secrets go into one keyring entry and never into the file; token, refreshes and
logout use the profile's own store; saves and moves that fail half-way leave the profile as it was;
readers never see a half-switched profile; listing unlocks nothing; and keyring's own backend selection
(``PYTHON_KEYRING_BACKEND``, ``keyringrc.cfg``, ``KEYRING_PROPERTY_*``) never decides where secrets go.
Without Debian's gnome-keyring and dbus these skip, naming ``make secret-service``.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import threading
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import Any

import keyring.backends.SecretService
import pytest
import secretstorage

import loopauth
from loopauth.errors import EXIT_LOCAL, StoreError
from loopauth.models import OAuth2Credentials
from loopauth.store import CredentialStore

from .conftest import Cli, browser_env, demo_login_args, run_cli, run_cli_async
from .demo_probes import DemoOAuth2Provider, DemoProvider
from .secret_service import LOGIN_COLLECTION, SecretServiceEnv
from .test_oauth2 import Browser, _age, login2
from .test_store import SECRET, make_creds

# tests/plaintext_keyring.py writes here. Only child processes may import it: keyring keeps every backend class
# it has seen, for good, and would pick it (priority 100) in every later test of this process.
PLAINTEXT_KEYRING_FILE = "LOOPAUTH_TEST_PLAINTEXT_KEYRING"
pytestmark = pytest.mark.keyring

SERVICE = "loopauth"


def entries(collection: str | None = None) -> dict[str, dict[str, Any]]:
    """Every loopauth entry in the (unlocked) default collection, or in ``collection``: user name -> secrets."""
    with closing(secretstorage.dbus_init()) as connection:
        where = secretstorage.Collection(connection, collection) if collection else secretstorage.Collection(connection)
        return {
            item.get_attributes()["username"]: json.loads(item.get_secret())
            for item in where.search_items({"service": SERVICE})
        }


def entry_names() -> list[str]:
    """The loopauth entries' names, read without unlocking (a locked collection still answers a search)."""
    with closing(secretstorage.dbus_init()) as connection:
        collection = secretstorage.Collection(connection)
        return sorted(item.get_attributes()["username"] for item in collection.search_items({"service": SERVICE}))


def profile_file(config_dir: Path, name: str = "work") -> Path:
    return config_dir / "profiles" / f"{name}.json"


def error_line(stderr: str) -> str:
    [line] = [line for line in stderr.splitlines() if line.startswith("loopauth: error:")]
    return line


# -- the keyring store end to end --------------------------------------------------------------------------------


async def test_a_keyring_login_keeps_every_secret_out_of_its_file(
    secret_service: SecretServiceEnv, demo: DemoProvider, config_dir: Path
) -> None:
    """`login --store keyring`: one entry under service loopauth holds the secrets; the file holds none of them and
    says where they are; `token` prints the same as the file store would."""
    result = await run_cli_async(*demo_login_args(demo, "--store", "keyring", "--profile", "work"), env=browser_env())
    assert result.returncode == 0, result.stderr
    assert (
        "saved as profile 'work' in the OS keyring (Secret Service, service 'loopauth', entry 'work/" in result.stdout
    )

    [(name, secrets)] = entries().items()
    assert name.startswith("work/")
    assert set(secrets) == {"consumer_secret", "oauth_token", "oauth_token_secret"}
    stored = json.loads(profile_file(config_dir).read_text())
    assert stored["store"] == "keyring"
    assert stored["keyring"] == {"service": "loopauth", "entry": name}
    assert not set(secrets) & set(stored)
    raw = profile_file(config_dir).read_text()
    assert all(value not in raw for value in secrets.values())
    assert stored["screen_name"] == "loopauth_demo"

    token = await run_cli_async("token", "--profile", "work", "--json")
    assert token.returncode == 0, token.stderr
    printed = json.loads(token.stdout)
    assert {key: printed[key] for key in secrets} == secrets
    assert printed["consumer_key"] == demo.consumer_key
    # Through the library too, and the entry is still the one and only.
    public = {key: value for key, value in stored.items() if key not in ("store", "keyring", "secrets")}
    assert stored["secrets"] == sorted(secrets)  # which secrets the entry holds, never what they are
    assert CredentialStore().load("work").to_dict() == {**public, **secrets}
    assert list(entries()) == [name]


def test_list_and_where_read_only_the_file_and_token_fails_on_a_locked_keyring(
    secret_service: SecretServiceEnv, config_dir: Path
) -> None:
    """Locked keyring: `list` still shows the profile, its account and its store, and `where` names the entry;
    `token` is exit 6 with one line saying the keyring is locked; nothing is changed."""
    store = CredentialStore()
    store.save(make_creds(), kind="keyring")
    before = profile_file(config_dir).read_bytes()
    secret_service.lock()

    listed = run_cli("list")
    assert listed.returncode == 0, listed.stderr
    header, row = listed.stdout.splitlines()
    assert header.split()[-1] == "STORE"
    assert row.split()[0] == "work"
    assert "@alice" in row
    assert row.split()[-1] == "keyring"
    assert "secrets are in the OS keyring (Secret Service)" in listed.stderr
    [entry] = json.loads(run_cli("list", "--json").stdout)
    assert (entry["store"], entry["screen_name"]) == ("keyring", "alice")
    where = store.where("work")
    assert (where.kind, where.entry) == ("keyring", entry_names()[0])
    status = run_cli("status", "--profile", "work")
    assert status.returncode == 0, status.stderr
    assert "@alice" in status.stdout
    assert "keyring the OS keyring" in status.stdout
    assert secret_service.is_locked()  # listing and status unlocked nothing

    token = run_cli("token", "--profile", "work")
    assert token.returncode == EXIT_LOCAL
    assert error_line(token.stderr) == (
        "loopauth: error: cannot use the OS keyring (Secret Service): the keyring is locked and the unlock prompt was "
        "dismissed"
    )
    assert token.stdout == ""
    assert profile_file(config_dir).read_bytes() == before
    assert secret_service.is_locked()


def test_logout_deletes_the_entry_then_the_file_and_a_locked_keyring_deletes_neither(
    secret_service: SecretServiceEnv, config_dir: Path
) -> None:
    """`logout` of a keyring profile removes its entry and its file; when the entry cannot be removed (locked), it
    removes nothing and says how to forget the profile anyway."""
    store = CredentialStore()
    store.save(make_creds("work"), kind="keyring")
    store.save(make_creds("other"), kind="keyring")
    assert len(entry_names()) == 2

    secret_service.lock()
    refused = run_cli("logout", "--profile", "work")
    assert refused.returncode == EXIT_LOCAL
    assert "the keyring is locked" in error_line(refused.stderr)
    assert f"nothing was deleted (to forget profile 'work' anyway, remove {profile_file(config_dir)})" in refused.stderr
    assert profile_file(config_dir).exists()
    assert len(entry_names()) == 2


def test_logout_of_a_keyring_profile_removes_both(secret_service: SecretServiceEnv, config_dir: Path) -> None:
    store = CredentialStore()
    store.save(make_creds("work"), kind="keyring")
    store.save(make_creds("other"), kind="keyring")
    [other] = [name for name in entry_names() if name.startswith("other/")]

    done = run_cli("logout", "--profile", "work")
    assert done.returncode == 0, done.stderr
    assert "Logged out: deleted profile 'work' and its secrets in the OS keyring (Secret Service)" in done.stderr
    assert not profile_file(config_dir).exists()
    assert entry_names() == [other]
    assert store.load("other") == make_creds("other")


async def test_logout_revoke_reads_the_keyring_then_deletes_both(
    secret_service: SecretServiceEnv, demo: DemoProvider, config_dir: Path
) -> None:
    revoke = demo.provider.revoke_url
    assert revoke is not None
    login = await run_cli_async(*demo_login_args(demo, "--store", "keyring", "--revoke-url", revoke), env=browser_env())
    assert login.returncode == 0, login.stderr
    done = await run_cli_async("logout", "--revoke")
    assert done.returncode == 0, done.stderr
    assert "Revoked the token at demo" in done.stderr
    assert entry_names() == []
    assert not profile_file(config_dir, "default").exists()


# -- OAuth 2.0 refreshes --------------------------------------------------------------------------------------------


@pytest.fixture
async def demo2() -> Any:
    async with DemoOAuth2Provider() as provider:
        yield provider


async def test_a_refresh_writes_a_new_entry_renames_the_file_then_drops_the_old_entry(
    secret_service: SecretServiceEnv, demo2: DemoOAuth2Provider, config_dir: Path
) -> None:
    """A due token of a keyring profile is refreshed in place: the rotated pair is in a new entry that the file names,
    the old entry is gone, and the profile stays in the keyring store."""
    first = await login2(demo2, Browser(), storage="keyring")
    [old_name] = entry_names()
    _age()
    assert entry_names() != [old_name]  # the save that aged it wrote a new entry too
    [aged_name] = entry_names()

    fresh = await asyncio.to_thread(loopauth.load)
    assert isinstance(fresh, OAuth2Credentials)
    assert demo2.refreshes == 1
    assert fresh.refresh_token != first.refresh_token
    [(new_name, secrets)] = entries().items()
    assert new_name not in (old_name, aged_name)
    assert secrets == {"access_token": fresh.access_token, "refresh_token": fresh.refresh_token}
    stored = json.loads(profile_file(config_dir, "default").read_text())
    assert (stored["store"], stored["keyring"]["entry"], stored["expires_at"]) == (
        "keyring",
        new_name,
        fresh.expires_at,
    )
    assert "access_token" not in stored
    assert "refresh_token" not in stored


async def test_eight_processes_at_expiry_of_a_keyring_profile_cause_one_refresh(
    secret_service: SecretServiceEnv, demo2: DemoOAuth2Provider
) -> None:
    await login2(demo2, Browser(), storage="keyring")
    _age()
    results = await asyncio.gather(*(run_cli_async("token", "--field", "access_token") for _ in range(8)))
    assert [r.returncode for r in results] == [0] * 8, [r.stderr for r in results]
    assert demo2.refreshes == 1
    assert demo2.refresh_token_reuses == 0
    assert len({r.stdout for r in results}) == 1
    assert len(entry_names()) == 1


async def test_a_refresh_whose_file_cannot_be_written_removes_the_new_entry_and_keeps_the_old_pair(
    secret_service: SecretServiceEnv, demo2: DemoOAuth2Provider, config_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The new pair is in the keyring, then the rename of the file fails: the new entry is removed, so the file and
    the keyring still agree on the old pair (exactly what the file store keeps when its write fails), marked as
    refreshing by the save made before the refresh was sent: that refresh token is spent."""
    await login2(demo2, Browser(), storage="keyring")
    aged = _age()
    [old_name] = entry_names()
    written: list[str] = []
    real_set: Callable[[Any, str, str, str], None] = keyring.backends.SecretService.Keyring.set_password
    real_write: Callable[..., None] = loopauth.store.trusted.write_atomic

    def set_password(self: Any, service: str, username: str, password: str) -> None:
        written.append(username)
        real_set(self, service, username, password)

    def no_rename_after_the_mark(*args: Any, **kwargs: Any) -> None:
        if len(written) < 2:
            return real_write(*args, **kwargs)  # the mark, saved before the refresh is sent
        raise StoreError("cannot save credentials: disk full (test)", path=config_dir)

    with monkeypatch.context() as patched:
        patched.setattr(keyring.backends.SecretService.Keyring, "set_password", set_password)
        patched.setattr("loopauth.store.keyring.write_atomic", no_rename_after_the_mark)
        with pytest.raises(StoreError, match="disk full"):
            await asyncio.to_thread(loopauth.load)
    assert demo2.refreshes == 1
    assert len(written) == 2
    marked, new = written
    assert old_name not in (marked, new)  # the mark and the new pair each got a new entry ...
    assert entry_names() == [marked]  # ... and the new pair's was removed again
    assert CredentialStore().load("default") == aged.replace(refreshing=True)


async def test_a_refresh_whose_keyring_write_fails_changes_nothing(
    secret_service: SecretServiceEnv, demo2: DemoOAuth2Provider, config_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The keyring is locked between the read and the write of a refresh (the real service refuses): exit 6's
    StoreError, no new entry, the file untouched."""
    await login2(demo2, Browser(), storage="keyring")
    _age()
    before = profile_file(config_dir, "default").read_bytes()
    names = entry_names()
    real_set: Callable[[Any, str, str, str], None] = keyring.backends.SecretService.Keyring.set_password

    def lock_first(self: Any, service: str, username: str, password: str) -> None:
        secret_service.lock()
        real_set(self, service, username, password)

    monkeypatch.setattr(keyring.backends.SecretService.Keyring, "set_password", lock_first)
    with pytest.raises(StoreError, match=r"cannot write the secrets to the OS keyring \(Secret Service\)"):
        await asyncio.to_thread(loopauth.load)
    assert entry_names() == names
    assert profile_file(config_dir, "default").read_bytes() == before


def test_a_new_keyring_profile_whose_file_cannot_be_written_leaves_no_entry(
    secret_service: SecretServiceEnv, config_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_rename(*args: object) -> None:
        raise StoreError("cannot save credentials: disk full (test)", path=config_dir)

    monkeypatch.setattr("loopauth.store.keyring.write_atomic", no_rename)
    with pytest.raises(StoreError, match="disk full"):
        CredentialStore().save(make_creds(), kind="keyring")
    assert entry_names() == []
    assert not profile_file(config_dir).exists()


def test_readers_never_see_a_half_switched_profile(secret_service: SecretServiceEnv, config_dir: Path) -> None:
    """While a writer saves again and again (each save a new entry, the file renamed, the old entry deleted), every
    `token` started meanwhile prints one whole, stored pair: a reader that loses the race reads the file again."""
    store = CredentialStore()
    store.save(make_creds(n=0), kind="keyring")
    stop = threading.Event()
    saved = [0]

    def writer() -> None:
        n = 0
        while not stop.is_set():
            n += 1
            store.save(make_creds(n=n))
            saved[0] = n
            stop.wait(0.1)  # room for a reader that lost the race to take the lock (polled every 50 ms)

    thread = threading.Thread(target=writer)
    thread.start()
    try:

        async def readers() -> list[Any]:
            return await asyncio.gather(*(run_cli_async("token", "--profile", "work", "--json") for _ in range(12)))

        results = asyncio.run(readers())
    finally:
        stop.set()
        thread.join(30)
    assert saved[0] > 3
    assert [r.returncode for r in results] == [0] * 12, [r.stderr for r in results]
    for result in results:
        printed = json.loads(result.stdout)
        n = printed["oauth_token"].removeprefix("tok-")
        assert printed["consumer_secret"] == f"cs-{n}-{SECRET}"
        assert printed["oauth_token_secret"] == f"ts-{n}-{SECRET}"
    assert len(entry_names()) == 1


# -- moving between the stores -------------------------------------------------------------------------------------


def test_move_to_the_keyring_and_back(secret_service: SecretServiceEnv, config_dir: Path, cli: Cli) -> None:
    """file -> keyring -> file: the same `token` output throughout; in the keyring the file holds no secret; back in
    the file the entry is gone; moving to where it is already changes nothing."""
    CredentialStore().save(make_creds())
    token = run_cli("token", "--profile", "work", "--json").stdout

    moved = cli("move", "--profile", "work", "--to", "keyring")
    assert moved.returncode == 0, moved.stderr
    assert "Moved profile 'work' to the keyring store: the OS keyring (Secret Service" in moved.stderr
    assert SECRET not in profile_file(config_dir).read_text()
    [name] = entry_names()
    assert run_cli("token", "--profile", "work", "--json").stdout == token
    again = cli("move", "--profile", "work", "--to", "keyring")
    assert again.returncode == 0
    assert "is already in the keyring store" in again.stderr
    assert entry_names() == [name]

    back = cli("move", "--profile", "work", "--to", "file")
    assert back.returncode == 0, back.stderr
    assert f"Deleted its entry '{name}' from the OS keyring" in back.stderr
    assert entry_names() == []
    assert json.loads(profile_file(config_dir).read_text()) == make_creds().to_dict()
    assert run_cli("token", "--profile", "work", "--json").stdout == token


def test_a_move_to_a_locked_keyring_leaves_the_file_as_it_was(
    locked_secret_service: SecretServiceEnv, config_dir: Path, cli: Cli
) -> None:
    CredentialStore().save(make_creds())
    before = profile_file(config_dir).read_bytes()
    refused = cli("move", "--profile", "work", "--to", "keyring")
    assert refused.returncode == EXIT_LOCAL
    assert "the keyring is locked and the unlock prompt was dismissed" in error_line(refused.stderr)
    assert profile_file(config_dir).read_bytes() == before
    assert entry_names() == []


def test_a_move_to_the_keyring_whose_file_cannot_be_written_leaves_the_file_and_no_entry(
    secret_service: SecretServiceEnv, config_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = CredentialStore()
    store.save(make_creds())
    before = profile_file(config_dir).read_bytes()

    def no_rename(*args: object) -> None:
        raise StoreError("cannot save credentials: disk full (test)", path=config_dir)

    monkeypatch.setattr("loopauth.store.keyring.write_atomic", no_rename)
    with pytest.raises(StoreError, match="disk full"):
        store.move("work", "keyring")
    assert entry_names() == []
    assert profile_file(config_dir).read_bytes() == before


def test_a_move_to_the_file_that_cannot_be_written_leaves_the_keyring_profile(
    secret_service: SecretServiceEnv, config_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = CredentialStore()
    store.save(make_creds(), kind="keyring")
    before = profile_file(config_dir).read_bytes()
    names = entry_names()

    def no_rename(*args: object) -> None:
        raise StoreError("cannot save credentials: disk full (test)", path=config_dir)

    with monkeypatch.context() as patched:
        patched.setattr("loopauth.store.backends.write_atomic", no_rename)
        with pytest.raises(StoreError, match="disk full"):
            store.move("work", "file")
    assert entry_names() == names
    assert profile_file(config_dir).read_bytes() == before
    assert store.load("work") == make_creds()


def test_a_move_whose_keyring_read_back_differs_is_undone(
    secret_service: SecretServiceEnv, config_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The entry reads back other than written (a keyring that mangles values): the file is not replaced and the
    new entry is removed."""
    store = CredentialStore()
    store.save(make_creds())
    before = profile_file(config_dir).read_bytes()
    real_get: Callable[[Any, str, str], str | None] = keyring.backends.SecretService.Keyring.get_password

    def mangled(self: Any, service: str, username: str) -> str | None:
        value = real_get(self, service, username)
        return None if value is None else value.replace("tok-1", "tok-X")

    with monkeypatch.context() as patched:
        patched.setattr(keyring.backends.SecretService.Keyring, "get_password", mangled)
        with pytest.raises(StoreError, match="read back is not what was written"):
            store.move("work", "keyring")
    assert entry_names() == []
    assert profile_file(config_dir).read_bytes() == before


def test_a_move_back_to_the_file_that_reads_back_differently_is_undone(
    secret_service: SecretServiceEnv, config_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """keyring -> file, and the file reads back other than the profile: the keyring profile's file is put back and
    its entry, never touched, still serves it."""
    store = CredentialStore()
    store.save(make_creds(), kind="keyring")
    before = profile_file(config_dir).read_bytes()
    names = entry_names()
    real_parse = loopauth.store.backends.parse

    def parse(path: Path, raw: bytes) -> dict[str, Any]:
        data = real_parse(path, raw)
        return {**data, "oauth_token": "tok-X"} if data.get("store") is None else data

    with monkeypatch.context() as patched:
        patched.setattr("loopauth.store.profiles.parse", parse)
        with pytest.raises(StoreError, match="read back from the file store"):
            store.move("work", "file")
    assert profile_file(config_dir).read_bytes() == before
    assert entry_names() == names
    assert store.load("work") == make_creds()


# -- choosing the store --------------------------------------------------------------------------------------------


def test_the_choice_sticks_and_each_source_is_honoured(
    secret_service: SecretServiceEnv, config_dir: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    """config.toml's default for new profiles; $LOOPAUTH_STORE over it; a re-login keeps the profile's store; --store
    over everything, and a re-login told to change stores moves the profile (the old entry goes)."""
    config_dir.mkdir(mode=0o700)
    (config_dir / "config.toml").write_text('store = "keyring"\n')
    assert cli("demo", "--auto", "--profile", "a").returncode == 0
    assert CredentialStore().where("a").kind == "keyring"

    monkeypatch.setenv("LOOPAUTH_STORE", "file")
    assert cli("demo", "--auto", "--profile", "b").returncode == 0
    assert CredentialStore().where("b").kind == "file"
    monkeypatch.delenv("LOOPAUTH_STORE")

    (config_dir / "config.toml").write_text('store = "file"\n')
    relogin = cli("demo", "--auto", "--profile", "a")
    assert relogin.returncode == 0, relogin.stderr
    assert CredentialStore().where("a").kind == "keyring"  # its own store, not config.toml's default
    assert "moved from" not in relogin.stderr
    [name] = entry_names()

    moved = cli("demo", "--auto", "--profile", "a", "--store", "file")
    assert moved.returncode == 0, moved.stderr
    assert "loopauth: note: profile 'a' moved from the keyring store to the file store" in moved.stderr
    assert CredentialStore().where("a").kind == "file"
    assert entry_names() == []
    assert name  # the entry that was there is gone

    to_keyring = cli("demo", "--auto", "--profile", "b", "--store", "keyring")
    assert to_keyring.returncode == 0, to_keyring.stderr
    assert "moved from the file store to the keyring store" in to_keyring.stderr
    assert CredentialStore().where("b").kind == "keyring"


# -- keyring's own choices never decide where secrets go -----------------------------------------------------------


@pytest.fixture
def plaintext_keyring_everywhere(
    tmp_path: Path, secret_service: SecretServiceEnv, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """PYTHON_KEYRING_BACKEND and keyringrc.cfg both select tests/plaintext_keyring.py (which also has the highest
    priority); yields the plaintext file it would write."""
    target = tmp_path / "plaintext-keyring.json"
    tests_dir = str(Path(__file__).resolve().parent)
    monkeypatch.setenv(PLAINTEXT_KEYRING_FILE, str(target))
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "plaintext_keyring.Keyring")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([tests_dir, os.environ.get("PYTHONPATH", "")]))
    rc = Path(os.environ["XDG_CONFIG_HOME"], "python_keyring", "keyringrc.cfg")
    rc.parent.mkdir(parents=True)
    rc.write_text(f"[backend]\ndefault-keyring=plaintext_keyring.Keyring\nkeyring-path={tests_dir}\n")
    # The setup works: keyring's own selection would pick the plaintext file.
    chosen = run_cli_python("import keyring; print(type(keyring.get_keyring()).__module__)")
    assert chosen == "plaintext_keyring"
    return target


def run_cli_python(code: str) -> str:
    import subprocess

    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    return done.stdout.strip()


async def test_python_keyring_backend_and_keyringrc_are_ignored(
    plaintext_keyring_everywhere: Path, demo: DemoProvider, config_dir: Path
) -> None:
    result = await run_cli_async(*demo_login_args(demo, "--store", "keyring"), env=browser_env())
    assert result.returncode == 0, result.stderr
    assert len(entries()) == 1
    assert not plaintext_keyring_everywhere.exists()
    token = await run_cli_async("token", "--field", "oauth_token")
    assert token.returncode == 0, token.stderr
    assert not plaintext_keyring_everywhere.exists()


def test_keyring_property_variables_cannot_redirect_the_entry(
    secret_service: SecretServiceEnv, monkeypatch: pytest.MonkeyPatch
) -> None:
    """KEYRING_PROPERTY_PREFERRED_COLLECTION would put the entry in the in-memory session collection (gone at
    logout) and KEYRING_PROPERTY_SCHEME would change its attributes: both are dropped."""
    monkeypatch.setenv("KEYRING_PROPERTY_PREFERRED_COLLECTION", "/org/freedesktop/secrets/collection/session")
    monkeypatch.setenv("KEYRING_PROPERTY_SCHEME", "KeePassXC")
    store = CredentialStore()
    store.save(make_creds(), kind="keyring")
    assert list(entries(LOGIN_COLLECTION)) == entry_names()
    assert len(entry_names()) == 1
    assert store.load("work") == make_creds()


def test_status_shows_each_profiles_store(secret_service: SecretServiceEnv, cli: Cli) -> None:
    """`status` says a keyring profile is in the OS keyring (naming its entry) and a file profile is a file."""
    store = CredentialStore()
    store.save(make_creds("work"), kind="keyring")
    store.save(make_creds("home"))
    [name] = entry_names()
    shown = cli("status")
    assert f"entry '{name}'" in shown.stdout
    assert "keyring the OS keyring (Secret Service" in shown.stdout
    assert f"file {store.path_for('home')}" in shown.stdout
    data = {e["profile"]: e for e in json.loads(cli("status", "--json").stdout)}
    assert (data["work"]["storage"], data["home"]["storage"]) == ("keyring", "file")
    assert SECRET not in shown.stdout
