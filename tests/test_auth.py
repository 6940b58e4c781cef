"""loopauth.auth against the demo providers, through the real requests, httpx (sync and async) and aiohttp.

The OAuth 1.0a demo verifies every signature with oauthlib's server endpoint and echoes the query and form
it decoded; the OAuth 2.0 demo checks every bearer and counts refreshes. Each client library encodes the
URL and the body its own way, and the signature must cover exactly what it sends.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import aiohttp
import httpx
import pytest
import requests

import loopauth
from loopauth.demo import DEMO_SCREEN_NAME
from loopauth.errors import NotLoggedIn, UsageError
from loopauth.fresh import load_fresh
from loopauth.models import OAuth2Credentials
from loopauth.store import CredentialStore

from .demo_probes import DemoOAuth2Provider, DemoProvider, Failure
from .threaded_demos import in_a_thread, log_in_oauth1, log_in_oauth2

HOSTILE = "a & b = c + 100% é 😀"
# Every character a form or query encoder may get wrong: reserved ones, space, '+', '%', non-ASCII, a
# repeated name, an empty value, and a name that needs encoding too.
QUERY = [("q", HOSTILE), ("q", "two"), ("sp ace", "x y"), ("empty", "")]
FORM = [("status", HOSTILE), ("n", "1"), ("n", "2"), ("k+%=&", "%41")]
QUERY_ECHO = {"q": [HOSTILE, "two"], "sp ace": "x y", "empty": ""}
FORM_ECHO = {"status": HOSTILE, "n": ["1", "2"], "k+%=&": "%41"}

SIGNATURE_METHODS = ["HMAC-SHA1", "HMAC-SHA256", "PLAINTEXT", "RSA-SHA1"]


@pytest.fixture
def demo() -> Iterator[DemoProvider]:
    with in_a_thread(DemoProvider()) as provider:
        yield provider


@pytest.fixture
def demo2() -> Iterator[DemoOAuth2Provider]:
    with in_a_thread(DemoOAuth2Provider()) as provider:
        yield provider


# -- one call through each library -------------------------------------------------------------------------------
# Each sends `method url` with `query` and `form` the way that library's users write it, authorized by
# loopauth, and returns the status and the JSON answer. The blocking ones run in a worker thread: the async
# tests' event loop must stay free.

Answer = tuple[int, Any]
Send = Callable[[str, str, list[tuple[str, str]], list[tuple[str, str]]], Awaitable[Answer]]


def _as_dict(pairs: list[tuple[str, str]]) -> dict[str, str | list[str]]:
    """Pairs as httpx takes them: a repeated name holds a list."""
    out: dict[str, str | list[str]] = {}
    for name, value in pairs:
        previous = out.get(name)
        out[name] = value if previous is None else [*([previous] if isinstance(previous, str) else previous), value]
    return out


async def send_requests(method: str, url: str, query: list[tuple[str, str]], form: list[tuple[str, str]]) -> Answer:
    def call() -> Answer:
        with requests.Session() as session:
            session.auth = loopauth.auth.requests()
            r = session.request(method, url, params=query, data=form or None, timeout=10)
            return r.status_code, r.json()

    import asyncio

    return await asyncio.to_thread(call)


async def send_httpx(method: str, url: str, query: list[tuple[str, str]], form: list[tuple[str, str]]) -> Answer:
    def call() -> Answer:
        with httpx.Client(auth=loopauth.auth.httpx(), timeout=10) as client:
            r = client.request(method, url, params=tuple(query), data=_as_dict(form) or None)
            return r.status_code, r.json()

    import asyncio

    return await asyncio.to_thread(call)


async def send_httpx_async(method: str, url: str, query: list[tuple[str, str]], form: list[tuple[str, str]]) -> Answer:
    async with httpx.AsyncClient(auth=loopauth.auth.httpx(), timeout=10) as client:
        r = await client.request(method, url, params=tuple(query), data=_as_dict(form) or None)
        return r.status_code, r.json()


async def send_aiohttp(method: str, url: str, query: list[tuple[str, str]], form: list[tuple[str, str]]) -> Answer:
    # aiohttp_headers signs the URL as given: the query goes in it, encoded by yarl as aiohttp will send it.
    from yarl import URL

    full = str(URL(url).extend_query(query))
    headers = await loopauth.auth.aiohttp_headers(method, full, data=form or None)
    async with (
        aiohttp.ClientSession() as session,
        session.request(method, full, data=form or None, headers=headers) as r,
    ):
        return r.status, await r.json()


CLIENTS: dict[str, Send] = {
    "requests": send_requests,
    "httpx": send_httpx,
    "httpx-async": send_httpx_async,
    "aiohttp": send_aiohttp,
}


# -- OAuth 1.0a --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", SIGNATURE_METHODS)
@pytest.mark.parametrize("client", CLIENTS)
async def test_get_with_a_hostile_query_is_signed_as_sent(
    demo: DemoProvider, tmp_path: Path, client: str, method: str
) -> None:
    """GET with `& = + %`, spaces, non-ASCII and repeated names in the query: the demo verifies the signature."""
    log_in_oauth1(demo, signature_method=method, tmp_path=tmp_path)
    status, echoed = await CLIENTS[client]("GET", demo.echo_url, QUERY, [])
    assert status == 200, echoed
    assert echoed["method"] == "GET"
    assert echoed["query"] == QUERY_ECHO
    assert echoed["screen_name"] == DEMO_SCREEN_NAME
    assert f'oauth_signature_method="{method}"' in demo.last_request_headers["echo"]["Authorization"]


@pytest.mark.parametrize("method", SIGNATURE_METHODS)
@pytest.mark.parametrize("client", CLIENTS)
async def test_post_with_a_hostile_form_and_query_is_signed_as_sent(
    demo: DemoProvider, tmp_path: Path, client: str, method: str
) -> None:
    """POST with a form holding `& = + %` and non-ASCII, and a query: the form is signed, and verified."""
    log_in_oauth1(demo, signature_method=method, tmp_path=tmp_path)
    status, echoed = await CLIENTS[client]("POST", demo.echo_url, QUERY, FORM)
    assert status == 200, echoed
    assert echoed["method"] == "POST"
    assert echoed["form"] == FORM_ECHO
    assert echoed["query"] == QUERY_ECHO


async def test_a_signature_does_not_survive_a_changed_form(demo: DemoProvider) -> None:
    """The control: the form really is signed, since the demo refuses the same header on another form."""
    log_in_oauth1(demo)
    headers = await loopauth.auth.aiohttp_headers("POST", demo.echo_url, data=FORM)
    async with (
        aiohttp.ClientSession() as session,
        session.post(demo.echo_url, data=[*FORM, ("n", "3")], headers=headers) as r,
    ):
        assert r.status == 401


def test_httpx_sends_the_url_it_signed_when_it_leaves_characters_raw(demo: DemoProvider) -> None:
    """httpx leaves `[ ] | ^ { }` raw in a query; loopauth encodes them, signs that, and httpx sends that."""
    log_in_oauth1(demo)
    url = demo.echo_url + "?k=[a|b]^{c}&e=%C3%A9"
    assert "[" in str(httpx.URL(url))  # what httpx alone would send
    with httpx.Client(auth=loopauth.auth.httpx(), timeout=10) as client:
        r = client.get(url)
    assert r.status_code == 200, r.text
    assert r.json()["query"] == {"k": "[a|b]^{c}", "e": "é"}
    assert "%5Ba%7Cb%5D" in str(r.request.url)


def test_a_json_body_is_sent_but_not_signed(demo: DemoProvider) -> None:
    """Only a form body is signed (RFC 5849 §3.4.1.3): a JSON body leaves the signature to the URL."""
    log_in_oauth1(demo)
    r = requests.post(demo.echo_url, json={"text": HOSTILE}, auth=loopauth.auth.requests(), timeout=10)
    assert r.status_code == 200, r.text
    assert r.json()["form"] == {}
    with httpx.Client(auth=loopauth.auth.httpx(), timeout=10) as client:
        assert client.post(demo.echo_url, json={"text": HOSTILE}).status_code == 200


def test_a_form_body_that_cannot_be_signed_is_refused_before_sending(demo: DemoProvider) -> None:
    """Raw non-ASCII or a stream under a form Content-Type, or a form on a GET: UsageError, and nothing is sent."""
    log_in_oauth1(demo)
    form_type = {"Content-Type": "application/x-www-form-urlencoded"}
    with pytest.raises(UsageError, match="cannot sign a streamed form body"):
        requests.post(demo.echo_url, data=iter([b"k=v"]), headers=form_type, auth=loopauth.auth.requests(), timeout=10)
    with pytest.raises(UsageError, match="not percent-encoded"):
        requests.post(demo.echo_url, data="k=é".encode(), headers=form_type, auth=loopauth.auth.requests(), timeout=10)
    with httpx.Client(auth=loopauth.auth.httpx()) as client, pytest.raises(UsageError, match="GET requests cannot"):
        client.request("GET", demo.echo_url, data={"k": "v"})
    assert demo.calls["echo"] == 0


def test_the_active_profile_is_the_default_and_a_missing_one_fails_at_once(
    demo: DemoProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No profile named: the active one ($LOOPAUTH_PROFILE here); a profile nobody logged in to: NotLoggedIn now."""
    log_in_oauth1(demo, profile="work")
    monkeypatch.setenv("LOOPAUTH_PROFILE", "work")
    auth = loopauth.auth.requests()
    assert auth.signer.profile == "work"
    assert requests.get(demo.echo_url, auth=auth, timeout=10).status_code == 200
    for make in (loopauth.auth.requests, loopauth.auth.httpx):
        with pytest.raises(NotLoggedIn):
            make("nobody")


