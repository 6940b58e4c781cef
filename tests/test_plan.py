"""Where the callback goes (pure): which callbacks we serve, which are pasted, which cannot work."""

from __future__ import annotations

import re

import pytest

from loopauth.errors import UsageError
from loopauth.loopback.plan import CallbackPlan, plan_callback


def _plan(url: str | None, *, oob: bool = False, tls: bool = False) -> CallbackPlan:
    return plan_callback(url, oob=oob, host="127.0.0.1", port=8470, path="/callback", tls=tls)


@pytest.mark.parametrize(
    ("url", "tls", "served", "sent", "port"),
    [
        (None, False, True, None, 8470),
        ("http://127.0.0.1:9000/cb", False, True, "http://127.0.0.1:9000/cb", 9000),
        ("http://127.0.0.1/cb", False, True, "http://127.0.0.1/cb", 80),
        ("https://localhost/", True, True, "https://localhost/", 443),
        ("http://localhost:0/cb", False, True, None, 0),
        ("https://localhost/", False, False, "https://localhost/", None),
        ("https://app.example.com/callback", False, False, "https://app.example.com/callback", None),
        ("oob", False, False, "oob", None),
    ],
)
def test_callback_plan_serves_only_loopback_it_can_speak(
    url: str | None, tls: bool, served: bool, sent: str | None, port: int | None
) -> None:
    """Loopback http(s) is served (https only with a certificate); anything else is sent as written and pasted."""
    plan = _plan(url, tls=tls)
    assert plan.serve is served
    assert plan.url == sent
    if served:
        assert plan.port == port
    else:
        assert plan.why_not


def test_callback_plan_keeps_the_host_and_path_as_written() -> None:
    """localhost stays localhost (both families are bound), ::1 is unbracketed for binding, / stays /."""
    assert (_plan("http://LOCALHOST:1234/").host, _plan("http://localhost:1234/").path) == ("localhost", "/")
    assert _plan("http://[::1]:1234/cb?x=1").host == "::1"
    assert _plan("http://[::1]:1234/cb?x=1").query == "x=1"


@pytest.mark.parametrize(
    ("url", "tls", "oob", "message"),
    [
        ("ftp://127.0.0.1/cb", False, False, "http(s) URL or 'oob'"),
        ("http://127.0.0.1:99999/cb", False, False, "invalid port"),
        ("http://127.0.0.1:9000/cb#x", False, False, "fragment"),
        ("http://127.0.0.1:9000/cb", True, False, "make it https"),
        (None, True, True, "TLS does not apply"),
    ],
)
def test_callback_plan_refuses_what_cannot_work(url: str | None, tls: bool, oob: bool, message: str) -> None:
    """Impossible combinations are usage errors before anything starts."""
    with pytest.raises(UsageError, match=re.escape(message)):
        _plan(url, tls=tls, oob=oob)
