"""OAuth 1.0a's pure parts: signatures, token responses, callbacks, pasted text, hints."""

from __future__ import annotations

import logging
from urllib.parse import parse_qsl, urlsplit

import pytest

from loopauth.errors import ProviderError, UsageError
from loopauth.http import Request
from loopauth.loopback.dance import Approved, Denied, Rejected, parse_pasted
from loopauth.models import Provider
from loopauth.oauth1 import signing
from loopauth.oauth1.messages import (
    authorize_url,
    hint_for,
    match_callback,
    parse_token_response,
    user_id_from_token,
)
from loopauth.oauth1.signing import Consumer
from loopauth.text import provider_message
from loopauth.urls import check_endpoint


def sign(
    method: str,
    url: str,
    *,
    consumer_key: str,
    consumer_secret: str,
    signature_method: str = "HMAC-SHA1",
    **kwargs: object,
) -> Request:
    """signing.sign with the consumer spelled out, as these golden tests have it."""
    return signing.sign(method, url, Consumer(consumer_key, consumer_secret, signature_method), **kwargs)  # type: ignore[arg-type]


def _auth_params(header: str) -> dict[str, str]:
    assert header.startswith("OAuth ")
    out = {}
    for part in header[len("OAuth ") :].split(", "):
        key, _, value = part.partition("=")
        out[key] = value.strip('"')
    return out


def test_hmac_sha1_signature_matches_twitters_documented_example() -> None:
    """Twitter's "Creating a signature" example (a POST with a query and a form body) signs to its published value."""
    signed = sign(
        "POST",
        "https://api.twitter.com/1.1/statuses/update.json?include_entities=true",
        consumer_key="xvz1evFS4wEEPTGEFPHBog",
        consumer_secret="kAcSOqF21Fu85e7zjz7ZN2U4ZRhfV3WpwPAoE3Z7kBw",
        token="370773112-GmHxMAgYyLbNEtIKZeRNFsMKPR9EyMZeS9weJAEb",
        token_secret="LswwdoUaIvS8ltyTt5jkRh4J50vUPVVHtR2YPi5kE",
        form=[("status", "Hello Ladies + Gentlemen, a signed OAuth request!")],
        nonce="kYjzVBB8Y0ZFabxSWbWovY3uYSQ2pTgmZeNu2VS4cg",
        timestamp="1318622958",
    )
    params = _auth_params(signed.headers["Authorization"])
    assert params["oauth_signature"] == "hCtSmYh%2BiHYCEqBWrE7C7hYmtUk%3D"
    assert params["oauth_signature_method"] == "HMAC-SHA1"
    assert signed.body == b"status=Hello%20Ladies%20%2B%20Gentlemen%2C%20a%20signed%20OAuth%20request%21"


def test_plaintext_signature_is_the_two_secrets_joined() -> None:
    """PLAINTEXT (§3.4.4) is the encoded consumer secret and token secret joined by '&'."""
    signed = sign(
        "POST",
        "https://photos.example.net/initiate",
        consumer_key="dpf43f3p2l4k3l03",
        consumer_secret="kd94hf93k423kf44",
        callback="http://printer.example.com/ready",
        signature_method="PLAINTEXT",
    )
    params = _auth_params(signed.headers["Authorization"])
    assert params["oauth_signature"] == "kd94hf93k423kf44%26"
    assert params["oauth_callback"] == "http%3A%2F%2Fprinter.example.com%2Fready"


def test_plaintext_refused_over_plain_http_off_loopback() -> None:
    """PLAINTEXT would send the secrets in the clear: refused unless https or loopback."""
    with pytest.raises(UsageError, match="PLAINTEXT"):
        sign("POST", "http://example.com/x", consumer_key="k", consumer_secret="s", signature_method="PLAINTEXT")
    sign("POST", "http://127.0.0.1:1/x", consumer_key="k", consumer_secret="s", signature_method="PLAINTEXT")


