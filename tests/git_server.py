"""A git smart-HTTP server on loopback for tests: git's own ``git http-backend`` as a CGI behind aiohttp.

Every request must carry Basic credentials whose password ``accept`` takes (the OAuth 2.0 demo's check of an
access token, in the tests); anything else is 401 with a Basic challenge, as GitLab and GitHub answer.
"""

from __future__ import annotations

import asyncio
import base64
import os
from collections.abc import Callable
from pathlib import Path

from aiohttp import web

from .loopback_app import serve_on_loopback


class GitServer:
    """Serves the bare repositories under ``root`` at ``http://127.0.0.1:PORT/<name>.git`` once started."""

    def __init__(self, root: Path, accept: Callable[[str], bool]) -> None:
        self.root = root
        self.accept = accept
        self.refused: list[str] = []
        """The passwords refused, in order (an empty string for a request without credentials)."""
        self.accepted: list[str] = []
        self._runner: web.AppRunner | None = None
        self.port = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        app = web.Application(client_max_size=64 << 20)
        app.router.add_route("*", "/{path:.*}", self._handle)
        self._runner, self.port = await serve_on_loopback(app)

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        password = _basic_password(request.headers.get("Authorization", ""))
        if password is None or not self.accept(password):
            self.refused.append(password or "")
            return web.Response(status=401, headers={"WWW-Authenticate": 'Basic realm="git"'}, text="401\n")
        self.accepted.append(password)
        body = await request.read()
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "GIT_PROJECT_ROOT": str(self.root),
            "GIT_HTTP_EXPORT_ALL": "1",
            "REMOTE_USER": "tester",  # lets git http-backend take pushes
            "REMOTE_ADDR": "127.0.0.1",
            "GATEWAY_INTERFACE": "CGI/1.1",
            "REQUEST_METHOD": request.method,
            "PATH_INFO": request.path,
            "QUERY_STRING": request.query_string,
            "CONTENT_TYPE": request.headers.get("Content-Type", ""),
            "CONTENT_LENGTH": str(len(body)),
            "GIT_CONFIG_NOSYSTEM": "1",
            "HOME": str(self.root),
        }
        for header, name in (("Content-Encoding", "HTTP_CONTENT_ENCODING"), ("Git-Protocol", "GIT_PROTOCOL")):
            if header in request.headers:
                env[name] = request.headers[header]
        proc = await asyncio.create_subprocess_exec(
            "git",
            "http-backend",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
            env=env,
        )
        out, _ = await proc.communicate(body)
        head, _, payload = out.partition(b"\r\n\r\n" if b"\r\n\r\n" in out else b"\n\n")
        status = 200
        headers: dict[str, str] = {}
        for line in head.decode("latin-1").splitlines():
            name, _colon, value = line.partition(":")
            if name.lower() == "status":
                status = int(value.split()[0])
            elif name:
                headers[name.strip()] = value.strip()
        return web.Response(status=status, headers=headers, body=payload)


def _basic_password(header: str) -> str | None:
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        _user, colon, password = base64.b64decode(value, validate=True).decode().partition(":")
    except ValueError:
        return None
    return password if colon else None
