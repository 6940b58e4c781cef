"""Issue 18, around the callback server: stray stdin words, terminal escapes from a provider, unbounded or
trickled provider bodies, logs that could leak, connection floods, cross-site requests, Ctrl-C at start-up."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import pty
import re
import resource
import select
import shlex
import subprocess
import sys
import tempfile
import termios
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from loopauth.api import login_async
from loopauth.demo import PlayUserError, play_user
from loopauth.errors import StoreError
from loopauth.loopback.dance import Approved, Rejected
from loopauth.loopback.server import MAX_CONNECTIONS, Waiter
from loopauth.loopback.wording import Page
from loopauth.models import AnyCredentials, Credentials, RequestToken
from loopauth.oauth1.dance import OAuth1Dance
from loopauth.oauth1.signing import Consumer
from loopauth.store import CredentialStore

from .conftest import Cli, CliAsync, browser_env, demo_login_args, run_cli, run_cli_async
from .demo_probes import DemoProvider, Failure
from .test_callback import AUTHORIZE, PROVIDER, TOKEN, get, serving, waiter_for
from .test_headless import Login, StartLogin, assert_logged_in, browse
from .test_headless import login as login  # the fixture: pytest finds it here by name

# --- item 2: a stray word on stdin -----------------------------------------------------------------------------


def served_waiter() -> Waiter:
    """The waiter of a login whose callback server listens: a paste must name our request token."""
    dance = OAuth1Dance(PROVIDER, Consumer("ck", "cs"))
    dance.request_token = RequestToken(TOKEN, "secret")
    waiter = Waiter(dance, bare=False)
    waiter.ready(AUTHORIZE)
    return waiter


@pytest.mark.parametrize("word", ["y", "ok", "1234567", "yes"])
async def test_a_bare_word_does_not_complete_a_served_login(word: str) -> None:
    """While the server listens, a lone word is not taken for a verifier; the wait goes on."""
    waiter = served_waiter()
    outcome = waiter.offer_pasted(word)
    assert isinstance(outcome, Rejected)
    assert "paste the whole address" in outcome.reason
    assert not waiter.result.done()
    landed = f"http://127.0.0.1:8470/callback?oauth_token={TOKEN}&oauth_verifier=v"
    assert waiter.offer_pasted(landed) == Approved("v", typed=True)
    assert waiter.offer_pasted(f"oauth_token={TOKEN}&oauth_verifier=v") == Approved("v", typed=True)


async def test_stray_words_on_stdin_never_reach_the_provider(demo: DemoProvider, login: StartLogin) -> None:
    """`(sleep 2; echo y) | loopauth login`: 'y' and 'ok' get one line each; the browser then logs in."""
    child = await login(*demo_login_args(demo, "--no-browser"))
    start = (await child.expect(r"Open this URL in a browser to log in: (http://127\.0\.0\.1:\d+/[\w-]+) "))[1]
    await child.expect(r"Or open the provider's page: ")
    for word in ("y", "ok"):
        await child.paste(word)
        await child.expect(r"does not complete this login: a verifier alone is not enough")
    assert demo.calls["access_token"] == 0
    await asyncio.wait_for(browse(start), 20)
    assert_logged_in(await child.finish())
    assert demo.calls["access_token"] == 1


# --- item 3: terminal escapes from the provider ----------------------------------------------------------------

# An OSC 52 clipboard write, a screen clear, a window title, an 8-bit CSI and a right-to-left override.
HOSTILE = "evil\x1b]52;c;cHduZWQ=\x07\x1b[2J\x1b]0;pwned\x07\x9b2J\u202eoc.elgoog"
UNSAFE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def assert_terminal_safe(*outputs: str) -> None:
    for output in outputs:
        found = UNSAFE.search(output)
        assert found is None, f"{found.group()!r} in {output!r}"


async def test_a_hostile_screen_name_never_reaches_a_terminal_or_a_page(
    cli_async: CliAsync, demo: DemoProvider, cli: Cli
) -> None:
    """ESC, BEL, C1 and bidi characters in screen_name: stripped from login, list, verify, token and the page."""
    demo.screen_name = HOSTILE
    verify_url = ("--verify-url", demo.provider.verify_url or "")
    result = await run_cli_async(*demo_login_args(demo, *verify_url), env=browser_env())
    assert result.returncode == 0, result.stderr
    assert "evil" in result.stdout
    as_json = await run_cli_async(*demo_login_args(demo, "--json", *verify_url), env=browser_env())
    assert as_json.returncode == 0, as_json.stderr
    verify = await cli_async("verify")
    verify_json = await cli_async("verify", "--json")
    assert verify.returncode == verify_json.returncode == 0, verify.stderr + verify_json.stderr
    outputs = [result.stdout, result.stderr, as_json.stdout, as_json.stderr, verify.stdout, verify_json.stdout]
    for args in (["list"], ["list", "--json"], ["token"], ["token", "--json"], ["token", "--field", "screen_name"]):
        listed = cli(*args)
        assert listed.returncode == 0, listed.stderr
        outputs += [listed.stdout, listed.stderr]
    assert_terminal_safe(*outputs)
    # JSON stays exact: what the provider said, escaped rather than dropped.
    assert json.loads(verify_json.stdout)["response"]["screen_name"] == HOSTILE

    pages: list[asyncio.Task[str]] = []

    async def browser(url: str) -> bool:
        pages.append(asyncio.create_task(play_user(url)))
        return True

    creds = await login_async(
        provider=demo.provider,
        consumer_key=demo.consumer_key,
        consumer_secret=demo.consumer_secret,
        port=0,
        timeout=20,
        open_browser=browser,
        say=lambda line: outputs.append(line),
        profile="page",
    )
    page = await pages[0]
    assert creds.screen_name is not None
    assert_terminal_safe(creds.screen_name, page, *outputs)
    assert "evil" in page


async def test_a_token_with_control_characters_is_refused(demo: DemoProvider) -> None:
    """An access token carrying an escape sequence is not stored (`loopauth token` would print it): exit 5."""
    demo.failures["access_token"] = Failure(
        200, "oauth_token=a%1B%5D52%3Bc%3BcHduZWQ%3D%07&oauth_token_secret=s", "application/x-www-form-urlencoded"
    )
    result = await run_cli_async(*demo_login_args(demo), env=browser_env())
    assert result.returncode == 5
    assert "token that is not printable ASCII" in result.stderr
    assert_terminal_safe(result.stdout, result.stderr)
    assert not CredentialStore().profiles()


async def test_request_include_cleans_the_status_line_and_headers(cli_async: CliAsync) -> None:
    """`request -i` against a server whose status reason and a header carry escapes: printed without them."""
    CredentialStore().save(Credentials("default", "example", "ck", "cs", "t", "ts"))

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\x1b[2J\r\nContent-Length: 2\r\nX-Evil: \x1b]52;c;cHduZWQ=\x07\x9b2J\r\n\r\nok")
        await writer.drain()
        writer.close()

    async with raw_server(answer) as port:
        result = await cli_async("request", "-i", f"http://127.0.0.1:{port}/")
    assert result.returncode == 0, result.stderr
    assert result.stdout == "ok"
    assert "X-Evil" in result.stderr
    assert_terminal_safe(result.stderr)


@contextlib.asynccontextmanager
async def raw_server(
    handle: Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]],
) -> AsyncIterator[int]:
    """A TCP server on a free loopback port that answers with whatever bytes ``handle`` writes: a hostile provider."""
    running: set[asyncio.Task[None]] = set()

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        running.add(task)
        try:
            await handle(reader, writer)
        except ConnectionError:
            pass  # the client gave up, as it should
        finally:
            writer.transport.abort()
            running.discard(task)

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        # Handlers still trickling or flooding are cut off; nothing waits for them.
        for task in list(running):
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)
        await server.wait_closed()


# --- item 4: unbounded and trickled provider bodies ------------------------------------------------------------

BODY_HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: application/x-www-form-urlencoded\r\n"
ADDRESS_SPACE = 2 << 30
"""The children's address-space limit: if a cap ever broke, the test fails with MemoryError, not the machine."""