def test_form_parameters_go_in_a_form_body() -> None:
    """Form parameters are encoded in the body with the form Content-Type."""
    signed = sign(
        "POST",
        "https://api.example.com/x",
        consumer_key="k",
        consumer_secret="s",
        form=[("status", "a & b = c + 100% é")],
    )
    assert signed.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert signed.body is not None
    assert dict(parse_qsl(signed.body.decode())) == {"status": "a & b = c + 100% é"}


def test_get_with_form_parameters_is_a_usage_error() -> None:
    """A GET carries no body; asking for one is a usage error, not a silent drop."""
    with pytest.raises(UsageError):
        sign("GET", "https://api.example.com/x", consumer_key="k", consumer_secret="s", form=[("a", "b")])


def test_request_token_response_needs_callback_confirmed() -> None:
    """A request token without oauth_callback_confirmed=true is refused (RFC 5849 §2.1)."""
    ok = "oauth_token=t&oauth_token_secret=s&oauth_callback_confirmed=true"
    assert parse_token_response(200, "text/plain", ok, step="x", require_callback_confirmed=True)["oauth_token"] == "t"
    capitalised = ok.replace("true", "True")
    assert parse_token_response(200, "", capitalised, step="x", require_callback_confirmed=True)
    for body in ("oauth_token=t&oauth_token_secret=s", ok.replace("true", "false")):
        with pytest.raises(ProviderError, match="did not confirm the callback"):
            parse_token_response(200, "", body, step="x", require_callback_confirmed=True)


def test_access_token_response_is_parsed() -> None:
    """user_id and screen_name come through with the token pair."""
    body = "oauth_token=1-abc&oauth_token_secret=s&user_id=1&screen_name=jack"
    fields = parse_token_response(200, "text/html", body, step="access token")
    assert fields == {"oauth_token": "1-abc", "oauth_token_secret": "s", "user_id": "1", "screen_name": "jack"}


@pytest.mark.parametrize(
    ("status", "ctype", "body", "expected"),
    [
        (
            401,
            "application/json",
            '{"errors":[{"code":32,"message":"Could not authenticate you."}]}',
            "401: Could not authenticate you. (code 32)",
        ),
        (
            500,
            "text/html",
            "<html><head><title>Over capacity</title></head><body>x</body></html>",
            "500: Over capacity",
        ),
        (
            403,
            "application/xml",
            "<?xml version='1.0'?><hash><error>Callback not approved</error></hash>",
            "403: Callback not approved",
        ),
        (400, "text/plain", "oauth_problem=signature_invalid", "400: oauth_problem=signature_invalid"),
        (503, "text/plain", "", "503: (empty body)"),
        (200, "text/plain", "hello", "without oauth_token"),
    ],
)
def test_provider_errors_carry_status_and_the_providers_words(
    status: int, ctype: str, body: str, expected: str
) -> None:
    """4xx/5xx, HTML, XML, JSON and bodies without tokens become one ProviderError line."""
    with pytest.raises(ProviderError) as info:
        parse_token_response(status, ctype, body, step="request token")
    assert expected in str(info.value)
    assert "\n" not in str(info.value)
    assert info.value.status == status


def test_provider_message_is_one_short_escaped_line() -> None:
    """Control characters are flattened and long messages truncated."""
    message = provider_message("text/plain", "line one\r\n\x1b[31mred\x1b[0m " + "x" * 500)
    assert "\n" not in message
    assert "\x1b" not in message
    assert len(message) <= 200


def test_hints_for_callback_not_approved_and_bad_signature() -> None:
    """Code 415 names the callback to register; a 401 mentions keys and clock."""
    err = ProviderError("x", status=403, body='{"errors":[{"code":415,"message":"Callback URL not approved"}]}')
    assert "http://127.0.0.1:8470/callback" in hint_for(err, callback="http://127.0.0.1:8470/callback")
    assert "clock" in hint_for(ProviderError("x", status=401, body=""), callback=None)


