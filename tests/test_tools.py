"""The tools around a stored login: header, request, verify, logout --revoke, providers, signature methods.

Every command runs as a subprocess against the in-process demo provider, whose
ResourceEndpoint really verifies each signature.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from loopauth.demo import DEMO_SCREEN_NAME, DEMO_USER_ID
from loopauth.models import Credentials
from loopauth.oauth1.signing import FORM_CONTENT_TYPE, form_encode
from loopauth.store import CredentialStore

from .conftest import Cli, CliAsync, browser_env, demo_login_args, run_cli, run_cli_async
from .demo_probes import DemoProvider, Failure
from .threaded_demos import log_in_oauth1

RESERVED = "a & b = c + 100% é 😀"


async def _login(demo: DemoProvider, *extra: str, endpoints: bool = True) -> dict[str, str]:
    """Log in to the demo through the fake browser; the stored profile as `token --json` shows it."""
    p = demo.provider
    more = ["--verify-url", str(p.verify_url), "--revoke-url", str(p.revoke_url)] if endpoints else []
    result = await run_cli_async(*demo_login_args(demo, *more, *extra), env=browser_env())
    assert result.returncode == 0, result.stderr
    profile = extra[extra.index("--profile") + 1] if "--profile" in extra else "default"
    token = await run_cli_async("token", "--profile", profile, "--json")
    data: dict[str, str] = json.loads(token.stdout)
    return data


async def _logged_in(demo: DemoProvider) -> dict[str, Any]:
    """The profile 'default', logged in to the demo by the library's own flow (no process, no browser), as
    `token --json` shows it: for tests of what comes after a login, which `_login` and the login tests cover."""
    creds = await asyncio.to_thread(log_in_oauth1, demo)
    return creds.token_dict()


def _replace_key_options(args: list[str], key: str, secret: str | None) -> list[str]:
    args[args.index("--consumer-key") + 1] = key
    at = args.index("--consumer-secret")
    if secret is None:
        del args[at : at + 2]
    else:
        args[at + 1] = secret
    return args


# -- request -----------------------------------------------------------------------------------------------------


async def test_request_posts_reserved_and_non_ascii_form_values_exactly(
    cli_async: CliAsync, demo: DemoProvider
) -> None:
    """`request -d` sends reserved and non-ASCII characters signed; the echo returns them unchanged."""
    await _logged_in(demo)
    url = demo.echo_url + "?q=%C3%A9+x&amp=%26%3D"
    result = await cli_async("request", url, "-d", f"text={RESERVED}", "-d", "n=1", "-d", "n=2", "-d", "empty=")
    assert result.returncode == 0, result.stderr
    echoed = json.loads(result.stdout)
    assert echoed["method"] == "POST"  # POST by default with -d, like curl
    assert echoed["form"] == {"text": RESERVED, "n": ["1", "2"], "empty": ""}
    assert echoed["query"] == {"q": "é x", "amp": "&="}
    assert echoed["screen_name"] == DEMO_SCREEN_NAME


async def test_request_signs_a_raw_non_ascii_query(cli_async: CliAsync, demo: DemoProvider) -> None:
    """A URL typed with raw UTF-8 in its query is encoded once, then signed and sent as signed."""
    await _logged_in(demo)
    result = await cli_async("request", "-X", "get", f"{demo.echo_url}?s=é😀&t=a b")
    assert result.returncode == 0, result.stderr
    echoed = json.loads(result.stdout)
    assert echoed["method"] == "GET"
    assert echoed["query"] == {"s": "é😀", "t": "a b"}


async def test_request_prints_the_body_unchanged_and_include_puts_headers_on_stderr(
    cli_async: CliAsync, demo: DemoProvider
) -> None:
    """stdout is the response body byte for byte; -i adds the status line and headers on stderr only."""
    await _logged_in(demo)
    result = await cli_async("request", "-i", "-X", "PUT", "-H", "X-Extra: yes", demo.echo_url, "-d", "k=v")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["method"] == "PUT"
    assert not result.stdout.endswith("\n")  # nothing added to what the provider sent
    assert result.stderr.startswith("HTTP/1.1 200 OK\n")
    assert "Content-Type: application/json" in result.stderr
    assert demo.last_request_headers["echo"]["X-Extra"] == "yes"


async def test_request_non_2xx_prints_the_body_then_exits_5(cli_async: CliAsync, demo: DemoProvider) -> None:
    """A provider error: its body still goes to stdout, then one error line and exit 5."""
    await _logged_in(demo)
    demo.failures["echo"] = Failure(503, '{"errors":[{"code":130,"message":"Over capacity"}]}', "application/json")
    result = await cli_async("request", demo.echo_url)
    assert result.returncode == 5
    assert result.stdout == '{"errors":[{"code":130,"message":"Over capacity"}]}'
    assert result.stderr.count("\n") == 1
    assert "503" in result.stderr
    assert "Over capacity (code 130)" in result.stderr


# -- header ------------------------------------------------------------------------------------------------------


async def test_header_output_authorizes_a_real_request(cli_async: CliAsync, demo: DemoProvider) -> None:
    """The printed Authorization header, sent by another client, is accepted; changing the form breaks it."""
    await _logged_in(demo)
    url = demo.echo_url + "?x=1"
    get = await cli_async("header", "GET", url)
    post = await cli_async("header", "POST", url, "-d", f"text={RESERVED}")
    tampered = await cli_async("header", "POST", url, "-d", f"text={RESERVED}")
    for result in (get, post, tampered):
        assert result.returncode == 0, result.stderr
        assert result.stdout.startswith("Authorization: OAuth ")
        assert result.stdout.count("\n") == 1
    value = get.stdout.strip().split(": ", 1)[1]
    form_headers = {"Content-Type": FORM_CONTENT_TYPE}
    async with aiohttp.ClientSession() as session:
        async with session.get(url, headers={"Authorization": value}) as response:
            assert response.status == 200
            assert (await response.json())["query"] == {"x": "1"}
        signed = post.stdout.strip().split(": ", 1)[1]
        body = form_encode([("text", RESERVED)])
        async with session.post(url, data=body, headers={**form_headers, "Authorization": signed}) as response:
            assert response.status == 200
            assert (await response.json())["form"] == {"text": RESERVED}
        changed = tampered.stdout.strip().split(": ", 1)[1]
        other = form_encode([("text", RESERVED + "!")])
        async with session.post(url, data=other, headers={**form_headers, "Authorization": changed}) as response:
            assert response.status == 401


# -- verify and logout --revoke ----------------------------------------------------------------------------------


async def test_verify_prints_who_you_are(cli_async: CliAsync, demo: DemoProvider) -> None:
    """verify asks the provider and prints the account in one line; --json carries the provider's answer."""
    await _logged_in(demo)
    result = await cli_async("verify")
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"@{DEMO_SCREEN_NAME} (user id {DEMO_USER_ID}) on demo: profile 'default' is valid\n"
    assert demo.calls["verify"] == 1
    as_json = await cli_async("verify", "--json")
    data = json.loads(as_json.stdout)
    assert data["screen_name"] == DEMO_SCREEN_NAME
    assert data["user_id"] == DEMO_USER_ID
    assert data["response"]["id_str"] == DEMO_USER_ID


