"""What both demo providers share: serving on loopback, and a simulated round trip.

``delay`` seconds are added to the API endpoints (a provider far away: the bench and ``--delay`` use it), not to
the pages a person sees. Every endpoint begins with :meth:`DemoServer._enter`, named, so that a subclass can see
each hit or answer in its place; the test suite's probes (``tests/demo_probes.py``) count, record, hang and fail
there, and none of that ships.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import Iterable
from typing import ClassVar, Self

from aiohttp import web


def params_object(pairs: Iterable[tuple[str, str]]) -> dict[str, str | list[str]]:
    """Decoded parameters as a JSON object, for the echo endpoints; a repeated name keeps all its values."""
    out: dict[str, str | list[str]] = {}
    for name, value in pairs:
        previous = out.get(name)
        if previous is None:
            out[name] = value
        elif isinstance(previous, list):
            previous.append(value)
        else:
            out[name] = [previous, value]
    return out


class DemoServer:
    """An aiohttp app on ``host:port`` (port 0 picks a free one) once started; subclasses add the routes."""

    API_ENDPOINTS: ClassVar[frozenset[str]] = frozenset()
    """The endpoints that answer programs, which ``delay`` slows down."""

    def __init__(
        self, *, host: str = "127.0.0.1", port: int = 0, delay: float = 0.0, ssl_context: ssl.SSLContext | None = None
    ) -> None:
        self.host = host
        self.port = port
        self.delay = delay
        self.ssl_context = ssl_context
        self._runner: web.AppRunner | None = None
        self._base_url: str | None = None
        self._closing = asyncio.Event()

    def app(self) -> web.Application:
        """The provider's routes."""
        raise NotImplementedError

    async def start(self) -> None:
        if self._runner is not None:
            raise RuntimeError("the demo provider is already running")
        self._closing = asyncio.Event()
        # No access log: the URLs carry request tokens and authorization codes.
        runner = web.AppRunner(self.app(), access_log=None, shutdown_timeout=5.0)
        await runner.setup()
        try:
            await web.TCPSite(runner, self.host, self.port, ssl_context=self.ssl_context).start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        port = runner.addresses[0][1]
        host = f"[{self.host}]" if ":" in self.host else self.host
        self._base_url = f"{'https' if self.ssl_context else 'http'}://{host}:{port}"

    async def close(self) -> None:
        # Release delayed handlers (and any a subclass holds on _closing) first, so shutdown does not wait on them.
        self._closing.set()
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    @property
    def base_url(self) -> str:
        if self._base_url is None:
            raise RuntimeError("the demo provider has not been started")
        return self._base_url

    async def _enter(self, name: str, request: web.Request) -> web.Response | None:
        """The first step of endpoint ``name``: the simulated round trip; a Response would answer in its place."""
        if name in self.API_ENDPOINTS and self.delay > 0:
            # Cut short by close(), so a slow test server never delays teardown.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closing.wait(), self.delay)
        return None
