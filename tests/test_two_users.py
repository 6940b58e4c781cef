"""Another Unix user against your config dir: the attacks of issue 18, played with two real throwaway users.

As root, the module creates a victim and an attacker with ``useradd`` (and removes them afterwards).
Files the attacker plants are made by root and handed to the attacker with ``lchown``: the same
state as if the attacker had made them. loopauth then runs as the victim, in a process that drops
root's uid and groups for the victim's before it does anything (see ``VICTIM``). Without root the
module is skipped, with the reason in pytest's summary.
"""

# ruff: noqa: S103 -- modes that let other users in are what these tests are about

from __future__ import annotations

import grp
import json
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from loopauth.store import CredentialStore

from .test_store import make_creds

pytestmark = [
    pytest.mark.skipif(
        not hasattr(os, "geteuid") or os.geteuid() != 0,
        reason="needs root: creates two throwaway Unix users with useradd and runs loopauth as one of them",
    ),
    pytest.mark.skipif(shutil.which("useradd") is None, reason="needs useradd to create two throwaway Unix users"),
    # The two users (the module's fixture) are made once, on one pytest-xdist worker, not once per worker.
    pytest.mark.xdist_group("two_users"),
]

# The test's interpreter and the checkout may live where the victim cannot read (pyenv under /root, a clone in
# a 0700 `mktemp -d`), so the child imports everything the commands need while it is still root: every module of
# loopauth (the CLI imports each verb's module lazily) and what they use. Then it becomes the victim for good and
# runs the CLI, which needs nothing more from the disk.
VICTIM = r"""
import os, sys
import asyncio, concurrent.futures.thread, encodings.idna, grp, json, pwd, secrets, shlex, tomllib, webbrowser
import aiohttp, aiohttp.web, oauthlib.oauth1
import importlib, pkgutil, loopauth
for module in pkgutil.walk_packages(loopauth.__path__, "loopauth."):
    if module.name == "loopauth.__main__":
        continue  # it would run the CLI
    try:
        importlib.import_module(module.name)
    except ImportError:
        pass  # an optional extra that is not installed (keyring, rsa): then no command here needs it
uid, gid = int(sys.argv[1]), int(sys.argv[2])
os.setgroups([])
os.setresgid(gid, gid, gid)
os.setresuid(uid, uid, uid)
sys.exit(loopauth.cli.main(sys.argv[3:]))
"""

ATTACKER_TOKEN = "attacker-planted-token"


@dataclass(frozen=True)
class User:
    name: str
    uid: int
    gid: int


@dataclass(frozen=True)
class Machine:
    victim: User
    attacker: User
    base: Path
    home: Path
    """The victim's home: the files an attacker would like loopauth to overwrite, chmod or delete."""

    def victim_run(self, *args: str, config: Path) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, "LOOPAUTH_CONFIG_DIR": str(config), "HOME": str(self.home), "PYTHONDONTWRITEBYTECODE": "1"}
        argv = [sys.executable, "-c", VICTIM, str(self.victim.uid), str(self.victim.gid), *args]
        return subprocess.run(
            argv, env=env, capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL, cwd=self.base
        )

    def give(self, path: Path, user: User, mode: int) -> Path:
        os.lchown(path, user.uid, user.gid)
        if not path.is_symlink():
            os.chmod(path, mode)
        return path


def _useradd(name: str) -> User:
    made = subprocess.run(
        ["useradd", "--system", "--user-group", "--no-create-home", "--shell", "/usr/sbin/nologin", name],
        capture_output=True,
        text=True,
        check=False,
    )
    if made.returncode != 0:
        pytest.skip(f"cannot create a throwaway Unix user here: useradd said {made.stderr.strip()!r}")
    entry = pwd.getpwnam(name)
    return User(name, entry.pw_uid, entry.pw_gid)


def _userdel(name: str) -> None:
    subprocess.run(["userdel", name], capture_output=True, check=False)
    try:
        grp.getgrnam(name)
    except KeyError:
        return
    subprocess.run(["groupdel", name], capture_output=True, check=False)


@pytest.fixture(scope="module")
def machine() -> Iterator[Machine]:
    tag = os.urandom(3).hex()
    names = [f"la-victim-{tag}", f"la-attacker-{tag}"]
    users: list[User] = []
    base = Path(tempfile.mkdtemp(prefix="loopauth-two-users-"))
    try:
        for name in names:
            users.append(_useradd(name))
        os.chmod(base, 0o755)
        victim, attacker = users
        home = base / "home"
        (home / ".ssh").mkdir(parents=True)
        (home / ".bashrc").write_text("# the victim's shell setup\n")
        (home / "notes.txt").write_text("the victim's notes\n")
        (home / ".ssh" / "id_ed25519").write_text("-----BEGIN OPENSSH PRIVATE KEY-----\n")
        m = Machine(victim, attacker, base, home)
        for path, mode in [
            (home, 0o700),
            (home / ".ssh", 0o700),
            (home / ".bashrc", 0o644),
            (home / "notes.txt", 0o644),
            (home / ".ssh" / "id_ed25519", 0o600),
        ]:
            m.give(path, victim, mode)
        yield m
    finally:
        shutil.rmtree(base, ignore_errors=True)
        for name in names:
            _userdel(name)


def _victims_files_untouched(m: Machine) -> None:
    assert (m.home / ".bashrc").read_text() == "# the victim's shell setup\n"
    assert (m.home / ".ssh" / "id_ed25519").exists()
    assert os.stat(m.home / "notes.txt").st_mode & 0o777 == 0o644
    assert not (m.home / "created-by-a-lock").exists()


