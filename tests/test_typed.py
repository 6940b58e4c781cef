"""A person's typo is worth a second chance: a rejected PIN or pasted verifier asks again (at most 3 tries).

Only a verifier that came from a person (typed after ``--oob``, pasted at the ``Address:`` prompt)
is retried; a rejection of the automatic callback still ends the login.
"""

from __future__ import annotations

import re

from loopauth.demo import play_user

from .conftest import browser_env, demo_login_args, run_cli_async
from .demo_probes import DemoProvider, Failure
from .test_headless import URL_PATTERN, StartLogin, approve_on_demo, assert_logged_in, login, verifier_of

__all__ = ["login"]  # the fixture, imported for pytest


async def _pin(authorize: str) -> str:
    page = await play_user(authorize)
    found = re.search(r'role="status">(\d{7})<', page)
    assert found, page
    return found[1]


def _wrong(pin: str) -> str:
    return f"{(int(pin) + 1) % 10**7:07d}"


async def test_wrong_pin_then_the_right_one_logs_in(demo: DemoProvider, login: StartLogin) -> None:
    """--oob: a mistyped PIN says the PIN was rejected and asks again; the right one then logs in."""
    child = await login(*demo_login_args(demo, "--oob", "--no-browser"))
    authorize = (await child.expect(r"Open this URL in a browser to log in: " + URL_PATTERN))[1]
    await child.expect(r"shows a PIN: type it here")
    pin = await _pin(authorize)
    await child.paste(_wrong(pin))
    line = await child.expect(r"rejected")
    assert "PIN" in line.string
    assert "2 tries left" in line.string
    await child.paste(pin)
    result = await child.finish()
    assert_logged_in(result, secret=pin)
    assert _wrong(pin) not in result.stderr
    assert "consumer key" not in result.stderr
    assert demo.calls["access_token"] == 2


async def test_three_wrong_pins_end_the_login_saying_the_pin_was_rejected(
    demo: DemoProvider, login: StartLogin
) -> None:
    """Three rejected PINs: exit 5, and the last line says the PIN was rejected, not "check the consumer key"."""
    child = await login(*demo_login_args(demo, "--oob", "--no-browser"))
    authorize = (await child.expect(r"Open this URL in a browser to log in: " + URL_PATTERN))[1]
    pin = await _pin(authorize)
    wrong = [f"{(int(pin) + n) % 10**7:07d}" for n in (1, 2, 3)]
    await child.paste(wrong[0])
    await child.expect(r"2 tries left")
    await child.paste(wrong[1])
    await child.expect(r"1 try left")
    await child.paste(wrong[2])
    result = await child.finish()
    assert result.returncode == 5, result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("loopauth: error:")
    assert "PIN" in last
    assert "rejected" in last
    assert "consumer key" not in result.stderr
    for value in wrong:
        assert value not in result.stderr
    assert demo.calls["access_token"] == 3


async def test_garbage_address_then_the_real_one_logs_in(demo: DemoProvider, login: StartLogin) -> None:
    """At the Address: prompt, a verifier the provider rejects asks again; the real address then logs in."""
    child = await login(*demo_login_args(demo, "--callback-url", "https://localhost/", "--no-browser"))
    authorize = (await child.expect(r"Open this URL in a browser to log in: " + URL_PATTERN))[1]
    await child.expect(r"paste it here, press Enter")
    landed = await approve_on_demo(authorize)
    await child.paste(landed.replace(verifier_of(landed), "not-the-verifier"))
    line = await child.expect(r"rejected")
    assert "verifier" in line.string
    await child.paste(landed)
    result = await child.finish()
    assert_logged_in(result, secret=verifier_of(landed))
    assert "consumer key" not in result.stderr


async def test_a_rejected_automatic_callback_ends_the_login_at_once(demo: DemoProvider) -> None:
    """The browser's own callback is no typo: one refused exchange ends the login with exit 5 and the key hint."""
    demo.failures["access_token"] = Failure(
        401, '{"errors":[{"code":32,"message":"Could not authenticate you."}]}', "application/json"
    )
    result = await run_cli_async(*demo_login_args(demo), env=browser_env())
    assert result.returncode == 5
    # The fake browser, sharing stderr, may print the failure page after loopauth's line.
    error = next(line for line in result.stderr.splitlines() if line.startswith("loopauth: error:"))
    assert "check the consumer key" in error
    assert "rejected that" not in result.stderr
    assert demo.calls["access_token"] == 1
