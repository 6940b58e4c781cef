"""The demo provider, driven from the outside with oauthlib's own client and aiohttp."""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, quote, quote_plus, urlencode, urlsplit

import aiohttp
import pytest
from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from oauthlib.oauth1 import Client
from yarl import URL

from loopauth.demo import (
    DEMO_CONSUMER_KEY,
    DEMO_CONSUMER_SECRET,
    DEMO_SCREEN_NAME,
    DEMO_USER_ID,
    PlayUserError,
    play_user,
)
from loopauth.demo.pages import SECURITY_HEADERS

from .demo_probes import DemoProvider, Failure

FORM = "application/x-www-form-urlencoded"
# Never connected to: the tests read the redirect's Location instead of following it.
CALLBACK = "http://127.0.0.1:9/callback?state=s1"
TRICKY = "& = + % é 😀"


@dataclass(frozen=True)
class Consumer:
    key: str
    secret: str
    method: str = "HMAC-SHA1"
    rsa_private_key: str | None = None


DEMO = Consumer(DEMO_CONSUMER_KEY, DEMO_CONSUMER_SECRET)


@dataclass(frozen=True)
class Signed:
    method: str
    url: str
    headers: dict[str, str]
    body: bytes | None


@dataclass(frozen=True)
class Reply:
    status: int
    text: str
    headers: dict[str, str]

    def form(self) -> dict[str, str]:
        return dict(parse_qsl(self.text, keep_blank_values=True))

    def json(self) -> Any:
        return json.loads(self.text)


def sign(
    consumer: Consumer,
    method: str,
    url: str,
    *,
    token: str | None = None,
    token_secret: str | None = None,
    callback: str | None = None,
    verifier: str | None = None,
    form: list[tuple[str, str]] | None = None,
    timestamp: str | None = None,
) -> Signed:
    """Sign with oauthlib's client, independent of loopauth's own client code."""
    client = Client(
        consumer.key,
        client_secret=consumer.secret,
        resource_owner_key=token,
        resource_owner_secret=token_secret,
        callback_uri=callback,
        verifier=verifier,
        signature_method=consumer.method,
        rsa_key=consumer.rsa_private_key,
        timestamp=timestamp,
    )
    headers = {"Content-Type": FORM} if form is not None else {}
    # Encode the form ourselves: given a list of pairs, Client.sign turns it into a
    # dict (dropping repeated names) and hands that back instead of a string.
    body = urlencode(form) if form is not None else None
    signed_url, signed_headers, body = client.sign(url, http_method=method, body=body, headers=headers)
    return Signed(
        method,
        str(signed_url),
        {str(k): str(v) for k, v in signed_headers.items()},
        body.encode() if isinstance(body, str) else None,
    )


async def send(session: aiohttp.ClientSession, signed: Signed) -> Reply:
    # encoded=True: send the URL exactly as signed, without yarl requoting it.
    async with session.request(
        signed.method, URL(signed.url, encoded=True), headers=signed.headers, data=signed.body, allow_redirects=False
    ) as response:
        return Reply(response.status, await response.text(), dict(response.headers))


async def request_token(
    demo: DemoProvider, session: aiohttp.ClientSession, consumer: Consumer = DEMO, callback: str = CALLBACK
) -> dict[str, str]:
    reply = await send(session, sign(consumer, "POST", demo.provider.request_token_url, callback=callback))
    assert reply.status == 200, reply.text
    return reply.form()


async def authorize(demo: DemoProvider, session: aiohttp.ClientSession, token: str, action: str = "approve") -> Reply:
    """Submit the authorize form the way a browser does, without following the redirect."""
    data = {"oauth_token": token, "action": action}
    async with session.post(demo.provider.authorize_url, data=data, allow_redirects=False) as response:
        return Reply(response.status, await response.text(), dict(response.headers))


async def access_token(
    demo: DemoProvider,
    session: aiohttp.ClientSession,
    temporary: dict[str, str],
    verifier: str,
    consumer: Consumer = DEMO,
) -> Reply:
    signed = sign(
        consumer,
        "POST",
        demo.provider.access_token_url,
        token=temporary["oauth_token"],
        token_secret=temporary["oauth_token_secret"],
        verifier=verifier,
    )
    return await send(session, signed)


def verifier_from(location: str) -> str:
    return dict(parse_qsl(urlsplit(location).query))["oauth_verifier"]