def _plant_profile(path: Path) -> None:
    creds = make_creds("default").replace(oauth_token=ATTACKER_TOKEN)
    path.write_text(json.dumps(creds.to_dict()))


def _mkdir(m: Machine, path: Path, owner: User, mode: int) -> Path:
    path.mkdir()
    return m.give(path, owner, mode)


def test_a_shared_world_writable_config_dir_cannot_be_used_against_its_owner(machine: Machine) -> None:
    """In a 0777 config dir (CI's /tmp), the attacker's symlinks and profile change nothing: each command exits 6."""
    m = machine
    config = _mkdir(m, m.base / "ci-config", m.victim, 0o777)
    profiles = _mkdir(m, config / "profiles", m.attacker, 0o777)
    links = {
        "demo.json": m.home / ".bashrc",  # a login would overwrite it with token JSON
        ".demo.lock": m.home / "notes.txt",  # the lock's open + fchmod would make it 0600
        ".work.lock": m.home / "created-by-a-lock",  # ... or create a file of the attacker's choosing
        "work.json": m.home / ".ssh" / "id_ed25519",  # logout would delete it
    }
    for name, target in links.items():
        (profiles / name).symlink_to(target)
        m.give(profiles / name, m.attacker, 0)
    _plant_profile(profiles / "default.json")
    m.give(profiles / "default.json", m.attacker, 0o644)

    for args in (["demo", "--auto"], ["logout", "--profile", "work"], ["token"], ["list"]):
        result = m.victim_run(*args, config=config)
        assert result.returncode == 6, (args, result.stderr)
        last = result.stderr.strip().splitlines()[-1]
        assert last.startswith("loopauth: error:"), result.stderr
        assert f"{config} is writable by other users (mode 0777)" in last
        assert ATTACKER_TOKEN not in result.stdout
    _victims_files_untouched(m)


def test_a_config_dir_another_user_owns_is_refused(machine: Machine) -> None:
    """The attacker's own dir with a planted profile and a [twitter] table: exit 6 naming the owner and the mode."""
    m = machine
    config = _mkdir(m, m.base / "attackers-config", m.attacker, 0o755)
    profiles = _mkdir(m, config / "profiles", m.attacker, 0o755)
    _plant_profile(profiles / "default.json")
    m.give(profiles / "default.json", m.attacker, 0o644)
    toml = config / "providers.toml"
    toml.write_text(
        "[twitter]\n"
        'request_token_url = "http://127.0.0.1:9/steal"\n'
        'authorize_url = "http://127.0.0.1:9/steal"\n'
        'access_token_url = "http://127.0.0.1:9/steal"\n'
    )
    m.give(toml, m.attacker, 0o644)
    login = ["login", "--provider", "x", "--consumer-key", "k", "--consumer-secret", "s", "--no-browser"]
    for args in (["token"], ["providers", "--json"], login):
        result = m.victim_run(*args, config=config)
        assert result.returncode == 6, (args, result.stderr)
        assert f"{config} belongs to uid {m.attacker.uid} (mode 0755)" in result.stderr
        assert ATTACKER_TOKEN not in result.stdout
        assert "steal" not in result.stdout + result.stderr


def test_a_symlink_another_user_owns_is_not_followed_to_the_config_dir(machine: Machine) -> None:
    """LOOPAUTH_CONFIG_DIR through the attacker's symlink (they could re-point it at will): exit 6."""
    m = machine
    real = _mkdir(m, m.base / "victims-real-config", m.victim, 0o700)
    link = m.base / "shared-link"
    link.symlink_to(real)
    m.give(link, m.attacker, 0)
    result = m.victim_run("list", config=link)
    assert result.returncode == 6
    assert f"{link} is a symlink that belongs to uid {m.attacker.uid}" in result.stderr


def _victims_config(m: Machine, config: Path) -> Path:
    """A config dir of the victim's with a saved profile 'default' (saved by root, then handed over)."""
    CredentialStore(config).save(make_creds("default"))
    for path in [config, config / "profiles", *(config / "profiles").iterdir()]:
        os.lchown(path, m.victim.uid, m.victim.gid)
    return config


def test_the_victims_own_dirs_still_work_links_and_private_group_included(machine: Machine) -> None:
    """Controls: a private dir, a symlink of the victim's own, and 0770 with the victim's private group all work;
    0770 with the attacker's group does not."""
    m = machine
    config = _victims_config(m, m.base / "victims-config")
    assert m.victim_run("token", "--field", "oauth_token", config=config).stdout == "tok-1\n"

    link = m.base / "victims-link"
    link.symlink_to(config)
    m.give(link, m.victim, 0)
    assert m.victim_run("token", "--field", "oauth_token", config=link).returncode == 0

    os.chmod(config, 0o770)
    result = m.victim_run("token", "--field", "oauth_token", config=config)
    assert result.returncode == 0, result.stderr  # the group is the victim's alone (user private groups)

    os.chown(config, m.victim.uid, m.attacker.gid)
    result = m.victim_run("token", config=config)
    assert result.returncode == 6
    assert f"{config} is writable by other users (mode 0770)" in result.stderr

    os.chown(config, m.victim.uid, m.victim.gid)
    os.chmod(config, 0o700)
    result = m.victim_run("logout", config=config)
    assert result.returncode == 0, result.stderr
    assert not (config / "profiles" / "default.json").exists()
