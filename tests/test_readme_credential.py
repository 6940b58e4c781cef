"""The README's "Git, kubectl and docker" lines, run as written (through bash), with the real git and kubectl."""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from loopauth.models import OAuth2Credentials, OAuth2Provider
from loopauth.providers import PRESETS
from loopauth.store import CredentialStore

from .demo_probes import DemoOAuth2Provider
from .test_credential_kubectl import FakeApiServer
from .test_demo_serve import BIN
from .threaded_demos import in_a_thread, log_in_oauth2

README = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
SECTION = README.split("## Git, kubectl and docker\n", 1)[1].split("\n## ", 1)[0]


def console_blocks() -> list[list[str]]:
    """The `$ ` lines of each console block of the section, continuation lines joined."""
    blocks = [block.split("```", 1)[0] for block in SECTION.split("```console\n")[1:]]
    return [
        [line[2:].strip() for line in re.sub(r"\\\n\s*", "", block).splitlines() if line.startswith("$ ")]
        for block in blocks
    ]


def bash(command: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", "-c", command], env=env, capture_output=True, text=True, timeout=60, check=False)


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """A shell whose HOME is a temporary one (git and kubectl write there), with loopauth on its PATH."""
    home = tmp_path / "home"
    home.mkdir()
    kept = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "KUBE", "DOCKER_"))}
    return {
        **kept,
        "HOME": str(home),
        "PATH": f"{BIN}:{os.environ.get('PATH', '')}",
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_TERMINAL_PROMPT": "0",
    }


def gitlab_profile() -> OAuth2Credentials:
    """A fresh login of the gitlab preset as profile 'gitlab' (made by hand: a real login needs gitlab.com)."""
    gitlab = PRESETS["gitlab"]
    assert isinstance(gitlab, OAuth2Provider)
    creds = OAuth2Credentials(
        profile="gitlab",
        provider="gitlab",
        client_id="app-id",
        access_token="gitlab-access-token",
        refresh_token="gitlab-refresh-token",
        endpoints=gitlab,
        expires_at=2_000_000_000,
        issued_at=2_000_000_000 - 7200,
    )
    CredentialStore().save(creds)
    return creds


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_the_git_line_makes_git_ask_loopauth_for_that_host_only(env: dict[str, str]) -> None:
    """After the README's `git config` line, git's own `credential fill` for the clone's URL gets the profile's
    token from loopauth, with GitLab's user name; another host gets nothing from it."""
    creds = gitlab_profile()
    configure, clone = console_blocks()[0]
    assert configure.startswith("git config --global ")
    assert bash(configure, env).returncode == 0
    url = clone.split()[-1]
    assert clone.startswith("git clone https://gitlab.com/")
    filled = bash(f"printf 'url={url}\\n\\n' | git credential fill", env)
    assert filled.returncode == 0, filled.stderr
    assert f"username=oauth2\npassword={creds.access_token}\n" in filled.stdout
    other = bash("printf 'url=https://example.com/group/project.git\\n\\n' | git credential fill", env)
    assert other.returncode != 0
    assert creds.access_token not in other.stdout


@pytest.fixture
def demo2() -> Iterator[DemoOAuth2Provider]:
    with in_a_thread(DemoOAuth2Provider()) as provider:
        yield provider


@pytest.mark.skipif(
    shutil.which("kubectl") is None, reason="kubectl is not installed (apt-get install kubernetes-client)"
)
def test_the_kubectl_lines_make_kubectl_send_the_profiles_token(
    env: dict[str, str], demo2: DemoOAuth2Provider, tmp_path: Path
) -> None:
    """The README's `kubectl config` lines, on a kubeconfig with a cluster and a current context: kubectl then
    runs `loopauth credential kubectl` and the API server gets the profile's token."""
    creds = log_in_oauth2(demo2, profile="gitlab")
    with in_a_thread(FakeApiServer(demo2.access_token_is_valid)) as api:
        kubeconfig = tmp_path / "kubeconfig"
        ca = base64.b64encode(api.ca_pem).decode()
        cluster = {"server": f"https://127.0.0.1:{api.port}", "certificate-authority-data": ca}
        kubeconfig.write_text(
            json.dumps(
                {
                    "apiVersion": "v1",
                    "kind": "Config",
                    "clusters": [{"name": "local", "cluster": cluster}],
                    "users": [{"name": "nobody", "user": {}}],
                    "contexts": [{"name": "local", "context": {"cluster": "local", "user": "nobody"}}],
                    "current-context": "local",
                }
            )
        )
        env = {**env, "KUBECONFIG": str(kubeconfig)}
        lines = console_blocks()[1]
        assert [line.split()[2] for line in lines] == ["set-credentials", "set-context"]
        for line in lines:
            done = bash(line, env)
            assert done.returncode == 0, f"{line}\n{done.stderr}"
        got = bash("kubectl get --raw /api", env)
        assert got.returncode == 0, got.stderr
        assert api.bearers == [creds.access_token]


def test_the_docker_lines_make_docker_credential_loopauth_answer(env: dict[str, str]) -> None:
    """The README's `--add` line and credHelpers: the helper docker would run answers with the profile's token."""
    creds = gitlab_profile()
    (add,) = console_blocks()[2]
    assert bash(add, env).returncode == 0
    config = json.loads(SECTION.split("```json\n", 1)[1].split("```", 1)[0])
    for server, name in config["credHelpers"].items():
        got = bash(f"printf '{server}' | docker-credential-{name} get", env)
        assert got.returncode == 0, got.stdout
        assert json.loads(got.stdout) == {"ServerURL": server, "Username": "oauth2", "Secret": creds.access_token}