async def test_logout_revoke_invalidates_the_token_at_the_provider(cli_async: CliAsync, demo: DemoProvider) -> None:
    """logout --revoke revokes then deletes; the same token, put back, no longer verifies (exit 5)."""
    creds = await _logged_in(demo)
    result = await cli_async("logout", "--revoke")
    assert result.returncode == 0, result.stderr
    assert "Revoked" in result.stderr
    assert creds["oauth_token"] in demo.revoked_access_tokens
    assert (await cli_async("token")).returncode == 7
    CredentialStore().save(Credentials.from_dict(creds))  # the old token, as a copy would still have it
    verify = await cli_async("verify")
    assert verify.returncode == 5
    assert "Could not authenticate you. (code 32)" in verify.stderr
    assert verify.stderr.count("\n") == 1


async def test_failed_revoke_keeps_the_profile_unless_forced(cli_async: CliAsync, demo: DemoProvider) -> None:
    """A revoke the provider refuses keeps the profile (exit 5); --force deletes it anyway with a warning."""
    await _logged_in(demo)
    demo.failures["revoke"] = Failure(500, "internal error", "text/plain")
    kept = await cli_async("logout", "--revoke")
    assert kept.returncode == 5
    assert "kept profile 'default'" in kept.stderr
    assert (await cli_async("token")).returncode == 0
    forced = await cli_async("logout", "--revoke", "--force")
    assert forced.returncode == 0, forced.stderr
    assert "warning" in forced.stderr
    assert (await cli_async("token")).returncode == 7


