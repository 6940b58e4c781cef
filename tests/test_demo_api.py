"""What the demo provider offers for the README's examples: sign in with Twitter, Twitter's JSON errors and
API endpoints, a registered-callback mode that answers 415, and https with a throwaway certificate."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import aiohttp

from loopauth.loopback.tls import self_signed

from .conftest import CliAsync, browser_env, demo_login_args, run_cli_async
from .demo_probes import DemoProvider
from .test_tools import _logged_in


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def test_authenticate_asks_once_then_lets_an_approved_app_through(demo: DemoProvider) -> None:
    """/oauth/authenticate shows the consent page the first time; once approved, the next login goes straight
    back to the callback (the fake browser finds no page to click, and the login still completes)."""
    args = demo_login_args(demo)
    args[args.index("--authorize-url") + 1] = demo.authenticate_url
    first = await run_cli_async(*args, env=browser_env())
    assert first.returncode == 0, first.stderr
    assert demo.calls["authorize_decision"] == 1
    second = await run_cli_async(*args, env=browser_env())
    assert second.returncode == 0, second.stderr
    assert demo.calls["authenticate"] == 2
    assert demo.calls["authorize_decision"] == 1  # nobody was asked the second time


async def test_errors_come_in_twitters_json_shape(cli_async: CliAsync, demo: DemoProvider) -> None:
    """Unknown paths and methods, a bad signature, a missing parameter: {"errors":[{"code":…,"message":…}]}."""
    await _logged_in(demo)
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{demo.base_url}/1.1/nothing/here.json") as response:
            assert response.status == 404
            assert (await response.json())["errors"][0]["code"] == 34
        async with session.delete(demo.provider.verify_url or "") as response:
            assert response.status == 405
            assert (await response.json())["errors"][0]["code"] == 405
        async with session.get(demo.provider.verify_url or "") as response:
            assert response.status == 401
            assert (await response.json())["errors"][0] == {"code": 32, "message": "Could not authenticate you."}
    missing = await cli_async("request", "-X", "POST", f"{demo.base_url}/1.1/statuses/update.json")
    assert missing.returncode == 5
    assert "Missing required parameter: status. (code 170)" in missing.stderr


async def test_readme_api_examples_answer_like_twitter(cli_async: CliAsync, demo: DemoProvider) -> None:
    """users/show, statuses/update (a signed form), DELETE /2/tweets/ID and /2/users/me answer as on Twitter."""
    await _logged_in(demo)
    show = await cli_async("request", f"{demo.base_url}/1.1/users/show.json?screen_name=jack")
    assert json.loads(show.stdout)["screen_name"] == "jack"
    update = await cli_async(
        "request", "-d", "status=a & b = c + 100% é 😀", f"{demo.base_url}/1.1/statuses/update.json"
    )
    posted = json.loads(update.stdout)
    assert posted["text"] == "a & b = c + 100% é 😀"
    delete = await cli_async(
        "request",
        "-i",
        "-X",
        "DELETE",
        "-H",
        "Accept: application/json",
        f"{demo.base_url}/2/tweets/{posted['id_str']}",
    )
    assert delete.returncode == 0, delete.stderr
    assert json.loads(delete.stdout) == {"data": {"deleted": True}}
    assert delete.stderr.startswith("HTTP/1.1 200 OK")
    me = await cli_async("request", f"{demo.base_url}/2/users/me")
    assert json.loads(me.stdout)["data"]["username"] == "loopauth_demo"


async def test_registered_callback_mode_answers_415_and_the_cli_says_what_to_register() -> None:
    """With a registered callback, any other callback gets 403 / error 415, and the login names the URL to
    register; the registered one logs in."""
    port = _free_port()
    registered = f"http://127.0.0.1:{port}/callback"
    async with DemoProvider(registered_callback=registered) as demo:
        refused = await run_cli_async(*demo_login_args(demo), env=browser_env())
        assert refused.returncode == 5
        # The fake browser, sharing stderr, may print the failure page after loopauth's line.
        error = next(line for line in refused.stderr.splitlines() if line.startswith("loopauth: error:"))
        assert "403" in error
        assert "Callback URL not approved for this client application" in error
        assert "(code 415)" in error
        assert "register this exact callback URL in the app's settings: http://127.0.0.1:" in error
        assert registered not in error  # the URL to register is the one that was sent, not the demo's
        accepted = await run_cli_async(*demo_login_args(demo, "--callback-url", registered), env=browser_env())
        assert accepted.returncode == 0, accepted.stderr


async def test_https_demo_with_a_throwaway_certificate(tmp_path: Path) -> None:
    """The demo serves https; loopauth trusts its certificate through SSL_CERT_FILE, and not without it."""
    server, pem = self_signed()
    certificate = tmp_path / "demo.pem"
    certificate.write_bytes(pem)
    async with DemoProvider(ssl_context=server) as demo:
        assert demo.base_url.startswith("https://127.0.0.1:")
        trusted = {**browser_env(), "SSL_CERT_FILE": str(certificate)}
        untrusted = await run_cli_async(*demo_login_args(demo, "--no-browser", "--timeout", "5"))
        assert untrusted.returncode == 5
        assert "TLS certificate is not trusted" in untrusted.stderr
        login = await run_cli_async(*demo_login_args(demo), env=trusted)
        assert login.returncode == 0, login.stderr
        verify = await run_cli_async(
            "request", f"{demo.base_url}/1.1/account/verify_credentials.json", env={"SSL_CERT_FILE": str(certificate)}
        )
        assert verify.returncode == 0, verify.stderr