async def run_measured(*args: str, timeout: float) -> tuple[subprocess.CompletedProcess[str], int]:
    """``python -m loopauth ARGS`` and the peak resident memory (bytes) of that process alone (wait4).

    In a thread, so that the test's event loop keeps serving the hostile provider meanwhile.
    """
    return await asyncio.to_thread(_run_measured, list(args), timeout)


def _run_measured(args: list[str], timeout: float) -> tuple[subprocess.CompletedProcess[str], int]:
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "loopauth", *args], stdin=subprocess.DEVNULL, stdout=out, stderr=err
        )
        resource.prlimit(proc.pid, resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))
        deadline = time.monotonic() + timeout
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() > deadline:
                proc.kill()
            time.sleep(0.02)
        proc.returncode = os.waitstatus_to_exitcode(status)
        texts = []
        for f in (out, err):
            f.seek(0)
            texts.append(f.read().decode())
    return subprocess.CompletedProcess(args, proc.returncode, texts[0], texts[1]), usage.ru_maxrss * 1024


def custom_login_args(port: int, *extra: str) -> list[str]:
    base = f"http://127.0.0.1:{port}"
    return [
        "login", "--provider", "hostile", "--consumer-key", "ck", "--consumer-secret", "cs",
        "--request-token-url", f"{base}/rt", "--authorize-url", f"{base}/a", "--access-token-url", f"{base}/at",
        "--port", "0", "--no-browser", *extra,
    ]  # fmt: skip