def test_a_new_login_is_used_by_an_existing_auth(demo: DemoProvider) -> None:
    """The profile is read at every request: an auth made before a new login signs with the new token."""
    first = log_in_oauth1(demo)
    auth = loopauth.auth.requests()
    second = log_in_oauth1(demo)
    assert second.oauth_token != first.oauth_token
    r = requests.get(demo.echo_url, auth=auth, timeout=10)
    assert r.status_code == 200
    assert f'oauth_token="{second.oauth_token}"' in demo.last_request_headers["echo"]["Authorization"]


# -- OAuth 2.0 ---------------------------------------------------------------------------------------------------

Reply = requests.Response | httpx.Response


def get_with_requests(url: str) -> Reply:
    return requests.get(url, auth=loopauth.auth.requests(), timeout=10)


def get_with_httpx(url: str) -> Reply:
    return httpx.get(url, auth=loopauth.auth.httpx(), timeout=10)


SYNC_CALLERS: dict[str, Callable[[str], Reply]] = {"requests": get_with_requests, "httpx": get_with_httpx}


@pytest.mark.parametrize("client", CLIENTS)
async def test_oauth2_sends_the_bearer_and_refreshes_a_due_token_first(demo2: DemoOAuth2Provider, client: str) -> None:
    """A token that is due is refreshed once, under the lock, before the request; the form goes as it is."""
    import asyncio

    first = await asyncio.to_thread(log_in_oauth2, demo2)
    store = CredentialStore()
    assert first.expires_at is not None
    assert first.issued_at is not None
    store.save(first.replace(expires_at=first.expires_at - 10_000, issued_at=first.issued_at - 10_000))
    status, echoed = await CLIENTS[client]("POST", demo2.endpoints.echo_url, QUERY, FORM)
    assert status == 200, echoed
    assert echoed["form"] == FORM_ECHO
    assert echoed["user"]["username"] == DEMO_SCREEN_NAME
    assert demo2.refreshes == 1
    stored = store.load("default")
    assert isinstance(stored, OAuth2Credentials)
    assert stored.access_token != first.access_token
    assert demo2.last_request_headers["echo"]["Authorization"] == f"Bearer {stored.access_token}"