async def test_revoke_and_verify_without_endpoints_are_usage_errors(cli_async: CliAsync, demo: DemoProvider) -> None:
    """A provider without verify/revoke endpoints: exit 2, one line, and the profile stays."""
    await _login(demo, endpoints=False)
    for args in (("logout", "--revoke"), ("verify",)):
        result = await run_cli_async(*args)
        assert result.returncode == 2, result.stderr
        assert result.stderr.count("\n") == 1
    assert (await cli_async("token")).returncode == 0
    assert run_cli("logout", "--force").returncode == 2


# -- providers and providers.toml --------------------------------------------------------------------------------


def _write_providers(config_dir: Path, text: str) -> Path:
    config_dir.mkdir(parents=True, exist_ok=True)
    path = config_dir / "providers.toml"
    path.write_text(text, encoding="utf-8")
    return path


def _demo_table(demo: DemoProvider, name: str = "mine", extra: str = "") -> str:
    p = demo.provider
    return (
        f"[{name}]\n"
        f'request_token_url = "{p.request_token_url}"\n'
        f'authorize_url = "{p.authorize_url}"\n'
        f'access_token_url = "{p.access_token_url}"\n'
        f'verify_url = "{p.verify_url}"\n'
        f'revoke_url = "{p.revoke_url}"\n'
        f"{extra}"
    )


async def test_provider_from_providers_toml_logs_in_verifies_and_revokes(
    cli_async: CliAsync, demo: DemoProvider, config_dir: Path
) -> None:
    """--provider NAME finds the providers.toml table; its verify and revoke endpoints are used later."""
    _write_providers(
        config_dir, "# my providers\n" + _demo_table(demo, extra='authorize_params = { perms = "read" }\n')
    )
    args = [
        "login",
        "--provider",
        "mine",
        "--consumer-key",
        demo.consumer_key,
        "--consumer-secret",
        demo.consumer_secret,
        "--port",
        "0",
        "--timeout",
        "20",
    ]
    login = await run_cli_async(*args, env=browser_env())
    assert login.returncode == 0, login.stderr
    assert demo.last_request_queries["authorize"]["perms"] == "read"
    verify = await cli_async("verify")
    assert verify.returncode == 0, verify.stderr
    assert verify.stdout.startswith(f"@{DEMO_SCREEN_NAME} ")
    assert "on mine" in verify.stdout
    token = json.loads((await cli_async("token", "--json")).stdout)["oauth_token"]
    logout = await cli_async("logout", "--revoke")
    assert logout.returncode == 0, logout.stderr
    assert demo.revoked_access_tokens == {token}


@pytest.mark.parametrize(
    ("text", "line", "words"),
    [
        ('[mine]\nrequest_token_url = "https://a.example/rt"\nauthorize_url = \n', 3, "malformed TOML"),
        (
            '# comment\n[other]\nrequest_token_url = "https://o.example/rt"\nauthorize_url = "https://o.example/a"\n'
            'access_token_url = "https://o.example/at"\n\n[mine]\n'
            'request_token_url = "https://a.example/rt"\nauthorize_url = "https://a.example/a"\n'
            'access_token_url = "https://a.example/at"\nverfy_url = "https://a.example/v"\n',
            11,
            "unknown field 'verfy_url'",
        ),
        (
            '[mine]\nrequest_token_url = "https://a.example/rt"\nauthorize_url = "https://a.example/a"\n'
            'access_token_url = "http://a.example/at"\n',
            4,
            "must use https",
        ),
    ],
    ids=["syntax", "unknown-field", "plain-http"],
)
@pytest.mark.parametrize("command", [("login", "--provider", "mine", "--consumer-key", "k"), ("providers",)])
def test_bad_providers_toml_exits_2_naming_file_and_line(
    config_dir: Path, text: str, line: int, words: str, command: tuple[str, ...]
) -> None:
    """A malformed providers.toml, or an unknown field, is one line naming the file and the line: exit 2."""
    path = _write_providers(config_dir, text)
    result = run_cli(*command)
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1
    assert f"{path}:{line}: " in result.stderr
    assert words in result.stderr