@pytest.mark.parametrize("declared", [True, False], ids=["content-length-2MB", "endless-stream"])
async def test_a_huge_request_token_answer_ends_the_login_with_bounded_memory(declared: bool) -> None:
    """A provider answering 2 MB (or streaming forever): exit 5 naming the 1 MiB limit, long before the timeout."""

    async def flood(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(BODY_HEAD + (b"Content-Length: 2097152\r\n\r\n" if declared else b"Connection: close\r\n\r\n"))
        chunk = b"oauth_token=" + b"a" * 65536
        for _ in range(32 if declared else 1 << 20):
            writer.write(chunk)
            await writer.drain()

    async with raw_server(flood) as port:
        started = time.monotonic()
        result, peak = await run_measured(*custom_login_args(port, "--timeout", "20"), timeout=60)
    assert result.returncode == 5, result.stderr
    assert "loopauth reads" in result.stderr
    assert "1 MiB" in result.stderr
    assert time.monotonic() - started < 20
    assert peak < 200 << 20


async def test_a_provider_trickling_its_answer_is_cut_off_at_the_timeout() -> None:
    """One byte every 0.2 s, status line included, for ever: `request --timeout 2` ends with exit 5 in time."""

    async def trickle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        for byte in itertools.chain(BODY_HEAD + b"Connection: close\r\n\r\n", itertools.repeat(ord("a"))):
            writer.write(bytes([byte]))
            await writer.drain()
            await asyncio.sleep(0.2)

    CredentialStore().save(Credentials("default", "example", "ck", "cs", "t", "ts"))
    async with raw_server(trickle) as port:
        started = time.monotonic()
        result, _ = await run_measured("request", "--timeout", "2", f"http://127.0.0.1:{port}/", timeout=60)
        took = time.monotonic() - started
    assert result.returncode == 5, result.stderr
    assert "did not answer within 2 s" in result.stderr
    assert took < 10


# --- item 5: logs that leak, and connection floods -------------------------------------------------------------


async def _served_login(demo: DemoProvider, login: StartLogin) -> tuple[Login, str, int]:
    """`loopauth login --no-browser`, once it serves: the child, its start URL and its port."""
    child = await login(*demo_login_args(demo, "--no-browser"))
    start = (await child.expect(r"Open this URL in a browser to log in: (http://127\.0\.0\.1:\d+/[\w-]+) "))[1]
    await child.expect(r"Or open the provider's page: ")
    port = urlsplit(start).port
    assert port is not None
    return child, start, port


async def test_a_malformed_request_puts_nothing_on_stderr(demo: DemoProvider, login: StartLogin) -> None:
    """A NUL in the request line made aiohttp log the raw line, verifier included, with a traceback: now silent."""
    child, start, port = await _served_login(demo, login)
    request = (
        b"GET /callback?oauth_token=tok&oauth_verifier=SECRET-VERIFIER-1\x00 HTTP/1.1\r\n"
        + f"Host: 127.0.0.1:{port}\r\n\r\n".encode()
    )
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(request)
    assert (await reader.read()).startswith(b"HTTP/1.")
    writer.close()
    await asyncio.wait_for(browse(start), 20)
    result = await child.finish()
    assert_logged_in(result)
    assert "SECRET-VERIFIER-1" not in result.stderr
    assert "Traceback" not in result.stderr
    assert "Error handling request" not in result.stderr


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="counts the login's open descriptors in /proc")
async def test_a_flood_of_idle_connections_neither_locks_out_the_callback_nor_floods_stderr(
    demo: DemoProvider, login: StartLogin
) -> None:
    """1,100 idle connections against a login limited to 1,024 descriptors: it stays far below the limit, prints
    nothing, and the browser that comes next still logs in."""
    child, start, port = await _served_login(demo, login)
    resource.prlimit(child.proc.pid, resource.RLIMIT_NOFILE, (1024, 1024))
    held: list[asyncio.StreamWriter] = []

    async def connect() -> None:
        with contextlib.suppress(OSError, TimeoutError):
            _, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 5)
            held.append(writer)

    try:
        await asyncio.gather(*(connect() for _ in range(1100)))
        assert len(held) > 1000
        # The login closes the excess as it accepts them; on a busy machine it may still be working through the
        # backlog when the last client connected, so wait (boundedly) for it to settle below the cap.
        deadline = time.monotonic() + 15
        while (descriptors := len(os.listdir(f"/proc/{child.proc.pid}/fd"))) >= MAX_CONNECTIONS + 64:
            assert time.monotonic() < deadline, f"{descriptors} descriptors open, cap {MAX_CONNECTIONS}"
            await asyncio.sleep(0.1)
        await asyncio.wait_for(browse(start), 20)
        result = await child.finish()
    finally:
        for writer in held:
            writer.transport.abort()
    assert_logged_in(result)
    assert "Traceback" not in result.stderr
    assert "accept" not in result.stderr
    assert len(result.stderr) < 4096