@pytest.mark.parametrize("client", SYNC_CALLERS)
def test_oauth2_a_401_gets_one_refresh_and_one_retry(demo2: DemoOAuth2Provider, client: str) -> None:
    """The provider ended the token early: 401, forced refresh, retry with the new token, 200."""
    log_in_oauth2(demo2)
    demo2.expire_access_tokens()
    r = SYNC_CALLERS[client](demo2.endpoints.echo_url)
    assert r.status_code == 200, r.text
    assert demo2.refreshes == 1
    assert demo2.calls["echo"] == 2
    assert [h.status_code for h in r.history] == [401]


@pytest.mark.parametrize("client", SYNC_CALLERS)
def test_oauth2_a_second_401_is_returned_as_it_is(demo2: DemoOAuth2Provider, client: str) -> None:
    """A 401 after the retry is the answer: one refresh, two calls, never a third."""
    log_in_oauth2(demo2)
    demo2.failures["echo"] = Failure(401, '{"title":"Unauthorized"}', "application/json")
    r = SYNC_CALLERS[client](demo2.endpoints.echo_url)
    assert r.status_code == 401
    assert r.json() == {"title": "Unauthorized"}
    assert demo2.refreshes == 1
    assert demo2.calls["echo"] == 2


async def test_oauth2_async_httpx_retries_once_too(demo2: DemoOAuth2Provider) -> None:
    """AsyncClient: the same single retry, the refresh made in a worker thread."""
    import asyncio

    await asyncio.to_thread(log_in_oauth2, demo2)
    demo2.expire_access_tokens()
    async with httpx.AsyncClient(auth=loopauth.auth.httpx(), timeout=10) as client:
        ok = await client.get(demo2.endpoints.echo_url)
        assert ok.status_code == 200
        assert demo2.refreshes == 1
        demo2.failures["echo"] = Failure(401, '{"title":"Unauthorized"}', "application/json")
        refused = await client.get(demo2.endpoints.echo_url)
    assert refused.status_code == 401
    assert demo2.refreshes == 2
    assert demo2.calls["echo"] == 4  # 401, retry; then 401, one retry, no more