def test_providers_lists_presets_and_custom_entries(cli: Cli, config_dir: Path) -> None:
    """`providers` shows each preset's endpoints and marks providers.toml entries and overrides."""
    path = _write_providers(
        config_dir,
        '[mine]\nrequest_token_url = "https://m.example/rt"\nauthorize_url = "https://m.example/a"\n'
        'access_token_url = "https://m.example/at"\n\n'
        '[trello]\nrequest_token_url = "https://t.example/rt"\nauthorize_url = "https://t.example/a"\n'
        'access_token_url = "https://t.example/at"\n',
    )
    listed = cli("providers", "--json")
    assert listed.returncode == 0, listed.stderr
    entries = {(e["name"], e["source"]): e for e in json.loads(listed.stdout)}
    twitter = entries[("twitter", "preset")]
    assert twitter["aliases"] == ["x"]
    assert twitter["verify_url"] == "https://api.x.com/1.1/account/verify_credentials.json"
    assert twitter["revoke_url"] == "https://api.x.com/1.1/oauth/invalidate_token"
    assert {name for name, source in entries if source == "preset"} == {
        "twitter",
        "trello",
        "flickr",
        "tumblr",
        "smugmug",
        "discogs",
        "x-oauth2",
        "google",
        "gitlab",
        "spotify",
        "github",
        "microsoft",
    }
    assert entries[("x-oauth2", "preset")]["aliases"] == ["twitter-oauth2"]
    assert {e["protocol"] for (name, _), e in entries.items() if name in ("x-oauth2", "google")} == {"oauth2"}
    assert twitter["protocol"] == "oauth1"
    assert entries[("mine", str(path))]["request_token_url"] == "https://m.example/rt"
    assert entries[("trello", "preset")]["overridden_by"] == str(path)
    text = cli("providers").stdout
    assert "mine (OAuth 1.0a; providers.toml)" in text
    assert "trello (OAuth 1.0a; preset; overridden by providers.toml)" in text
    assert "x-oauth2 (OAuth 2.0; preset; alias twitter-oauth2)" in text
    assert "revoke         https://api.x.com/1.1/oauth/invalidate_token" in text


# -- signature methods and login flags ---------------------------------------------------------------------------


async def test_plaintext_login_then_signed_request(cli_async: CliAsync, demo: DemoProvider) -> None:
    """A PLAINTEXT login (allowed on loopback) is remembered, and later requests sign with PLAINTEXT."""
    creds = await _login(demo, "--signature-method", "PLAINTEXT")
    assert creds["signature_method"] == "PLAINTEXT"
    header = await cli_async("header", "GET", demo.echo_url)
    assert 'oauth_signature_method="PLAINTEXT"' in header.stdout
    result = await cli_async("request", demo.echo_url, "-d", f"text={RESERVED}")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["form"] == {"text": RESERVED}
    assert 'oauth_signature_method="PLAINTEXT"' in demo.last_request_headers["echo"]["Authorization"]


async def test_plaintext_is_refused_over_plain_http_off_loopback(demo: DemoProvider) -> None:
    """PLAINTEXT would send the secrets in clear: refused (exit 2) for http off loopback, before any network (as
    every signature and bearer is)."""
    await _login(demo, "--signature-method", "PLAINTEXT")
    for args in (("request", "http://example.com/1.1/echo"), ("header", "GET", "http://example.com/x")):
        result = await run_cli_async(*args)
        assert result.returncode == 2, result.stderr
        assert "refusing to send an OAuth 1.0a signature over plain http to example.com" in result.stderr
        assert result.stdout == ""


def _rsa_key_pair(tmp_path: Path) -> tuple[Path, str]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path = tmp_path / "consumer.pem"
    path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return path, public


async def test_rsa_sha1_login_then_signed_request(cli_async: CliAsync, demo: DemoProvider, tmp_path: Path) -> None:
    """RSA-SHA1 with --rsa-key (no consumer secret): the profile keeps the key file and signs requests with it."""
    pem, public = _rsa_key_pair(tmp_path)
    demo.register_client("rsa-consumer-key", "unused-secret", rsa_public_key=public)
    args = _replace_key_options(demo_login_args(demo), "rsa-consumer-key", None)
    login = await run_cli_async(*args, "--rsa-key", str(pem), env=browser_env())
    assert login.returncode == 0, login.stderr
    assert 'oauth_signature_method="RSA-SHA1"' in demo.last_request_headers["access_token"]["Authorization"]
    creds = json.loads((await cli_async("token", "--json")).stdout)
    assert creds["signature_method"] == "RSA-SHA1"
    assert creds["rsa_key_file"] == str(pem.resolve())
    result = await cli_async("request", demo.echo_url, "-d", f"text={RESERVED}")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["form"] == {"text": RESERVED}
    assert 'oauth_signature_method="RSA-SHA1"' in demo.last_request_headers["echo"]["Authorization"]


