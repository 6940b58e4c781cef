"""`-v` prints each HTTP exchange with the provider, and nothing secret: safe to paste into a bug report."""

from __future__ import annotations

import asyncio
import json
import re

import pytest

from loopauth.calls import revoke
from loopauth.http import Request, Response
from loopauth.models import Credentials
from loopauth.store import CredentialStore
from loopauth.trace import BODY_LIMIT, REDACTED, Tracer

from .conftest import CliAsync, browser_env, demo_login_args, run_cli_async
from .demo_probes import DemoProvider
from .test_tools import _logged_in, _login


def _secrets(demo: DemoProvider) -> set[str]:
    """Everything that must never be printed: the consumer secret, each token, token secret and verifier."""
    stored = {
        value
        for creds in (e.credentials for e in CredentialStore().profiles())
        if isinstance(creds, Credentials)
        for value in (creds.consumer_secret, creds.oauth_token, creds.oauth_token_secret)
    }
    return {demo.consumer_secret, *demo.issued_secrets, *stored}


def assert_no_secret(text: str, demo: DemoProvider) -> None:
    for secret in _secrets(demo):
        assert secret not in text


async def test_login_verbose_traces_both_token_calls_without_a_secret(demo: DemoProvider) -> None:
    """login -v: method, URL, status and time of the request-token and access-token calls; the token answers
    (which carry oauth_token_secret) are redacted, and so is the Authorization header's every value."""
    result = await run_cli_async(*demo_login_args(demo, "-v"), env=browser_env())
    assert result.returncode == 0, result.stderr
    trace = result.stderr
    assert f"> POST {demo.provider.request_token_url}" in trace
    assert f"> POST {demo.provider.access_token_url}" in trace
    assert len(re.findall(r"^< HTTP/1\.1 200 OK in \d+ ms$", trace, re.MULTILINE)) == 2
    assert re.search(r"^> Authorization: OAuth .*oauth_callback.*oauth_signature", trace, re.MULTILINE)
    assert "oauth_verifier" in trace  # the parameter's name, never its value
    assert f"< oauth_token={REDACTED}&oauth_token_secret={REDACTED}&oauth_callback_confirmed=true" in trace
    assert "screen_name=loopauth_demo" in trace
    assert len(demo.issued_secrets) >= 5
    # The status lines print the authorize URL, request token included (by design: useless without its secret);
    # the trace itself shows no token at all.
    traced = "\n".join(line for line in trace.splitlines() if line.startswith(("> ", "< ")))
    assert_no_secret(traced, demo)


@pytest.mark.parametrize("method", ["HMAC-SHA1", "PLAINTEXT"])
async def test_verify_request_and_header_verbose_show_no_secret(
    cli_async: CliAsync, demo: DemoProvider, method: str
) -> None:
    """verify/request/header -v, including PLAINTEXT, whose signature *is* the two secrets."""
    await _login(demo, "--signature-method", method)
    verify = await cli_async("verify", "-v")
    request = await cli_async("request", "-v", "-d", "status=hello", demo.echo_url + "?q=1")
    header = await cli_async("header", "-v", "GET", demo.echo_url)
    for result in (verify, request, header):
        assert result.returncode == 0, result.stderr
        assert "> Authorization: OAuth " in result.stderr
        assert f"oauth_signature_method={method}" in result.stderr
        assert_no_secret(result.stderr, demo)
    assert f"> GET {demo.provider.verify_url}" in verify.stderr
    assert '"screen_name": "loopauth_demo"' in verify.stderr
    assert f"> POST {demo.echo_url}?q=1" in request.stderr
    assert "> status=hello" in request.stderr
    assert "< HTTP/1.1 200 OK in" in request.stderr
    assert header.stdout.startswith("Authorization: OAuth ")  # what was asked for, secrets and all
    assert "< " not in header.stderr  # header sends nothing