def test_callback_with_our_token_and_verifier_is_verified() -> None:
    """Only our token with a verifier completes the login."""
    assert match_callback({"oauth_token": "tok", "oauth_verifier": "v"}, "tok") == Approved("v")


@pytest.mark.parametrize(
    "params",
    [
        {"oauth_token": "other", "oauth_verifier": "v"},
        {"oauth_token": "tok"},
        {"oauth_token": "tok", "oauth_verifier": ""},
        {"denied": "other"},
        {},
        {"oauth_verifier": "v"},
    ],
)
def test_other_callbacks_are_rejected(params: dict[str, str]) -> None:
    """Foreign tokens, missing verifiers and other logins' denials don't count."""
    assert isinstance(match_callback(params, "tok"), Rejected)


def test_denied_for_our_token_is_a_denial() -> None:
    """Twitter's denied=<our token> ends the login as denied."""
    assert match_callback({"denied": "tok"}, "tok") == Denied()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("https://localhost/?oauth_token=t&oauth_verifier=v", {"oauth_token": "t", "oauth_verifier": "v"}),
        (
            "  'http://127.0.0.1:8470/callback?oauth_token=t&oauth_verifier=v'\n",
            {"oauth_token": "t", "oauth_verifier": "v"},
        ),
        ("oauth_token=t&oauth_verifier=v", {"oauth_token": "t", "oauth_verifier": "v"}),
        ("1234567", "1234567"),
        ("dGVzdA==", "dGVzdA=="),
        ("yes I clicked it", None),
        ("", None),
    ],
)
def test_pasted_urls_query_strings_and_bare_verifiers(text: str, expected: dict[str, str] | str | None) -> None:
    """Whatever the user pastes is read the way they meant it."""
    assert parse_pasted(text) == expected


def test_authorize_url_keeps_provider_query_and_adds_extras() -> None:
    """Preset and extra authorize parameters are added, oauth_token last."""
    p = Provider(
        "p", "https://e.com/rt", "https://e.com/auth?x=1", "https://e.com/at", authorize_params={"perms": "read"}
    )
    url = authorize_url(p, "tok", {"force_login": "true"})
    parts = urlsplit(url)
    assert parts.netloc == "e.com"
    assert parts.path == "/auth"
    assert parse_qsl(parts.query) == [("x", "1"), ("perms", "read"), ("force_login", "true"), ("oauth_token", "tok")]


@pytest.mark.parametrize("url", ["http://example.com/x", "ftp://127.0.0.1/x", "javascript:alert(1)", "https://"])
def test_unsafe_endpoints_are_usage_errors(url: str) -> None:
    """Plain http off loopback and non-web schemes are refused."""
    with pytest.raises(UsageError):
        check_endpoint(url, "request_token_url")


def test_loopback_http_endpoints_are_allowed() -> None:
    """Plain http to loopback is for tests and the demo."""
    for url in ("http://127.0.0.1:9/x", "http://[::1]:9/x", "http://localhost:9/x", "https://example.com/x"):
        assert check_endpoint(url, "u") == url


def test_user_id_is_the_access_token_prefix() -> None:
    """Twitter's user id is the part of the access token before the first '-'."""
    assert user_id_from_token("12345-abcdef") == "12345"
    assert user_id_from_token("abcdef") is None


def test_signing_logs_no_secret_even_at_debug(caplog: pytest.LogCaptureFixture) -> None:
    """oauthlib's DEBUG records of the signed parameters (token, verifier) are dropped."""
    caplog.set_level(logging.DEBUG)
    sign("POST", "https://e.com/at", consumer_key="ck", consumer_secret="consumer-secret-xyz", token="token-xyz",
         token_secret="token-secret-xyz", verifier="verifier-xyz")  # fmt: skip
    for secret in ("token-xyz", "verifier-xyz"):
        assert secret not in caplog.text