async def test_the_oldest_idle_connection_makes_way_and_busy_ones_are_kept() -> None:
    """At the limit, a new connection closes the oldest idle one; when every one is mid-request, it gets a 503."""
    waiter = waiter_for(started=False)  # so the start page waits: each request to it keeps its connection busy
    async with serving(waiter) as server:
        idle = [await asyncio.open_connection("127.0.0.1", server.port) for _ in range(MAX_CONNECTIONS)]
        await asyncio.sleep(0.1)  # let the server take them all in
        status, _, _ = await get(server.origin + "/favicon.ico")
        assert status == 404
        assert await asyncio.wait_for(idle[0][0].read(), 5) == b""  # the oldest was closed to make way
        for _, writer in idle:
            writer.transport.abort()
        await asyncio.sleep(0.1)

        head = f"GET {urlsplit(server.start_url).path} HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n\r\n".encode()
        busy = []
        for _ in range(MAX_CONNECTIONS):
            reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
            writer.write(head)
            busy.append((reader, writer))
        await asyncio.sleep(0.2)
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        assert (await asyncio.wait_for(reader.read(), 5)).startswith(b"HTTP/1.1 503 ")
        writer.close()
        waiter.ready(AUTHORIZE)
        answers = []
        for reader, writer in busy:  # none was cut off: each gets its answer now, and one the redirect
            answers.append((await asyncio.wait_for(reader.readuntil(b"\r\n"), 5))[:12])
            writer.transport.abort()
        assert sorted(answers) == [b"HTTP/1.1 302"] + [b"HTTP/1.1 410"] * (MAX_CONNECTIONS - 1)


