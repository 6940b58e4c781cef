"""``loopauth credential kubectl`` as a real kubectl's exec credential plugin, against a fake API server on
loopback that takes only the OAuth 2.0 demo's current access token as the bearer."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from aiohttp import web

from loopauth.loopback.tls import self_signed
from loopauth.models import OAuth2Credentials
from loopauth.store import CredentialStore

from .demo_probes import DemoOAuth2Provider
from .loopback_app import serve_on_loopback
from .threaded_demos import in_a_thread, log_in_oauth2

KUBECTL = shutil.which("kubectl")
pytestmark = pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed (apt-get install kubernetes-client)")


class FakeApiServer:
    """``GET /api`` for a valid bearer (``accept``), 401 otherwise; the bearers seen, in order.

    It speaks TLS with a throwaway certificate (``ca_pem``): kubectl runs exec plugins only for https servers.
    """

    def __init__(self, accept: Callable[[str], bool]) -> None:
        self.accept = accept
        self.context, self.ca_pem = self_signed(("127.0.0.1",))
        self.bearers: list[str] = []
        self.port = 0
        self._runner: web.AppRunner | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/api", self._api)
        self._runner, self.port = await serve_on_loopback(app, ssl_context=self.context)

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _api(self, request: web.Request) -> web.Response:
        scheme, _, token = request.headers.get("Authorization", "").partition(" ")
        self.bearers.append(token)
        if scheme.lower() != "bearer" or not self.accept(token):
            return web.json_response(
                {"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "Unauthorized", "code": 401},
                status=401,
            )
        return web.json_response(
            {
                "kind": "APIVersions",
                "versions": ["v1"],
                "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": f"127.0.0.1:{self.port}"}],
            }
        )


@pytest.fixture
def demo2() -> Iterator[DemoOAuth2Provider]:
    with in_a_thread(DemoOAuth2Provider()) as provider:
        yield provider


@pytest.fixture
def api(demo2: DemoOAuth2Provider) -> Iterator[FakeApiServer]:
    with in_a_thread(FakeApiServer(demo2.access_token_is_valid)) as server:
        yield server


def kubeconfig(tmp_path: Path, api: FakeApiServer, api_version: str = "client.authentication.k8s.io/v1") -> Path:
    """A kubeconfig whose user runs ``loopauth credential kubectl`` (by this interpreter) with interactiveMode
    Never, as the README's ``kubectl config set-credentials`` lines write it."""
    path = tmp_path / "kubeconfig"
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": "local",
                "cluster": {
                    "server": f"https://127.0.0.1:{api.port}",
                    "certificate-authority-data": base64.b64encode(api.ca_pem).decode(),
                },
            }
        ],
        "users": [
            {
                "name": "loopauth",
                "user": {
                    "exec": {
                        "apiVersion": api_version,
                        "command": sys.executable,
                        "args": ["-m", "loopauth", "credential", "kubectl"],
                        "interactiveMode": "Never",
                    }
                },
            }
        ],
        "contexts": [{"name": "local", "context": {"cluster": "local", "user": "loopauth"}}],
        "current-context": "local",
    }
    path.write_text(json.dumps(config))
    return path


def kubectl(config: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "HOME": str(tmp_path), "KUBECACHEDIR": str(tmp_path / "kube-cache")}
    assert KUBECTL is not None
    return subprocess.run(
        [KUBECTL, "--kubeconfig", str(config), "get", "--raw", "/api"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        stdin=subprocess.DEVNULL,
        check=False,
    )


@pytest.mark.parametrize("api_version", ["client.authentication.k8s.io/v1", "client.authentication.k8s.io/v1beta1"])
def test_kubectl_sends_the_token_the_plugin_prints(
    demo2: DemoOAuth2Provider, api: FakeApiServer, tmp_path: Path, api_version: str
) -> None:
    """kubectl runs the plugin, and the API server gets the profile's access token as the bearer."""
    creds = log_in_oauth2(demo2)
    done = kubectl(kubeconfig(tmp_path, api, api_version), tmp_path)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["kind"] == "APIVersions"
    assert api.bearers == [creds.access_token]


def test_kubectl_gets_a_refreshed_token_after_expiry(
    demo2: DemoOAuth2Provider, api: FakeApiServer, tmp_path: Path
) -> None:
    """An expired profile is refreshed (once) before kubectl sends its token."""
    creds = log_in_oauth2(demo2)
    now = int(time.time())
    CredentialStore().save(creds.replace(issued_at=now - 7200, expires_at=now - 3600))
    demo2.expire_access_tokens()
    done = kubectl(kubeconfig(tmp_path, api), tmp_path)
    assert done.returncode == 0, done.stderr
    fresh = CredentialStore().load("default")
    assert isinstance(fresh, OAuth2Credentials)
    assert fresh.access_token != creds.access_token
    assert api.bearers == [fresh.access_token]
    assert demo2.refreshes == 1


def test_kubectl_shows_a_dead_profiles_hint(demo2: DemoOAuth2Provider, api: FakeApiServer, tmp_path: Path) -> None:
    """A profile that must log in again: the plugin exits 7 and kubectl shows its one line, with no prompt."""
    creds = log_in_oauth2(demo2)
    CredentialStore().save(creds.replace(needs_login=True))
    done = kubectl(kubeconfig(tmp_path, api), tmp_path)
    assert done.returncode != 0
    assert "profile 'default' must log in again" in done.stderr
    assert "loopauth login --profile default" in done.stderr
    assert api.bearers == []
