"""Serving a test's own aiohttp application on a loopback port the kernel picks (the fake git, registry and
Kubernetes API servers)."""

from __future__ import annotations

import socket
import ssl

from aiohttp import web


async def serve_on_loopback(
    app: web.Application, *, ssl_context: ssl.SSLContext | None = None
) -> tuple[web.AppRunner, int]:
    """``app`` listening on 127.0.0.1 at a free port: its runner (to clean up) and the port."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    await web.SockSite(runner, sock, ssl_context=ssl_context).start()
    return runner, sock.getsockname()[1]