async def test_loop_errors_about_the_server_are_dropped_others_passed_on() -> None:
    """While the server runs, asyncio's reports about its sockets print nothing; the rest reach the old handler."""
    loop = asyncio.get_running_loop()
    seen: list[str] = []

    def previous(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        seen.append(context["message"])

    loop.set_exception_handler(previous)
    try:
        async with serving(waiter_for()) as server:
            ours, theirs = _Named(server.port), _Named(server.port + 1)
            # As asyncio reports an accept() that failed for want of descriptors, and a connection's fatal error.
            loop.call_exception_handler({"message": "socket.accept() out of system resource", "socket": ours})
            loop.call_exception_handler({"message": "a connection of ours", "transport": ours})
            loop.call_exception_handler({"message": "somebody else's", "socket": theirs})
            loop.call_exception_handler({"message": "no socket at all"})
        assert loop.get_exception_handler() is previous
    finally:
        loop.set_exception_handler(None)
    assert seen == ["somebody else's", "no socket at all"]


class _Named:
    """A socket or transport as the loop's reports carry them: all that matters is the local address."""

    def __init__(self, port: int) -> None:
        self.port = port

    def getsockname(self) -> tuple[str, int]:
        return ("127.0.0.1", self.port)

    def get_extra_info(self, name: str) -> object:
        return self.getsockname() if name == "sockname" else None


# --- item 7: requests another site's page makes ------------------------------------------------------------------

NAVIGATION = {"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "document"}


@pytest.mark.parametrize(
    "fetch",
    [
        {"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "no-cors", "Sec-Fetch-Dest": "image"},
        {"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "cors", "Sec-Fetch-Dest": "empty"},
        {"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "iframe"},
        {"Sec-Fetch-Site": "same-site", "Sec-Fetch-Mode": "no-cors", "Sec-Fetch-Dest": "script"},
    ],
    ids=["img", "fetch", "iframe", "same-site-script"],
)
async def test_requests_other_sites_pages_make_are_refused(fetch: dict[str, str]) -> None:
    """A denial or a callback sent by another site's image, fetch or frame is a 403 that changes nothing; the
    provider's redirect (a cross-site navigation of the tab) still completes the login."""
    waiter = waiter_for()
    waiter.finish(Page(200, "done"))
    async with serving(waiter) as server:
        status, headers, _ = await get(server.start_url, headers=fetch)
        assert status == 403
        assert "Location" not in headers
        for query in (f"denied={TOKEN}", f"oauth_token={TOKEN}&oauth_verifier=v"):
            status, _, _ = await get(f"{server.callback_url}?{query}", headers=fetch)
            assert status == 403
        assert not waiter.result.done()
        status, _, body = await get(f"{server.callback_url}?oauth_token={TOKEN}&oauth_verifier=v", headers=NAVIGATION)
    assert (status, body) == (200, "done")
    assert waiter.result.result() == Approved("v")


# --- item 8: the consumer secret off the command line, a full disk, a failed save, Ctrl-C at start-up ----------


def without_secret(args: list[str]) -> list[str]:
    """demo_login_args without `--consumer-secret S`."""
    i = args.index("--consumer-secret")
    return args[:i] + args[i + 2 :]


async def test_the_consumer_secret_can_come_from_a_file(demo: DemoProvider, tmp_path: Path) -> None:
    """--consumer-secret-file FILE: the secret never appears on the command line; the flag and the file exclude
    each other."""
    secret_file = tmp_path / "secret"
    secret_file.write_text(demo.consumer_secret + "\n")
    args = [*without_secret(demo_login_args(demo)), "--consumer-secret-file", str(secret_file)]
    result = await run_cli_async(*args, env=browser_env())
    assert_logged_in(result)
    both = await run_cli_async(*args, "--consumer-secret", "x")
    assert both.returncode == 2
    assert "not allowed with argument" in both.stderr


async def test_a_missing_secret_is_asked_for_on_the_terminal_without_echo(demo: DemoProvider) -> None:
    """No secret anywhere and a terminal on stdin: loopauth asks, the terminal does not show what is typed."""
    controller, terminal = pty.openpty()
    try:
        mode_before = termios.tcgetattr(terminal)
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "loopauth", *without_secret(demo_login_args(demo, "--no-browser")),
            # A session of its own: no controlling terminal to find through /dev/tty but this one, on stdin.
            stdin=terminal, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
        )  # fmt: skip
        child = Login(proc)
        try:
            assert proc.stderr is not None
            prompt = b""
            while not prompt.endswith(b"Consumer secret for demo (not shown): "):  # no newline before the answer
                prompt += await asyncio.wait_for(proc.stderr.read(1), 20) or b"<EOF>"
                assert not prompt.endswith(b"<EOF>"), prompt
            os.write(controller, demo.consumer_secret.encode() + b"\n")
            start = (await child.expect(r"Open this URL in a browser to log in: (http://127\.0\.0\.1:\d+/[\w-]+) "))[1]
            await asyncio.wait_for(browse(start), 20)
            result = await child.finish()
        finally:
            child.kill()
        assert_logged_in(result, secret=demo.consumer_secret)
        shown = b""
        while select.select([controller], [], [], 0.2)[0]:
            shown += os.read(controller, 65536)
        assert demo.consumer_secret.encode() not in shown
        assert termios.tcgetattr(terminal) == mode_before
    finally:
        os.close(controller)
        os.close(terminal)


class FullDisk(CredentialStore):
    """A store whose check passes but whose save fails, as when the disk fills while the user is approving."""

    def save(self, creds: AnyCredentials, *, kind: str | None = None) -> Path:
        raise StoreError(f"cannot save credentials to {self.path_for(creds.profile)}: No space left on device",
                         path=self.path_for(creds.profile))  # fmt: skip


@pytest.mark.parametrize("can_revoke", [True, False], ids=["revoke-endpoint", "no-revoke-endpoint"])
async def test_tokens_that_cannot_be_saved_are_revoked_where_the_provider_can(
    demo: DemoProvider, can_revoke: bool
) -> None:
    """The provider issued tokens, the save failed: they are revoked (or the user is told to), exit 6."""
    provider = demo.provider if can_revoke else demo.provider.replace(revoke_url=None)
    pages: list[asyncio.Task[str]] = []

    async def browser(url: str) -> bool:
        pages.append(asyncio.create_task(play_user(url)))
        return True

    with pytest.raises(StoreError) as info:
        await login_async(
            provider=provider,
            consumer_key=demo.consumer_key,
            consumer_secret=demo.consumer_secret,
            port=0,
            timeout=20,
            open_browser=browser,
            store=FullDisk(),
            say=lambda _: None,
        )
    with pytest.raises(PlayUserError, match="failed with 502"):  # the browser's tab says the login failed
        await pages[0]
    assert len(demo.issued_access_tokens) == 1
    assert "No space left on device" in info.value.message
    if can_revoke:
        assert demo.revoked_access_tokens == set(demo.issued_access_tokens)
        assert "the new token was revoked at demo" in info.value.message
    else:
        assert demo.revoked_access_tokens == set()
        assert "revoke the app's access in demo's settings" in info.value.message


async def test_a_full_disk_is_found_before_the_browser_opens(demo: DemoProvider) -> None:
    """With room for a few hundred bytes (RLIMIT_FSIZE), the login stops before the provider is asked anything.
    An empty write probe passed, and the login failed only once the user had approved it."""

    def small_files() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (512, 512))

    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "loopauth", *demo_login_args(demo),
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, preexec_fn=small_files,
        env={**os.environ, **browser_env(), "PYTHONDONTWRITEBYTECODE": "1"},
    )  # fmt: skip
    _, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode == 6, err
    assert "File too large" in err.decode()
    assert demo.calls["request_token"] == demo.calls["authorize"] == 0


SITECUSTOMIZE = """
import os, signal, sys

class InterruptAt:
    '''Ctrl-C, as a person's, at the moment a given module starts to be imported.'''

    def find_spec(self, name, path=None, target=None):
        if name == os.environ["LOOPAUTH_TEST_INTERRUPT_AT"]:
            sys.meta_path.remove(self)
            os.kill(os.getpid(), signal.SIGINT)
        return None

sys.meta_path.insert(0, InterruptAt())
"""


@pytest.mark.parametrize("module", ["loopauth.errors", "loopauth.cli.token", "loopauth.store", "argparse"])
def test_ctrl_c_while_starting_up_is_one_line_and_130(tmp_path: Path, module: str) -> None:
    """An interrupt in the first milliseconds, while loopauth imports its modules: no traceback, exit 130."""
    (tmp_path / "sitecustomize.py").write_text(SITECUSTOMIZE)
    env = {"PYTHONPATH": str(tmp_path), "LOOPAUTH_TEST_INTERRUPT_AT": module}
    args = ["token"] if module != "argparse" else ["list"]
    result = run_cli(*args, env=env)
    assert (result.returncode, result.stderr) == (130, "loopauth: error: interrupted\n")


def test_ctrl_c_tests_work_when_the_suite_starts_with_sigint_ignored(tmp_path: Path) -> None:
    """As a background job of a script (CI, `make test > log &`) the suite starts with SIGINT ignored: the tests
    that Ctrl-C a loopauth must still see it exit 130, so the children they start get the default back."""
    node = f"{Path(__file__)}::test_ctrl_c_while_starting_up_is_one_line_and_130[argparse]"
    python = shlex.quote(sys.executable)
    result = subprocess.run(
        ["sh", "-c", f"trap '' INT; exec {python} -m pytest -q -p no:cacheprovider -o addopts= {shlex.quote(node)}"],
        capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL, cwd=tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout


def test_the_cli_knows_the_interrupted_exit_code_before_importing_it() -> None:
    """loopauth.cli keeps its own copy of 130 for Ctrl-C during imports; it is the documented one."""
    import loopauth.cli
    from loopauth.errors import EXIT_INTERRUPTED

    assert loopauth.cli.EXIT_INTERRUPTED == EXIT_INTERRUPTED
