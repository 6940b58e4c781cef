"""``loopauth credential git`` with a real git: clone and push over smart HTTP against git's own http-backend,
which takes only the OAuth 2.0 demo's current access token as the password."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from loopauth.credential.git import REFUSED_FILE
from loopauth.models import OAuth2Credentials
from loopauth.store import CredentialStore

from .demo_probes import DemoOAuth2Provider
from .git_server import GitServer
from .threaded_demos import in_a_thread, log_in_oauth2

GIT = shutil.which("git")
pytestmark = pytest.mark.skipif(GIT is None, reason="git is not installed (apt-get install git)")


@pytest.fixture
def demo2() -> Iterator[DemoOAuth2Provider]:
    with in_a_thread(DemoOAuth2Provider()) as provider:
        yield provider


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """git's environment: a HOME of its own and no system config, so the machine's git config is never read, and
    no terminal prompt, so a missing credential fails instead of waiting."""
    home = tmp_path / "home"
    home.mkdir()
    kept = {k: v for k, v in os.environ.items() if not k.startswith("GIT_") and k not in ("SSH_ASKPASS", "HOME")}
    return {
        **kept,
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_AUTHOR_NAME": "Tester",
        "GIT_AUTHOR_EMAIL": "tester@example.com",
        "GIT_COMMITTER_NAME": "Tester",
        "GIT_COMMITTER_EMAIL": "tester@example.com",
    }


@pytest.fixture
def server(tmp_path: Path, demo2: DemoOAuth2Provider, env: dict[str, str]) -> Iterator[GitServer]:
    """A bare repository ``project.git`` with one commit, served behind the demo's access-token check."""
    root = tmp_path / "repos"
    root.mkdir()
    run(["git", "init", "-q", "--bare", "-b", "main", str(root / "project.git")], env)
    seed = tmp_path / "seed"
    run(["git", "init", "-q", "-b", "main", str(seed)], env)
    (seed / "README").write_text("hello\n")
    run(["git", "-C", str(seed), "add", "README"], env)
    run(["git", "-C", str(seed), "commit", "-q", "-m", "first"], env)
    run(["git", "-C", str(seed), "push", "-q", str(root / "project.git"), "main"], env)
    with in_a_thread(GitServer(root, demo2.access_token_is_valid)) as served:
        yield served


def run(argv: list[str], env: dict[str, str], *, check: bool = True) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, env=env, capture_output=True, text=True, check=check, timeout=60)


def helper(*args: str) -> str:
    """The ``credential.helper`` value: loopauth run by this interpreter, through git's ``!`` shell form."""
    return "!" + shlex.join([sys.executable, "-m", "loopauth", "credential", "git", *args])


def git(server: GitServer, env: dict[str, str], *args: str, host: bool = True) -> subprocess.CompletedProcess[str]:
    """``git ARGS`` with loopauth as the only credential helper (``--host`` naming the server unless ``host`` is
    False)."""
    named = ("--host", f"127.0.0.1:{server.port}") if host else ()
    return run(
        ["git", "-c", "credential.helper=", "-c", f"credential.helper={helper(*named)}", *args], env, check=False
    )


def stored() -> OAuth2Credentials:
    creds = CredentialStore().load("default")
    assert isinstance(creds, OAuth2Credentials)
    return creds


def expire(demo2: DemoOAuth2Provider) -> str:
    """Make the profile's access token expired, for loopauth and for the provider; returns it."""
    creds = stored()
    now = int(time.time())
    CredentialStore().save(creds.replace(issued_at=now - 7200, expires_at=now - 3600))
    demo2.expire_access_tokens()
    return creds.access_token


def test_clone_and_push_with_the_profiles_access_token(
    server: GitServer, demo2: DemoOAuth2Provider, env: dict[str, str], tmp_path: Path
) -> None:
    """git clones and pushes with the profile's access token, as x-access-token-style Basic credentials."""
    creds = log_in_oauth2(demo2)
    work = tmp_path / "work"
    cloned = git(server, env, "clone", "-q", f"{server.base_url}/project.git", str(work))
    assert cloned.returncode == 0, cloned.stderr
    assert (work / "README").read_text() == "hello\n"
    (work / "NEWS").write_text("pushed\n")
    run(["git", "-C", str(work), "add", "NEWS"], env)
    run(["git", "-C", str(work), "commit", "-q", "-m", "second"], env)
    pushed = git(server, env, "-C", str(work), "push", "-q", "origin", "main")
    assert pushed.returncode == 0, pushed.stderr
    log = run(["git", "--git-dir", str(server.root / "project.git"), "log", "--format=%s", "main"], env)
    assert log.stdout.split() == ["second", "first"]
    assert set(server.accepted) == {creds.access_token}
    assert demo2.refreshes == 0
    assert not (work / ".git" / "config").read_text().count(creds.access_token)


