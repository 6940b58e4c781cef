"""README "From Python": each line of its example runs, as written, against the demo provider.

`url` is the demo's echo endpoint (with a query to sign) and `session` an aiohttp.ClientSession; the
requests, httpx and aiohttp lines must get the demo's 200, which it gives only to a valid signature. The
tweepy line needs tweepy, which only .venv-tweepy has (`make test-tweepy` runs this file too).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

import loopauth
from loopauth.demo import DEMO_SCREEN_NAME, DEMO_USER_ID

from .demo_probes import DemoProvider
from .threaded_demos import in_a_thread, log_in_oauth1

README = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
BLOCK = README.split("\n## From Python\n", 1)[1].split("```python\n", 1)[1].split("```", 1)[0]
LINES = [line.split("  #", 1)[0].strip() for line in BLOCK.splitlines() if line.strip()]
# The library each line is about: the module its first call names.
LIBRARY = {line: re.findall(r"(requests|httpx|session|tweepy|pytwitter)\.", line)[0] for line in LINES}


@pytest.fixture
def demo() -> Iterator[DemoProvider]:
    with in_a_thread(DemoProvider()) as provider:
        yield provider


def test_the_example_has_one_line_per_library() -> None:
    """requests, httpx, aiohttp, tweepy and python-twitter-v2: one line each, in that order."""
    assert list(LIBRARY.values()) == ["requests", "httpx", "session", "tweepy", "pytwitter"]


@pytest.mark.parametrize("line", LINES, ids=[LIBRARY[line] for line in LINES])
def test_each_line_runs_as_written(demo: DemoProvider, line: str) -> None:
    """The line, run in a namespace holding only its library, loopauth, `url` and `session`, does its job."""
    library = LIBRARY[line]
    log_in_oauth1(demo)
    url = demo.echo_url + "?q=a%20%26%20b%20%C3%A9"
    if library == "session":
        # Top-level await, as in the README: run inside a coroutine that has the session.
        async def run() -> Any:
            async with aiohttp.ClientSession() as session:
                scope: dict[str, Any] = {"loopauth": loopauth, "session": session, "url": url}
                exec(f"async def _line():\n    return {line}\n", scope)  # noqa: S102 - the README's own line
                response = await scope["_line"]()
                return response.status, await response.json()

        status, echoed = asyncio.run(run())
        assert status == 200
        assert echoed["query"] == {"q": "a & b é"}
        return
    module = pytest.importorskip(library, reason=f"{library} is not installed here")
    scope = {"loopauth": loopauth, library: module, "url": url}
    if "=" in line.split("(", 1)[0]:
        exec(line, scope)  # noqa: S102 - an assignment: the README's own line
        built = scope[line.split("=", 1)[0].strip()]
        if library == "tweepy":
            assert isinstance(built, module.Client)
            assert built.access_token == loopauth.tweepy_kwargs()["access_token"]
        else:
            assert built.auth_user_id == DEMO_USER_ID
        return
    response = eval(line, scope)  # noqa: S307 - the README's own line
    assert response.status_code == 200, response.text
    assert response.json()["screen_name"] == DEMO_SCREEN_NAME
    assert response.json()["query"] == {"q": "a & b é"}