async def login(demo: DemoProvider, session: aiohttp.ClientSession, consumer: Consumer = DEMO) -> dict[str, str]:
    """The whole three-legged dance; returns the access-token response fields."""
    temporary = await request_token(demo, session, consumer)
    decision = await authorize(demo, session, temporary["oauth_token"])
    assert decision.status == 302, decision.text
    reply = await access_token(demo, session, temporary, verifier_from(decision.headers["Location"]), consumer)
    assert reply.status == 200, reply.text
    return reply.form()


async def call(
    demo: DemoProvider,
    session: aiohttp.ClientSession,
    method: str,
    url: str,
    creds: dict[str, str],
    consumer: Consumer = DEMO,
    form: list[tuple[str, str]] | None = None,
) -> Reply:
    signed = sign(
        consumer, method, url, token=creds["oauth_token"], token_secret=creds["oauth_token_secret"], form=form
    )
    return await send(session, signed)


def assert_not_authenticated(reply: Reply, code: int = 32) -> None:
    assert reply.status == 401, reply.text
    assert reply.json()["errors"][0]["code"] == code


def make_rsa_consumer(key: str) -> tuple[Consumer, str]:
    """A consumer with a fresh RSA key pair; returns it and the PEM public key to register."""
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public_pem = (
        private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return Consumer(key, "unused-for-rsa", "RSA-SHA1", private_pem), public_pem


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client_session:
        yield client_session


@pytest.fixture(scope="module")
def rsa_consumer() -> tuple[Consumer, str]:
    return make_rsa_consumer("rsa-consumer-key-0001")


# --- the three legs -----------------------------------------------------------------------------------------------


async def test_full_hmac_sha1_dance_yields_twitter_style_token_that_verifies(
    demo: DemoProvider, session: aiohttp.ClientSession
) -> None:
    """Request token, authorize form, callback redirect and access token lead to a working verify_credentials."""
    temporary = await request_token(demo, session)
    assert temporary["oauth_callback_confirmed"] == "true"

    async with session.get(demo.provider.authorize_url, params={"oauth_token": temporary["oauth_token"]}) as page:
        html_text = await page.text()
        assert page.status == 200
    assert f'name="oauth_token" value="{temporary["oauth_token"]}"' in html_text

    decision = await authorize(demo, session, temporary["oauth_token"])
    assert decision.status == 302
    location = decision.headers["Location"]
    assert location.startswith("http://127.0.0.1:9/callback?")
    callback_query = dict(parse_qsl(urlsplit(location).query))
    assert callback_query["state"] == "s1"
    assert callback_query["oauth_token"] == temporary["oauth_token"]

    reply = await access_token(demo, session, temporary, callback_query["oauth_verifier"])
    assert reply.status == 200, reply.text
    creds = reply.form()
    assert creds["user_id"] == DEMO_USER_ID
    assert creds["screen_name"] == DEMO_SCREEN_NAME
    assert creds["oauth_token"].startswith(f"{DEMO_USER_ID}-")
    assert "oauth_authorized_realms" not in creds
    assert demo.issued_access_tokens == [creds["oauth_token"]]

    verified = await call(demo, session, "GET", demo.provider.verify_url or "", creds)
    assert verified.status == 200
    assert verified.json()["id_str"] == DEMO_USER_ID
    assert verified.json()["screen_name"] == DEMO_SCREEN_NAME


@pytest.mark.parametrize("method", ["HMAC-SHA1", "HMAC-SHA256", "PLAINTEXT"])
async def test_shared_secret_signature_methods_complete_the_dance(
    demo: DemoProvider, session: aiohttp.ClientSession, method: str
) -> None:
    """Every shared-secret signature method the demo allows logs in and signs API calls."""
    consumer = Consumer(f"{method.lower()}-consumer", "its-secret", method)
    demo.register_client(consumer.key, consumer.secret)
    creds = await login(demo, session, consumer)
    verified = await call(demo, session, "GET", demo.provider.verify_url or "", creds, consumer)
    assert verified.status == 200, verified.text


async def test_rsa_sha1_consumer_with_registered_public_key_completes_the_dance(
    demo: DemoProvider, session: aiohttp.ClientSession, rsa_consumer: tuple[Consumer, str]
) -> None:
    """An RSA-SHA1 consumer is verified against the public key it registered."""
    consumer, public_pem = rsa_consumer
    demo.register_client(consumer.key, consumer.secret, rsa_public_key=public_pem)
    creds = await login(demo, session, consumer)
    echoed = await call(demo, session, "POST", demo.echo_url, creds, consumer, form=[("text", TRICKY)])
    assert echoed.status == 200, echoed.text
    assert echoed.json()["form"] == {"text": TRICKY}


async def test_rsa_public_key_argument_makes_the_demo_consumer_an_rsa_consumer(
    session: aiohttp.ClientSession, rsa_consumer: tuple[Consumer, str]
) -> None:
    """DemoProvider(rsa_public_key=...) lets the demo consumer sign with RSA-SHA1 and says so in its Provider."""
    consumer, public_pem = rsa_consumer
    async with DemoProvider(rsa_public_key=public_pem) as demo:
        assert demo.provider.signature_method == "RSA-SHA1"
        demo_rsa = Consumer(DEMO_CONSUMER_KEY, DEMO_CONSUMER_SECRET, "RSA-SHA1", consumer.rsa_private_key)
        creds = await login(demo, session, demo_rsa)
        assert creds["user_id"] == DEMO_USER_ID


async def test_rsa_signature_from_consumer_without_public_key_is_rejected(
    demo: DemoProvider, session: aiohttp.ClientSession, rsa_consumer: tuple[Consumer, str]
) -> None:
    """A consumer that registered no public key cannot sign with RSA-SHA1 (checked against a dummy key)."""
    consumer, _ = rsa_consumer
    demo.register_client(consumer.key, consumer.secret)
    reply = await send(session, sign(consumer, "POST", demo.provider.request_token_url, callback=CALLBACK))
    assert_not_authenticated(reply)


async def test_unsupported_signature_method_is_rejected(demo: DemoProvider, session: aiohttp.ClientSession) -> None:
    """HMAC-SHA512 is not among the demo's methods: 400, with oauthlib's reason in Twitter's JSON (code 215)."""
    consumer = Consumer(DEMO_CONSUMER_KEY, DEMO_CONSUMER_SECRET, "HMAC-SHA512")
    reply = await send(session, sign(consumer, "POST", demo.provider.request_token_url, callback=CALLBACK))
    assert reply.status == 400
    error = reply.json()["errors"][0]
    assert error["code"] == 215
    assert "HMAC-SHA512 not in" in error["message"]


# --- request tokens -------------------------------------------------------------------------------------------------


async def test_callback_confirmed_none_omits_the_field(demo: DemoProvider, session: aiohttp.ClientSession) -> None:
    """callback_confirmed=None leaves oauth_callback_confirmed out of the request-token response."""
    demo.callback_confirmed = None
    temporary = await request_token(demo, session)
    assert "oauth_callback_confirmed" not in temporary
    assert temporary["oauth_token"]


async def test_callback_confirmed_value_replaces_the_field(demo: DemoProvider, session: aiohttp.ClientSession) -> None:
    """callback_confirmed="True" imitates servers that capitalise the flag."""
    demo.callback_confirmed = "True"
    temporary = await request_token(demo, session)
    assert temporary["oauth_callback_confirmed"] == "True"


async def test_request_token_without_callback_is_rejected(demo: DemoProvider, session: aiohttp.ClientSession) -> None:
    """oauth_callback is mandatory (RFC 5849 §2.1), as on Twitter."""
    reply = await send(session, sign(DEMO, "POST", demo.provider.request_token_url))
    assert reply.status == 400
    error = reply.json()["errors"][0]
    assert error["code"] == 215
    assert error["message"].startswith("Bad Authentication data")


async def test_non_http_callback_is_rejected(demo: DemoProvider, session: aiohttp.ClientSession) -> None:
    """Only http(s) callbacks and oob are accepted."""
    reply = await send(session, sign(DEMO, "POST", demo.provider.request_token_url, callback="javascript:alert(1)"))
    assert_not_authenticated(reply)


async def test_bad_signature_is_rejected_with_code_32(demo: DemoProvider, session: aiohttp.ClientSession) -> None:
    """A request signed with the wrong consumer secret gets Twitter's 401 code 32."""
    wrong = Consumer(DEMO_CONSUMER_KEY, "not-the-secret")
    reply = await send(session, sign(wrong, "POST", demo.provider.request_token_url, callback=CALLBACK))
    assert_not_authenticated(reply)
    assert reply.json() == {"errors": [{"code": 32, "message": "Could not authenticate you."}]}


async def test_unknown_consumer_is_rejected_with_code_32(demo: DemoProvider, session: aiohttp.ClientSession) -> None:
    """An unregistered consumer key is refused like a bad signature."""
    stranger = Consumer("unregistered-consumer", "whatever")
    reply = await send(session, sign(stranger, "POST", demo.provider.request_token_url, callback=CALLBACK))
    assert_not_authenticated(reply)


async def test_replayed_nonce_is_rejected(demo: DemoProvider, session: aiohttp.ClientSession) -> None:
    """The very same signed request sent twice is accepted once."""
    signed = sign(DEMO, "POST", demo.provider.request_token_url, callback=CALLBACK)
    assert (await send(session, signed)).status == 200
    assert_not_authenticated(await send(session, signed))


async def test_stale_timestamp_is_rejected_with_code_135(demo: DemoProvider, session: aiohttp.ClientSession) -> None:
    """A clock an hour off gets Twitter's code 135, so a client can say so."""
    stale = str(int(time.time()) - 3600)
    reply = await send(session, sign(DEMO, "POST", demo.provider.request_token_url, callback=CALLBACK, timestamp=stale))
    assert_not_authenticated(reply, code=135)


# --- authorization ------------------------------------------------------------------------------------------------


async def test_authorize_page_names_the_user_and_carries_security_headers(
    demo: DemoProvider, session: aiohttp.ClientSession
) -> None:
    """The consent page is the demo's form, served with the pages module's headers."""
    temporary = await request_token(demo, session)
    async with session.get(
        demo.provider.authorize_url, params={"oauth_token": temporary["oauth_token"], "force_login": "true"}
    ) as page:
        html_text = await page.text()
        assert page.status == 200
        for name, value in SECURITY_HEADERS.items():
            assert page.headers[name] == value
    assert "Authorize loopauth demo app?" in html_text
    assert f"@{DEMO_SCREEN_NAME}" in html_text
    assert '<form method="post" action="/oauth/authorize">' in html_text
    assert 'name="action" value="approve" class="primary">Authorize app</button>' in html_text
    assert 'name="action" value="deny">Deny</button>' in html_text


async def test_authorize_page_for_unknown_token_is_400_without_reflecting_it(
    demo: DemoProvider, session: aiohttp.ClientSession
) -> None:
    """An unknown token gets an error page that does not echo the hostile input."""
    async with session.get(demo.provider.authorize_url, params={"oauth_token": '"><script>x</script>'}) as page:
        html_text = await page.text()
        assert page.status == 400
        assert page.headers["Content-Security-Policy"] == SECURITY_HEADERS["Content-Security-Policy"]
    assert "<script>" not in html_text


async def test_deny_redirects_with_denied_token_and_kills_it(
    demo: DemoProvider, session: aiohttp.ClientSession
) -> None:
    """Deny sends the user back with ?denied=<token> (after the callback's own query); the token is then dead."""
    temporary = await request_token(demo, session)
    decision = await authorize(demo, session, temporary["oauth_token"], "deny")
    assert decision.status == 302
    assert decision.headers["Location"] == f"{CALLBACK}&denied={temporary['oauth_token']}"
    assert (await authorize(demo, session, temporary["oauth_token"])).status == 400
    assert_not_authenticated(await access_token(demo, session, temporary, "0000000"))


async def test_deny_without_callback_query_starts_one(demo: DemoProvider, session: aiohttp.ClientSession) -> None:
    """A callback with no query gets ?denied=, not &denied=."""
    temporary = await request_token(demo, session, callback="http://127.0.0.1:9/cb")
    decision = await authorize(demo, session, temporary["oauth_token"], "deny")
    assert decision.headers["Location"] == f"http://127.0.0.1:9/cb?denied={temporary['oauth_token']}"


async def test_oob_approval_shows_a_pin_that_works_as_verifier(
    demo: DemoProvider, session: aiohttp.ClientSession
) -> None:
    """With oauth_callback=oob the user sees a 7-digit PIN instead of a redirect."""
    temporary = await request_token(demo, session, callback="oob")
    decision = await authorize(demo, session, temporary["oauth_token"])
    assert decision.status == 200
    pin = re.search(r'role="status">(\d{7})<', decision.text)
    assert pin is not None, decision.text
    reply = await access_token(demo, session, temporary, pin.group(1))
    assert reply.status == 200, reply.text


async def test_oob_denial_shows_a_denied_page(demo: DemoProvider, session: aiohttp.ClientSession) -> None:
    """Denying an oob request shows a page rather than redirecting anywhere."""
    temporary = await request_token(demo, session, callback="oob")
    decision = await authorize(demo, session, temporary["oauth_token"], "deny")
    assert decision.status == 200
    assert '<body class="denied">' in decision.text


async def test_authorize_form_with_unknown_action_is_400(demo: DemoProvider, session: aiohttp.ClientSession) -> None:
    """Only approve and deny are decisions."""
    temporary = await request_token(demo, session)
    assert (await authorize(demo, session, temporary["oauth_token"], "maybe")).status == 400


# --- access tokens ------------------------------------------------------------------------------------------------


async def test_request_token_cannot_be_exchanged_twice(demo: DemoProvider, session: aiohttp.ClientSession) -> None:
    """RFC 5849 §2.3: the temporary credentials are good for one access token."""
    temporary = await request_token(demo, session)
    verifier = verifier_from((await authorize(demo, session, temporary["oauth_token"])).headers["Location"])
    assert (await access_token(demo, session, temporary, verifier)).status == 200
    assert_not_authenticated(await access_token(demo, session, temporary, verifier))
    assert len(demo.issued_access_tokens) == 1


async def test_wrong_verifier_is_rejected(demo: DemoProvider, session: aiohttp.ClientSession) -> None:
    """The verifier must be the one issued for this request token."""
    temporary = await request_token(demo, session)
    await authorize(demo, session, temporary["oauth_token"])
    assert_not_authenticated(await access_token(demo, session, temporary, "WrongVerifier0123456789"))


async def test_unapproved_request_token_cannot_be_exchanged(demo: DemoProvider, session: aiohttp.ClientSession) -> None:
    """Without a visit to the authorize page there is no verifier to match."""
    temporary = await request_token(demo, session)
    assert_not_authenticated(await access_token(demo, session, temporary, "1234567"))


# --- protected resources --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("quote_via", [quote, quote_plus])
@pytest.mark.parametrize("method", ["GET", "DELETE", "POST", "PUT"])
async def test_echo_verifies_and_echoes_reserved_and_non_ascii_parameters(
    demo: DemoProvider, session: aiohttp.ClientSession, method: str, quote_via: Callable[..., str]
) -> None:
    """Query and form parameters with reserved and non-ASCII characters are signed, verified and echoed back."""
    creds = await login(demo, session)
    query = [("q", TRICKY), ("space", "a b"), ("empty", ""), ("marks", "~*'()!/?")]
    url = f"{demo.echo_url}?{urlencode(query, quote_via=quote_via)}"
    form = [("text", TRICKY), ("multi", "1"), ("multi", "2")] if method in ("POST", "PUT") else None
    reply = await call(demo, session, method, url, creds, form=form)
    assert reply.status == 200, reply.text
    assert reply.json() == {
        "method": method,
        "query": dict(query),
        "form": {"text": TRICKY, "multi": ["1", "2"]} if form else {},
        "user_id": DEMO_USER_ID,
        "screen_name": DEMO_SCREEN_NAME,
    }


async def test_tampered_query_fails_verification(demo: DemoProvider, session: aiohttp.ClientSession) -> None:
    """Changing a signed query parameter in transit breaks the signature."""
    creds = await login(demo, session)
    signed = sign(
        DEMO, "GET", f"{demo.echo_url}?a=1", token=creds["oauth_token"], token_secret=creds["oauth_token_secret"]
    )
    tampered = Signed(signed.method, signed.url.replace("a=1", "a=2"), signed.headers, signed.body)
    assert_not_authenticated(await send(session, tampered))


async def test_unsigned_api_call_is_rejected(demo: DemoProvider, session: aiohttp.ClientSession) -> None:
    """verify_credentials without OAuth parameters is 401 code 32."""
    async with session.get(demo.provider.verify_url or "") as response:
        assert response.status == 401
        assert (await response.json())["errors"][0]["code"] == 32


async def test_revoke_makes_later_calls_fail(demo: DemoProvider, session: aiohttp.ClientSession) -> None:
    """invalidate_token answers with the token, which then no longer authenticates."""
    creds = await login(demo, session)
    revoked = await call(demo, session, "POST", demo.provider.revoke_url or "", creds)
    assert revoked.status == 200
    assert revoked.json() == {"access_token": creds["oauth_token"]}
    assert demo.revoked_access_tokens == {creds["oauth_token"]}
    assert_not_authenticated(await call(demo, session, "GET", demo.provider.verify_url or "", creds))


async def test_access_token_is_bound_to_its_consumer(demo: DemoProvider, session: aiohttp.ClientSession) -> None:
    """Another consumer cannot use the demo consumer's access token, even knowing its secret."""
    creds = await login(demo, session)
    other = Consumer("another-consumer", "another-secret")
    demo.register_client(other.key, other.secret)
    assert_not_authenticated(await call(demo, session, "GET", demo.provider.verify_url or "", creds, other))


# --- misbehaviour on demand -----------------------------------------------------------------------------------------


async def test_failure_is_answered_instead_of_the_endpoint(demo: DemoProvider, session: aiohttp.ClientSession) -> None:
    """A canned Failure replaces the real answer, status, body and content type."""
    demo.failures["request_token"] = Failure(503, "<html>Over capacity</html>", "text/html")
    reply = await send(session, sign(DEMO, "POST", demo.provider.request_token_url, callback=CALLBACK))
    assert reply.status == 503
    assert reply.text == "<html>Over capacity</html>"
    assert reply.headers["Content-Type"] == "text/html"
    del demo.failures["request_token"]
    await request_token(demo, session)


async def test_failure_on_verify_leaves_other_endpoints_alone(
    demo: DemoProvider, session: aiohttp.ClientSession
) -> None:
    """Failures are per endpoint."""
    demo.failures["verify"] = Failure(500, '{"errors":[{"code":131,"message":"Internal error"}]}', "application/json")
    creds = await login(demo, session)
    reply = await call(demo, session, "GET", demo.provider.verify_url or "", creds)
    assert reply.status == 500
    assert reply.json()["errors"][0]["code"] == 131


@pytest.mark.parametrize("endpoint", ["request_token", "verify"])
async def test_hanging_endpoint_never_answers_until_close(
    demo: DemoProvider, session: aiohttp.ClientSession, endpoint: str
) -> None:
    """A hanging endpoint makes the client time out, and close() still returns promptly."""
    creds = await login(demo, session) if endpoint == "verify" else {}
    demo.hang.add(endpoint)
    if endpoint == "verify":
        signed = sign(
            DEMO,
            "GET",
            demo.provider.verify_url or "",
            token=creds["oauth_token"],
            token_secret=creds["oauth_token_secret"],
        )
    else:
        signed = sign(DEMO, "POST", demo.provider.request_token_url, callback=CALLBACK)
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.3):
            await send(session, signed)
    assert demo.calls[endpoint] == 1
    async with asyncio.timeout(5):
        await demo.close()