async def test_oauth2_aiohttp_headers_after_a_401(demo2: DemoOAuth2Provider) -> None:
    """aiohttp: the headers that got a 401, given back as rejected=, come with a refreshed token, for one retry."""
    import asyncio

    await asyncio.to_thread(log_in_oauth2, demo2)
    demo2.expire_access_tokens()
    url = demo2.endpoints.echo_url
    async with aiohttp.ClientSession() as session:
        headers = await loopauth.auth.aiohttp_headers("GET", url)
        async with session.get(url, headers=headers) as r:
            assert r.status == 401
        retry = await loopauth.auth.aiohttp_headers("GET", url, rejected=headers)
        async with session.get(url, headers=retry) as r:
            assert r.status == 200
    assert retry != headers
    assert demo2.refreshes == 1


def test_oauth2_a_token_another_process_rotated_is_used_without_a_second_refresh(
    demo2: DemoOAuth2Provider,
) -> None:
    """After a 401, when a peer has already refreshed, the retry uses the peer's token: no refresh of our own."""
    log_in_oauth2(demo2)
    auth = loopauth.auth.requests()
    demo2.expire_access_tokens()
    stale = CredentialStore().load("default")
    assert isinstance(stale, OAuth2Credentials)
    # Another tool refreshes while our request is on its way: signed with the old token, sent after the new one.
    with requests.Session() as session:
        session.auth = auth
        prepared = session.prepare_request(requests.Request("GET", demo2.endpoints.echo_url))
        peer = load_fresh("default", force=True)
        r = session.send(prepared, timeout=10)
    assert isinstance(peer, OAuth2Credentials)
    assert prepared.headers["Authorization"] == f"Bearer {stale.access_token}"
    assert [h.status_code for h in r.history] == [401]
    assert r.status_code == 200
    assert r.request.headers["Authorization"] == f"Bearer {peer.access_token}"
    assert demo2.refreshes == 1  # the peer's only


# -- import hygiene ----------------------------------------------------------------------------------------------


def test_importing_loopauth_auth_imports_no_http_client(tmp_path: Path) -> None:
    """`loopauth.auth` and the kwargs helpers load none of requests, httpx or aiohttp until a function needs one."""
    code = (
        "import sys, loopauth\n"
        "loopauth.auth.requests, loopauth.auth.httpx, loopauth.tweepy_kwargs, loopauth.pytwitter_kwargs\n"
        "print(json.dumps([m for m in ('requests', 'httpx', 'aiohttp', 'anyio', 'yarl') if m in sys.modules]))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", "import json\n" + code],
        env=dict(os.environ, LOOPAUTH_CONFIG_DIR=str(tmp_path)),
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert json.loads(out) == []


@pytest.mark.parametrize(("make", "package"), [("requests", "requests"), ("httpx", "httpx"), ("httpx", "anyio")])
def test_a_missing_client_library_says_which_extra_to_install(
    demo: DemoProvider, monkeypatch: pytest.MonkeyPatch, make: str, package: str
) -> None:
    """Without the library: one UsageError naming the pip extra, not a ModuleNotFoundError from deep inside."""
    log_in_oauth1(demo)
    monkeypatch.setitem(sys.modules, package, None)  # what `import package` then raises ModuleNotFoundError for
    monkeypatch.delitem(sys.modules, f"loopauth.auth.{make}_auth", raising=False)
    with pytest.raises(UsageError, match=rf"needs the {package} package: pip install 'loopauth\[{make}\]'"):
        getattr(loopauth.auth, make)()
