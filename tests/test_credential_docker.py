"""``docker-credential-loopauth`` run by the real docker CLI, against a fake registry on loopback that takes only
the OAuth 2.0 demo's current access token as the Basic password.

No docker engine runs here, so nothing pulls. What the CLI does by itself is enough: ``docker manifest inspect``
asks the helper (``get``) and talks to the registry directly, ``docker login -u … --password-stdin`` logs in
from the CLI when there is no engine and then hands the password to the helper (``store``), and ``docker
logout`` calls ``erase``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from aiohttp import web

from loopauth.credential import docker
from loopauth.store import CredentialStore

from .conftest import Cli
from .demo_probes import DemoOAuth2Provider
from .loopback_app import serve_on_loopback
from .test_demo_serve import BIN
from .threaded_demos import in_a_thread, log_in_oauth2

DOCKER = shutil.which("docker")
pytestmark = pytest.mark.skipif(DOCKER is None, reason="the docker CLI is not installed")

IMAGE_CONFIG = json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": []}})
CONFIG_DIGEST = "sha256:" + hashlib.sha256(IMAGE_CONFIG.encode()).hexdigest()
MANIFEST = json.dumps(
    {
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {
            "mediaType": "application/vnd.docker.container.image.v1+json",
            "size": len(IMAGE_CONFIG),
            "digest": CONFIG_DIGEST,
        },
        "layers": [],
    }
)


class FakeRegistry:
    """The registry API v2, one image (``group/app:1.0``), Basic auth checked by ``accept``; passwords seen."""

    def __init__(self, accept: Callable[[str], bool]) -> None:
        self.accept = accept
        self.passwords: list[str] = []
        self.port = 0
        self._runner: web.AppRunner | None = None

    @property
    def server(self) -> str:
        return f"127.0.0.1:{self.port}"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/v2/", self._handle)
        app.router.add_route("*", "/v2/{path:.*}", self._handle)
        self._runner, self.port = await serve_on_loopback(app)

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.Response:
        headers = {"Docker-Distribution-API-Version": "registry/2.0"}
        scheme, _, value = request.headers.get("Authorization", "").partition(" ")
        password = base64.b64decode(value).decode().partition(":")[2] if scheme == "Basic" else ""
        if password:
            self.passwords.append(password)
        if not self.accept(password):
            return web.Response(status=401, headers={**headers, "WWW-Authenticate": 'Basic realm="registry"'})
        if request.path == "/v2/":
            return web.json_response({}, headers=headers)
        if request.path == "/v2/group/app/manifests/1.0":
            media = "application/vnd.docker.distribution.manifest.v2+json"
            digest = "sha256:" + hashlib.sha256(MANIFEST.encode()).hexdigest()
            return web.Response(
                text=MANIFEST, headers={**headers, "Content-Type": media, "Docker-Content-Digest": digest}
            )
        if request.path == f"/v2/group/app/blobs/{CONFIG_DIGEST}":
            return web.Response(text=IMAGE_CONFIG, headers={**headers, "Content-Type": "application/octet-stream"})
        return web.Response(status=404, headers=headers)


@pytest.fixture
def demo2() -> Iterator[DemoOAuth2Provider]:
    with in_a_thread(DemoOAuth2Provider()) as provider:
        yield provider


@pytest.fixture
def registry(demo2: DemoOAuth2Provider) -> Iterator[FakeRegistry]:
    with in_a_thread(FakeRegistry(demo2.access_token_is_valid)) as served:
        yield served


def docker_cli(tmp_path: Path, helpers: dict[str, str]) -> Callable[..., subprocess.CompletedProcess[str]]:
    """``docker ARGS`` with its own config dir, whose credHelpers are ``helpers``, and loopauth on the PATH."""
    config = tmp_path / "docker"
    config.mkdir(exist_ok=True)
    (config / "config.json").write_text(json.dumps({"credHelpers": helpers}))
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("DOCKER_")},
        "DOCKER_CONFIG": str(config),
        "HOME": str(tmp_path),
        "PATH": f"{BIN}:{os.environ.get('PATH', '')}",
    }

    def run(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        assert DOCKER is not None
        return subprocess.run(
            [DOCKER, *args], input=stdin, env=env, capture_output=True, text=True, timeout=60, check=False
        )

    return run


def test_docker_gets_the_mapped_profiles_token(
    cli: Cli, demo2: DemoOAuth2Provider, registry: FakeRegistry, tmp_path: Path
) -> None:
    """`docker manifest inspect` asks docker-credential-loopauth and sends the profile's token; after expiry, the
    token it gets was refreshed once."""
    creds = log_in_oauth2(demo2)
    assert cli("credential", "docker", "--add", registry.server).returncode == 0
    run = docker_cli(tmp_path, {registry.server: "loopauth"})
    inspected = run("manifest", "inspect", "--insecure", f"{registry.server}/group/app:1.0")
    assert inspected.returncode == 0, inspected.stderr
    assert json.loads(inspected.stdout)["config"]["digest"] == CONFIG_DIGEST
    assert set(registry.passwords) == {creds.access_token}
    now = int(time.time())
    CredentialStore().save(creds.replace(issued_at=now - 7200, expires_at=now - 3600))
    demo2.expire_access_tokens()
    again = run("manifest", "inspect", "--insecure", f"{registry.server}/group/app:1.0")
    assert again.returncode == 0, again.stderr
    assert demo2.refreshes == 1
    assert registry.passwords[-1] == CredentialStore().load("default").to_dict()["access_token"]


def test_docker_login_and_logout_store_nothing_and_unmap(
    cli: Cli, demo2: DemoOAuth2Provider, registry: FakeRegistry, tmp_path: Path
) -> None:
    """`docker login` to a mapped registry succeeds (store drops the password); to an unmapped one docker says the
    password was not stored; `docker logout` unmaps the registry and leaves the profile."""
    creds = log_in_oauth2(demo2)
    cli("credential", "docker", "--add", registry.server)
    unmapped = f"localhost:{registry.port}"
    run = docker_cli(tmp_path, {registry.server: "loopauth", unmapped: "loopauth"})
    login = ["login", "-u", "oauth2", "--password-stdin"]
    done = run(*login, registry.server, stdin=creds.access_token)
    assert done.returncode == 0, done.stderr
    assert "Login Succeeded" in done.stdout
    refused = run(*login, unmapped, stdin=creds.access_token)
    assert refused.returncode != 0
    assert "loopauth stores no registry passwords" in refused.stderr + refused.stdout
    assert creds.access_token not in json.dumps(docker.registries())
    out = run("logout", registry.server)
    assert out.returncode == 0, out.stderr
    assert docker.registries() == {}
    assert CredentialStore().load("default").profile == "default"