async def test_delay_applies_to_api_endpoints_but_not_to_the_authorize_page(
    demo: DemoProvider, session: aiohttp.ClientSession
) -> None:
    """delay simulates a round trip on OAuth and API endpoints only."""
    demo.delay = 0.4
    loop = asyncio.get_running_loop()
    started = loop.time()
    temporary = await request_token(demo, session)
    assert loop.time() - started >= 0.4
    started = loop.time()
    async with session.get(demo.provider.authorize_url, params={"oauth_token": temporary["oauth_token"]}) as page:
        assert page.status == 200
    assert loop.time() - started < 0.4


async def test_calls_count_each_endpoint_hit(demo: DemoProvider, session: aiohttp.ClientSession) -> None:
    """Tests can see how often each endpoint was hit."""
    creds = await login(demo, session)
    await call(demo, session, "GET", demo.provider.verify_url or "", creds)
    assert demo.calls == {"request_token": 1, "authorize_decision": 1, "access_token": 1, "verify": 1}


async def test_last_request_headers_keep_the_user_agent(demo: DemoProvider, session: aiohttp.ClientSession) -> None:
    """last_request_headers keeps the User-Agent the client sent."""
    signed = sign(DEMO, "POST", demo.provider.request_token_url, callback=CALLBACK)
    await send(session, Signed(signed.method, signed.url, {**signed.headers, "User-Agent": "loopauth-test/1"}, None))
    assert demo.last_request_headers["request_token"]["User-Agent"] == "loopauth-test/1"