def test_an_expired_token_is_refreshed_once_before_git_sends_it(
    server: GitServer, demo2: DemoOAuth2Provider, env: dict[str, str], tmp_path: Path
) -> None:
    """After expiry the helper refreshes (once) and git sends the new token; the next git reuses it."""
    log_in_oauth2(demo2)
    old = expire(demo2)
    cloned = git(server, env, "clone", "-q", f"{server.base_url}/project.git", str(tmp_path / "work"))
    assert cloned.returncode == 0, cloned.stderr
    assert demo2.refreshes == 1
    new = stored().access_token
    assert new != old
    assert set(server.accepted) == {new}
    again = git(server, env, "ls-remote", f"{server.base_url}/project.git")
    assert again.returncode == 0, again.stderr
    assert demo2.refreshes == 1


def test_a_refused_token_is_erased_and_the_next_get_refreshes_once(
    server: GitServer, demo2: DemoOAuth2Provider, env: dict[str, str], tmp_path: Path
) -> None:
    """The server refuses a token before its time (revoked): git sends erase, and the next get refreshes first."""
    creds = log_in_oauth2(demo2)
    revoked = requests.post(
        demo2.endpoints.revoke_url, data={"token": creds.access_token, "client_id": demo2.public_client_id}, timeout=10
    )
    assert revoked.status_code == 200
    assert not demo2.access_token_is_valid(creds.access_token)
    url = f"{server.base_url}/project.git"
    failed = git(server, env, "ls-remote", url)
    assert failed.returncode != 0
    assert creds.access_token in server.refused
    assert demo2.refreshes == 0  # erase deletes nothing and refreshes nothing; it leaves a note
    notes = json.loads((CredentialStore().root / REFUSED_FILE).read_text())
    assert set(notes) == {"default"}
    assert creds.access_token not in json.dumps(notes)
    assert stored().access_token == creds.access_token
    cloned = git(server, env, "clone", "-q", url, str(tmp_path / "work"))
    assert cloned.returncode == 0, cloned.stderr
    assert demo2.refreshes == 1
    assert server.accepted == [stored().access_token] * len(server.accepted)
    assert git(server, env, "ls-remote", url).returncode == 0
    assert demo2.refreshes == 1  # the note was about the old token only


def test_eight_gits_at_once_after_expiry_cause_one_refresh(
    server: GitServer, demo2: DemoOAuth2Provider, env: dict[str, str]
) -> None:
    """Eight git processes started together on an expired token: one refresh, no refresh token sent twice."""
    log_in_oauth2(demo2)
    expire(demo2)
    named = ("--host", f"127.0.0.1:{server.port}")
    argv = ["git", "-c", "credential.helper=", "-c", f"credential.helper={helper(*named)}", "ls-remote"]
    procs = [
        subprocess.Popen(
            [*argv, f"{server.base_url}/project.git"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(8)
    ]
    results = [proc.communicate(timeout=120) for proc in procs]
    assert [proc.returncode for proc in procs] == [0] * 8, [err for _out, err in results]
    assert demo2.refreshes == 1
    assert demo2.refresh_token_reuses == 0
    assert set(server.accepted) == {stored().access_token}


def test_a_host_not_named_gets_no_token(server: GitServer, demo2: DemoOAuth2Provider, env: dict[str, str]) -> None:
    """Without --host, the git server (not the provider's host) gets nothing, and git fails without a prompt."""
    log_in_oauth2(demo2)
    failed = git(server, env, "ls-remote", f"{server.base_url}/project.git", host=False)
    assert failed.returncode != 0
    assert server.accepted == []
    assert set(server.refused) == {""}
    assert demo2.refreshes == 0