async def test_the_revoke_answer_and_a_long_body_are_redacted_and_cut(cli_async: CliAsync, demo: DemoProvider) -> None:
    """Twitter's revoke answer names the access token (redacted); a long response is cut at 2 kB."""
    await _logged_in(demo)
    long = await cli_async("request", "-v", f"{demo.echo_url}?q={'x' * 3000}")
    assert long.returncode == 0, long.stderr
    assert f"(cut at {BODY_LIMIT:,} characters;" in long.stderr
    lines: list[str] = []
    await asyncio.to_thread(revoke, CredentialStore().load("default"), trace=Tracer(lines.append))
    trace = "\n".join(lines)
    assert f'< {{"access_token": "{REDACTED}"}}' in trace
    assert_no_secret(trace, demo)


async def test_an_unanswered_call_is_traced_with_its_reason(cli_async: CliAsync, demo: DemoProvider) -> None:
    """A provider that cannot be reached: the trace still shows the request and why there was no answer."""
    await _logged_in(demo)
    await demo.close()
    result = await cli_async("verify", "-v")
    assert result.returncode == 5
    unreachable = r"^< no answer in \d+ ms: cannot reach http://127\.0\.0\.1:\d+/\S*: connection refused$"
    assert re.search(unreachable, result.stderr, re.M)


def _response(body: bytes, content_type: str, *headers: tuple[str, str]) -> Response:
    return Response(200, "OK", "HTTP/1.1", (("Content-Type", content_type), *headers), body)


def test_tracer_redacts_by_name_whatever_the_content_type_and_remembers_what_it_redacted() -> None:
    """Token answers sent as text/html, JSON secrets at any depth, Location queries, cookies: all redacted, and a
    value once redacted is redacted wherever it shows up again; a provider's error code stays readable."""
    lines: list[str] = []
    tracer = Tracer(lines.append, secrets=["consumer-secret-value"])
    request = Request(
        "POST",
        "https://api.example.com/oauth/access_token?oauth_verifier=v3r1f13r&x=1",
        {"Authorization": 'OAuth oauth_consumer_key="ck-value", oauth_signature="sig%26value"', "Cookie": "a=b"},
        b"password=hunter22&user=me",
    )
    answer = _response(
        b"oauth_token=tok-12345&oauth_token_secret=sec-67890&user_id=42",
        "text/html",
        ("Set-Cookie", "session=abcdef"),
        ("Location", "https://app.example/cb?oauth_token=tok-12345&state=ok"),
    )
    tracer(request, answer, 0.012, None)
    tracer(
        request,
        _response(
            json.dumps(
                {
                    "errors": [{"code": 89, "message": "Invalid or expired token tok-12345"}],
                    "auth": {"refresh_token": "r"},
                }
            ).encode(),
            "application/json",
        ),
        0.001,
        None,
    )
    text = "\n".join(lines)
    for secret in ("v3r1f13r", "ck-value", "sig%26value", "hunter22", "tok-12345", "sec-67890", "abcdef", "a=b"):
        assert secret not in text
    assert "> Authorization: OAuth oauth_consumer_key, oauth_signature" in text
    assert "x=1" in text
    assert "user=me" in text
    assert "user_id=42" in text
    assert "state=ok" in text
    assert '"code": 89' in text
    assert f"Invalid or expired token {REDACTED}" in text
    assert '"refresh_token": "r"' not in text


def test_binary_and_multipart_bodies_are_summarised() -> None:
    """Bytes that are not text, and uploads, are described by size and type, never dumped."""
    lines: list[str] = []
    tracer = Tracer(lines.append)
    upload = Request("POST", "https://x.example/u", {"Content-Type": "multipart/form-data; boundary=b"}, b"--b\r\n...")
    tracer(upload, _response(bytes(range(256)), "image/png"), 0.0, None)
    assert "> (8 bytes of multipart/form-data, not shown)" in lines[0]
    assert "< (256 bytes of image/png, not shown)" in lines[0]