async def test_concurrent_logins_each_get_their_own_token(demo: DemoProvider, session: aiohttp.ClientSession) -> None:
    """Many dances at once all succeed with distinct tokens."""
    results = await asyncio.gather(*(login(demo, session) for _ in range(20)))
    tokens = {creds["oauth_token"] for creds in results}
    assert len(tokens) == 20
    assert set(demo.issued_access_tokens) == tokens


# --- lifecycle ------------------------------------------------------------------------------------------------------


async def test_provider_points_at_the_running_server() -> None:
    """base_url and the Provider exist only once started, and name the loopback port."""
    demo = DemoProvider()
    with pytest.raises(RuntimeError):
        _ = demo.base_url
    async with demo:
        assert re.fullmatch(r"http://127\.0\.0\.1:\d+", demo.base_url)
        provider = demo.provider
        assert provider.name == "demo"
        assert provider.request_token_url == f"{demo.base_url}/oauth/request_token"
        assert provider.authorize_url == f"{demo.base_url}/oauth/authorize"
        assert provider.access_token_url == f"{demo.base_url}/oauth/access_token"
        assert provider.verify_url == f"{demo.base_url}/1.1/account/verify_credentials.json"
        assert provider.revoke_url == f"{demo.base_url}/1.1/oauth/invalidate_token"
        assert provider.signature_method == "HMAC-SHA1"