def test_rsa_without_the_extra_is_a_one_line_error(tmp_path: Path) -> None:
    """Without cryptography/PyJWT installed, RSA-SHA1 says to install loopauth[rsa]: exit 2, no traceback."""
    shadow = tmp_path / "shadow" / "jwt"
    shadow.mkdir(parents=True)
    (shadow / "__init__.py").write_text("raise ImportError('No module named jwt')\n")
    pem = tmp_path / "key.pem"
    pem.write_text("-----BEGIN PRIVATE KEY-----\n-----END PRIVATE KEY-----\n")
    result = run_cli(
        "login",
        "--consumer-key",
        "k",
        "--rsa-key",
        str(pem),
        "--no-browser",
        "--port",
        "0",
        env={"PYTHONPATH": str(shadow.parent)},
    )
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1
    assert "pip install 'loopauth[rsa]'" in result.stderr


async def test_twitter_login_flags_reach_the_provider(demo: DemoProvider) -> None:
    """--access-type goes signed on the request-token call; --force-login and --screen-name to the authorize page."""
    await _login(demo, "--access-type", "write", "--force-login", "--screen-name", "someone")
    assert demo.last_request_queries["request_token"]["x_auth_access_type"] == "write"
    authorize = demo.last_request_queries["authorize"]
    assert authorize["force_login"] == "true"
    assert authorize["screen_name"] == "someone"


# -- errors ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ("header", "--profile", "nobody", "GET", "https://example.com/"),
        ("request", "--profile", "nobody", "https://example.com/"),
        ("verify", "--profile", "nobody"),
        ("logout", "--profile", "nobody", "--revoke"),
    ],
)
def test_unknown_profile_exits_7(args: tuple[str, ...]) -> None:
    """No such profile: exit 7, one line naming it, and nothing sent anywhere."""
    result = run_cli(*args)
    assert result.returncode == 7, result.stderr
    assert result.stderr.count("\n") == 1
    assert "nobody" in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ("request", "URL", "-d", "novalue"),
        ("request", "URL", "-d", "=value"),
        ("header", "POST", "URL", "-d", "novalue"),
        ("request", "URL", "-H", "NoColon"),
        ("request", "URL", "-H", "Bad Name: x"),
        ("request", "URL", "-H", "Authorization: OAuth x"),
        ("request", "-X", "GE T", "URL"),
        ("request", "-X", "GET", "URL", "-d", "a=b"),
        ("request", "ftp://example.com/"),
        ("header", "GET", "not a url"),
    ],
)
async def test_bad_request_syntax_exits_2(demo: DemoProvider, args: tuple[str, ...]) -> None:
    """Malformed -d, -H, -X or URL: one usage line, exit 2, and no request reaches the provider."""
    CredentialStore().save(
        Credentials(
            profile="default",
            provider="demo",
            consumer_key=demo.consumer_key,
            consumer_secret=demo.consumer_secret,
            oauth_token="1234567890-token-never-issued-by-the-demo",
            oauth_token_secret="secret-never-issued-by-the-demo",
            endpoints=demo.provider,
        )
    )
    result = await run_cli_async(*(demo.echo_url if a == "URL" else a for a in args))
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("loopauth: error:")
    assert demo.calls["echo"] == 0


def test_list_shows_a_corrupt_profile_and_still_lists_the_rest(cli: Cli, config_dir: Path) -> None:
    """`list` marks an unreadable profile as such and lists the good ones, with no secret."""
    assert run_cli("demo", "--profile", "good").returncode == 0
    (config_dir / "profiles" / "broken.json").write_text("{not json")
    listed = cli("list")
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert any(line.startswith("broken") and "unreadable" in line for line in lines)
    assert any(line.startswith("good") and DEMO_SCREEN_NAME in line for line in lines)
    secret = json.loads(cli("token", "--profile", "good", "--json").stdout)["oauth_token_secret"]
    assert secret not in listed.stdout
