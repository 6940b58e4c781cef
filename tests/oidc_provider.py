"""node ``oidc-provider`` (a certified OpenID Provider nobody here wrote) as a test provider, and a browser for it.

:class:`NodeOidcProvider` starts ``tests/oidc_provider_node/server.mjs`` on a loopback port the kernel picks and
reads what it prints: the issuer first, then one JSON line per token-endpoint call, so a test can count the
grants loopauth asked for. It skips the test, with one line saying how to get them, where node or the npm
packages are missing (``make oidc-provider`` installs the packages; ``make test`` does it too where npm is).

:class:`FormBrowser` is the user: it opens a URL, signs in on the provider's login page and presses "Continue"
on its consent page (``devInteractions``, the provider's built-in pages), then follows the redirect to
loopauth's callback, as a person would in a real browser.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import urljoin

import aiohttp
import pytest

HERE = Path(__file__).resolve().parent / "oidc_provider_node"
PUBLIC_CLIENT_ID = "loopauth-native"
CONFIDENTIAL_CLIENT_ID = "loopauth-confidential"
CONFIDENTIAL_CLIENT_SECRET = "confidential-secret-0123456789"
START_TIMEOUT = 30.0


def require_node() -> str:
    """The node binary, or skip with one line saying what is missing and how to get it."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed: the oidc-provider tests need Node.js 18+ (apt-get install nodejs)")
    if not (HERE / "node_modules" / "oidc-provider").is_dir():
        pytest.skip("oidc-provider is not installed: run `make oidc-provider` (npm ci in tests/oidc_provider_node)")
    return node


@dataclass
class NodeOidcProvider:
    """An async context manager: the provider running, its discovery document, and the events it logged."""

    access_token_ttl: int = 3600
    device_interval: int | None = None
    """The device flow's polling interval in seconds (None: the provider names none, so RFC 8628's 5 s)."""
    issuer: str = ""
    metadata: dict[str, Any] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)
    _process: asyncio.subprocess.Process | None = None
    _reader: asyncio.Task[None] | None = None

    async def __aenter__(self) -> NodeOidcProvider:
        node = require_node()
        config = json.dumps({"accessTokenTtl": self.access_token_ttl, "deviceInterval": self.device_interval})
        self._process = await asyncio.create_subprocess_exec(
            node,
            str(HERE / "server.mjs"),
            config,
            cwd=HERE,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
        )
        assert self._process.stdout is not None
        try:
            first = await asyncio.wait_for(self._process.stdout.readline(), START_TIMEOUT)
        except TimeoutError:
            await self._stop()
            raise
        if not first:
            await self._stop()
            raise RuntimeError("oidc-provider exited before it listened")
        self.issuer = json.loads(first)["issuer"]
        self._reader = asyncio.create_task(self._read_events())
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"{self.issuer}/.well-known/openid-configuration") as response,
        ):
            response.raise_for_status()
            self.metadata = await response.json()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self._stop()

    async def _read_events(self) -> None:
        assert self._process is not None
        assert self._process.stdout is not None
        async for line in self._process.stdout:
            try:
                self.events.append(json.loads(line))
            except ValueError:
                self.events.append({"event": "unparsed", "line": line.decode(errors="replace")})

    async def _stop(self) -> None:
        process = self._process
        if process is None:
            return
        if process.stdin is not None:
            process.stdin.close()  # server.mjs exits when its stdin closes
        try:
            await asyncio.wait_for(process.wait(), 5)
        except TimeoutError:
            process.kill()
            await process.wait()
        if self._reader is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader

    def endpoint(self, name: str) -> str:
        """One endpoint from the discovery document (``token_endpoint``, ``userinfo_endpoint``, ...)."""
        value = self.metadata[name]
        assert isinstance(value, str)
        return value

    def grants(self, grant_type: str) -> list[dict[str, Any]]:
        """The successful token-endpoint calls of ``grant_type`` so far."""
        return [e for e in self.events if e.get("event") == "grant" and e.get("grant_type") == grant_type]

    def grant_errors(self) -> list[dict[str, Any]]:
        return [e for e in self.events if e.get("event") == "grant_error"]


@contextlib.asynccontextmanager
async def node_oidc_provider(
    access_token_ttl: int = 3600, device_interval: int | None = None
) -> AsyncIterator[NodeOidcProvider]:
    async with NodeOidcProvider(access_token_ttl=access_token_ttl, device_interval=device_interval) as provider:
        yield provider


class _Form(HTMLParser):
    """The first form of a page: its action, method and the values its inputs carry."""

    def __init__(self) -> None:
        super().__init__()
        self.action: str | None = None
        self.method = "get"
        self.inputs: dict[str, str] = {}
        self.links: list[str] = []
        self._done = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "form" and self.action is None and not self._done:
            self.action = values.get("action", "")
            self.method = values.get("method", "get").lower()
        elif tag == "input" and self.action is not None and not self._done and "name" in values:
            self.inputs[values["name"]] = values.get("value", "")
        elif tag == "a" and values.get("href"):
            self.links.append(values["href"])

    def handle_endtag(self, tag: str) -> None:
        if tag == "form" and self.action is not None:
            self._done = True


@dataclass
class FormBrowser:
    """An ``open_browser`` for ``loopauth.login_async``: signs in as ``user`` and approves, in the background.

    ``pages`` records each page's URL; ``final`` is the status of the last one (loopauth's callback page).
    """

    user: str = "alice"
    approve: bool = True
    form_paths: tuple[str, ...] = ("/interaction/",)
    """The provider's pages whose forms the user fills in (the device flow adds its /device pages)."""
    pages: list[str] = field(default_factory=list)
    tasks: list[asyncio.Task[int]] = field(default_factory=list)

    async def __call__(self, url: str) -> bool:
        self.tasks.append(asyncio.create_task(self.visit(url)))
        return True

    async def visit(self, url: str) -> int:
        """Open ``url`` and fill in the provider's forms until a page without one: the status of that page."""
        # unsafe=True: keep cookies for an IP-literal host (127.0.0.1), as a browser does.
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
            response = await session.get(url)
            for _ in range(10):
                self.pages.append(str(response.url))
                text = await response.text()
                form = _Form()
                form.feed(text)
                if form.action is None or not any(path in str(response.url) for path in self.form_paths):
                    return response.status
                here = str(response.url)
                data = dict(form.inputs)
                response.release()
                if data.get("prompt") == "login":
                    data.update(login=self.user, password="any password")
                elif data.get("prompt") == "consent" and not self.approve:
                    # "[ Cancel ]": the provider answers the client with error=access_denied.
                    (abort,) = [link for link in form.links if link.endswith("/abort")]
                    response = await session.get(urljoin(here, abort))
                    # The end: loopauth's callback, or (device flow) a page that offers to enter another code.
                    self.pages.append(str(response.url))
                    return response.status
                response = await session.post(urljoin(here, form.action), data=data)
            raise AssertionError(f"no end to the provider's pages: {self.pages}")

    async def finished(self) -> list[int]:
        return [await task for task in self.tasks]