def test_register_client_refuses_keys_oauthlib_would_reject() -> None:
    """A key with characters or a length oauthlib refuses is caught at registration, not at login."""
    with pytest.raises(ValueError, match="consumer key"):
        DemoProvider().register_client("short", "secret")


# --- the scripted person ------------------------------------------------------------------------------------------


@dataclass
class CallbackSite:
    """A stand-in for loopauth's local server: /start redirects to the provider, /callback records."""

    base_url: str = ""
    start_target: str = ""
    queries: list[dict[str, str]] = field(default_factory=list)


@pytest.fixture
async def callback_site() -> AsyncIterator[CallbackSite]:
    site = CallbackSite()

    async def start(request: web.Request) -> web.Response:
        raise web.HTTPFound(site.start_target)

    async def callback(request: web.Request) -> web.Response:
        site.queries.append(dict(request.query))
        return web.Response(text="callback received: " + ",".join(sorted(request.query)))

    app = web.Application()
    app.router.add_get("/start", start)
    app.router.add_get("/callback", callback)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    site.base_url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    yield site
    await runner.cleanup()


async def test_play_user_approves_through_the_local_start_page(
    demo: DemoProvider, session: aiohttp.ClientSession, callback_site: CallbackSite
) -> None:
    """play_user follows the local start redirect, approves, and lands on the callback with a usable verifier."""
    temporary = await request_token(demo, session, callback=f"{callback_site.base_url}/callback?state=s2")
    callback_site.start_target = f"{demo.provider.authorize_url}?oauth_token={temporary['oauth_token']}"
    body = await play_user(f"{callback_site.base_url}/start")
    assert body == "callback received: oauth_token,oauth_verifier,state"
    [query] = callback_site.queries
    assert query["state"] == "s2"
    assert query["oauth_token"] == temporary["oauth_token"]
    reply = await access_token(demo, session, temporary, query["oauth_verifier"])
    assert reply.status == 200, reply.text


async def test_play_user_denies(
    demo: DemoProvider, session: aiohttp.ClientSession, callback_site: CallbackSite
) -> None:
    """approve=False presses Deny and the callback gets denied=<token>."""
    temporary = await request_token(demo, session, callback=f"{callback_site.base_url}/callback")
    await play_user(f"{demo.provider.authorize_url}?oauth_token={temporary['oauth_token']}", approve=False)
    assert callback_site.queries == [{"denied": temporary["oauth_token"]}]


async def test_play_user_returns_the_pin_page_for_oob(demo: DemoProvider, session: aiohttp.ClientSession) -> None:
    """With an oob callback the final page is the provider's PIN page."""
    temporary = await request_token(demo, session, callback="oob")
    body = await play_user(f"{demo.provider.authorize_url}?oauth_token={temporary['oauth_token']}")
    assert re.search(r">\d{7}<", body)


async def test_play_user_raises_on_an_invalid_authorize_link(demo: DemoProvider) -> None:
    """An error page instead of the consent form is reported, not silently returned."""
    with pytest.raises(PlayUserError, match="400"):
        await play_user(f"{demo.provider.authorize_url}?oauth_token=NoSuchRequestToken0000000")
