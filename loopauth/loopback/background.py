"""Blocking work in a daemon thread, started before any event loop exists and awaited from one later.

The login starts the browser and the provider's first call before asyncio and aiohttp are even
imported, and runs the provider calls off the event loop. A daemon thread never delays the
process's exit (a terminal browser may run for minutes), and nothing here imports asyncio until
someone awaits.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Generic, TypeVar

if TYPE_CHECKING:
    import asyncio

T = TypeVar("T")


class Background(Generic[T]):
    """``fn()`` running in a daemon thread from construction on; :meth:`wait` awaits its result."""

    def __init__(self, fn: Callable[[], T], *, name: str) -> None:
        self._fn = fn
        self._lock = threading.Lock()
        self._done = False
        self._value: T | None = None
        self._error: BaseException | None = None
        self._waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = []
        threading.Thread(target=self._run, name=name, daemon=True).start()

    def _run(self) -> None:
        value: T | None = None
        error: BaseException | None = None
        try:
            value = self._fn()
        except BaseException as exc:  # handed to whoever awaits, in their thread
            error = exc
        with self._lock:
            self._value, self._error, self._done = value, error, True
            waiters, self._waiters = self._waiters, []
        for loop, future in waiters:
            # RuntimeError: the loop closed while this thread was still working (the login ended first).
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(_settle, future)

    def done(self) -> bool:
        return self._done

    def result(self) -> T:
        """The result (or the exception) of a finished call."""
        if not self._done:
            raise RuntimeError("the background call has not finished")
        if self._error is not None:
            raise self._error
        return self._value  # type: ignore[return-value]  # set together with _done

    async def wait(self) -> T:
        """The result, once the thread has finished; cancelling the wait leaves the thread to finish alone."""
        import asyncio

        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        with self._lock:
            if not self._done:
                self._waiters.append((loop, future))
            else:
                future.set_result(None)
        await future
        return self.result()


def _settle(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


def run_blocking(fn: Callable[[], T]) -> Background[T]:
    """``fn`` in a worker thread (the manual flows' provider calls), for awaiting."""
    return Background(fn, name="loopauth-call")
