"""OpenID Connect against a provider that lies on purpose (tests/oidc_fake.py): discovery and its checks, every
ID-token forgery loopauth must refuse, RFC 9207's ``iss``, and what a refresh's ID token must keep."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

import loopauth
from loopauth.errors import NotLoggedIn, ProviderError, UsageError
from loopauth.models import OAuth2Credentials
from loopauth.store import CredentialStore

from .conftest import Cli
from .oidc_fake import CLIENT_ID, SUBJECT, FakeIssuer, follow, public_jwk, rsa_key

SCOPES = "openid profile"


@pytest.fixture
async def op() -> AsyncIterator[FakeIssuer]:
    async with FakeIssuer() as issuer:
        yield issuer


async def login(op: FakeIssuer, **keywords: Any) -> OAuth2Credentials:
    options: dict[str, Any] = {
        "issuer": op.issuer,
        "client_id": CLIENT_ID,
        "scopes": SCOPES,
        "port": 0,
        "timeout": 10,
        "open_browser": follow,
        "say": lambda _: None,
    }
    options.update(keywords)
    creds = await loopauth.login_async(**options)
    assert isinstance(creds, OAuth2Credentials)
    return creds


def stored(profile: str = "default") -> OAuth2Credentials:
    creds = CredentialStore().load(profile)
    assert isinstance(creds, OAuth2Credentials)
    return creds


def claims_of(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    data: dict[str, Any] = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return data


# -- discovery ------------------------------------------------------------------------------------------------------


async def test_login_by_issuer_discovers_the_endpoints_and_stores_them(op: FakeIssuer) -> None:
    creds = await login(op)
    endpoints = creds.endpoints
    assert (endpoints.issuer, endpoints.authorize_url, endpoints.token_url) == (
        op.issuer,
        f"{op.base}/auth",
        f"{op.base}/token",
    )
    assert endpoints.jwks_url == f"{op.base}/jwks"
    assert endpoints.requires_iss
    assert stored().endpoints == endpoints
    assert op.hits["openid-configuration"] == 1
    assert op.hits["oauth-authorization-server"] == 0


async def test_token_refresh_and_logout_never_fetch_discovery_again(op: FakeIssuer, cli: Cli) -> None:
    await login(op)
    creds = stored()
    CredentialStore().save(creds.replace(expires_at=int(time.time()) - 10))
    refreshed = await asyncio.to_thread(loopauth.load)
    assert isinstance(refreshed, OAuth2Credentials)
    assert op.hits["token:refresh_token"] == 1
    assert cli("token", "--field", "access_token").returncode == 0
    assert cli("logout").returncode == 0
    assert op.hits["openid-configuration"] == 1
    assert op.hits["jwks"] == 1


async def test_a_path_bearing_issuer_keeps_its_path_and_falls_back_to_rfc_8414() -> None:
    async with FakeIssuer(path="/realms/dev", openid_configuration=False) as op:
        creds = await login(op)
        assert creds.endpoints.token_url == f"{op.base}/token"
        assert op.hits["openid-configuration"] == 1  # at ISSUER/.well-known/..., answered 404
        assert op.hits["oauth-authorization-server"] == 1  # at /.well-known/oauth-authorization-server/realms/dev


async def test_metadata_for_another_issuer_is_refused_naming_both(op: FakeIssuer) -> None:
    op.metadata["issuer"] = "https://elsewhere.example"
    with pytest.raises(ProviderError) as caught:
        await login(op)
    assert op.issuer in caught.value.message
    assert "https://elsewhere.example" in caught.value.message
    assert op.hits["auth"] == 0
    with pytest.raises(NotLoggedIn):
        stored()


async def test_the_cli_says_exit_5_naming_both_issuers_and_keeps_the_earlier_login(op: FakeIssuer, cli: Cli) -> None:
    earlier = await login(op)
    op.metadata["issuer"] = op.issuer + "/"
    result = await asyncio.to_thread(
        cli, "login", "--issuer", op.issuer, "--client-id", CLIENT_ID, "--scope", SCOPES, "--port", "0", "--no-browser"
    )
    assert result.returncode == 5, result.stderr
    assert f"{op.issuer}/" in result.stderr
    assert "Traceback" not in result.stderr
    assert stored() == earlier


async def test_explicit_endpoints_win_over_discovered_ones(op: FakeIssuer) -> None:
    creds = await login(op, authorize_url=f"{op.base}/auth?tenant=mine")
    assert creds.endpoints.authorize_url == f"{op.base}/auth?tenant=mine"
    assert creds.endpoints.token_url == f"{op.base}/token"


async def test_discovered_endpoints_must_be_https_off_loopback(op: FakeIssuer) -> None:
    op.metadata["token_endpoint"] = "http://tokens.example/token"
    with pytest.raises(ProviderError, match="must use https"):
        await login(op)


def test_an_http_issuer_off_loopback_is_a_usage_error(cli: Cli) -> None:
    result = cli("login", "--issuer", "http://id.example", "--client-id", "x", "--no-browser")
    assert result.returncode == 2
    assert "--issuer must use https" in result.stderr


async def test_providers_toml_takes_an_issuer_alone(op: FakeIssuer, config_dir: Any) -> None:
    config_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    (config_dir / "providers.toml").write_text(f'[corp]\nissuer = "{op.issuer}"\nscopes = "openid email"\n')
    creds = await login(op, provider="corp", issuer=None, scopes=None)
    assert creds.provider == "corp"
    assert creds.endpoints.token_url == f"{op.base}/token"
    assert creds.id_token is not None


# -- ID tokens ------------------------------------------------------------------------------------------------------


async def test_the_id_token_is_verified_stored_and_names_the_account(op: FakeIssuer, cli: Cli) -> None:
    creds = await login(op)
    assert creds.id_token is not None
    claims = claims_of(creds.id_token)
    assert claims["nonce"] == op.nonces[-1]
    assert (creds.screen_name, creds.user_id) == ("forty-two", SUBJECT)
    assert cli("token", "--field", "id_token").stdout.strip() == creds.id_token
    assert json.loads(cli("token", "--json").stdout)["id_token"] == creds.id_token
    assert creds.id_token not in repr(creds)


async def test_every_login_sends_a_fresh_nonce(op: FakeIssuer) -> None:
    await login(op)
    await login(op)
    assert len(set(op.nonces)) == 2
    assert all(len(nonce) >= 32 for nonce in op.nonces)


async def test_no_openid_no_nonce_and_no_id_token_check(op: FakeIssuer) -> None:
    op.sign = lambda claims, _: "not-a-jwt"
    creds = await login(op, scopes="profile")
    assert op.nonces == []
    assert creds.id_token is None


def _none(claims: dict[str, Any], _: FakeIssuer) -> str:
    return jwt.encode(claims, "", algorithm="none")


def _other_key(claims: dict[str, Any], op: FakeIssuer) -> str:
    return jwt.encode(claims, rsa_key(), algorithm="RS256", headers={"kid": op.kid})


def _hmac_with_public_key(claims: dict[str, Any], op: FakeIssuer) -> str:
    # The classic confusion attack: HS256 keyed with the bytes of the provider's public RSA key.
    public = op.key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = base64.urlsafe_b64encode(json.dumps({"alg": "HS256", "kid": op.kid}).encode()).rstrip(b"=")
    body = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=")
    import hashlib
    import hmac

    signature = hmac.new(public, header + b"." + body, hashlib.sha256).digest()
    return b".".join([header, body, base64.urlsafe_b64encode(signature).rstrip(b"=")]).decode()


@pytest.mark.parametrize(
    ("forge", "claims", "why"),
    [
        pytest.param(_other_key, {}, "Signature verification failed", id="signed-with-another-key"),
        pytest.param(_none, {}, "'none'", id="alg-none"),
        pytest.param(_hmac_with_public_key, {}, "'HS256'", id="hs256-with-the-public-key"),
        pytest.param(None, {"iss": "https://evil.example"}, "issued by https://evil.example", id="wrong-iss"),
        pytest.param(None, {"aud": "someone-else"}, "Audience", id="wrong-aud"),
        pytest.param(None, {"aud": [CLIENT_ID, "other"]}, "azp", id="several-audiences-no-azp"),
        pytest.param(None, {"nonce": "a-replayed-nonce"}, "nonce", id="wrong-nonce"),
        pytest.param(None, {"nonce": None}, "nonce", id="no-nonce"),
        pytest.param(None, {"exp": int(time.time()) - 3600}, "expired", id="expired"),
        pytest.param(None, {"iat": int(time.time()) + 3600}, "not yet valid", id="issued-in-the-future"),
        pytest.param(None, {"sub": None}, "sub", id="no-sub"),
    ],
)
async def test_a_forged_or_wrong_id_token_fails_the_login_and_saves_nothing(
    op: FakeIssuer, forge: Any, claims: dict[str, Any], why: str
) -> None:
    op.sign = forge
    op.claims = claims
    with pytest.raises(ProviderError) as caught:
        await login(op)
    assert why in caught.value.message
    assert "ID token" in caught.value.message
    with pytest.raises(NotLoggedIn):
        stored()


async def test_several_audiences_with_our_azp_pass(op: FakeIssuer) -> None:
    op.claims = {"aud": [CLIENT_ID, "api"], "azp": CLIENT_ID}
    assert (await login(op)).id_token is not None


async def test_an_unknown_kid_refetches_the_key_set_once(op: FakeIssuer) -> None:
    op.jwks = [public_jwk(rsa_key(), "old")]
    op.rotate_to = [public_jwk(op.key, op.kid)]
    creds = await login(op)
    assert creds.id_token is not None
    assert op.hits["jwks"] == 2


async def test_a_kid_the_key_set_never_has_fails_after_one_refetch(op: FakeIssuer) -> None:
    op.jwks = [public_jwk(rsa_key(), "other")]
    with pytest.raises(ProviderError, match="does not publish"):
        await login(op)
    assert op.hits["jwks"] == 2


@pytest.mark.parametrize("alg", ["ES256", "PS256", "EdDSA"])
async def test_other_public_key_algorithms_verify(alg: str) -> None:
    key: Any = ec.generate_private_key(ec.SECP256R1()) if alg == "ES256" else rsa_key()
    if alg == "EdDSA":
        key = ed25519.Ed25519PrivateKey.generate()
        jwk = json.loads(jwt.algorithms.OKPAlgorithm.to_jwk(key.public_key()))
        published = [{**jwk, "kid": "k1", "use": "sig"}]
    else:
        published = [public_jwk(key, "k1")]
    async with FakeIssuer(jwks=published, alg=alg) as op:
        op.sign = lambda claims, issuer: jwt.encode(claims, key, algorithm=alg, headers={"kid": "k1"})
        assert (await login(op)).id_token is not None


async def test_without_pyjwt_an_oidc_login_is_a_usage_error_before_anything_opens(
    op: FakeIssuer, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "jwt" else real(name, *a))
    opened: list[str] = []

    async def browser(url: str) -> bool:
        opened.append(url)
        return True

    with pytest.raises(UsageError, match=r"loopauth\[oidc\]"):
        await login(op, open_browser=browser)
    assert opened == []
    assert op.hits["openid-configuration"] == 0


# -- refresh (OpenID Connect Core §12.2) ----------------------------------------------------------------------------


def _due() -> None:
    creds = stored()
    CredentialStore().save(creds.replace(expires_at=int(time.time()) - 10))


async def test_a_refresh_keeps_a_new_id_token_of_the_same_login(op: FakeIssuer) -> None:
    first = await login(op)
    op.refresh_claims = {"email": "renamed@example.test"}
    _due()
    renewed = await asyncio.to_thread(loopauth.load)
    assert isinstance(renewed, OAuth2Credentials)
    assert renewed.id_token is not None
    assert renewed.id_token != first.id_token
    assert claims_of(renewed.id_token)["email"] == "renamed@example.test"
    assert stored().id_token == renewed.id_token


@pytest.mark.parametrize("claim", ["iss", "sub", "aud"])
async def test_a_refresh_whose_id_token_changes_iss_sub_or_aud_is_exit_5_and_keeps_none_of_it(
    op: FakeIssuer, claim: str, cli: Cli
) -> None:
    await login(op)
    op.refresh_claims = {claim: "someone-else"}
    _due()
    before = stored()
    result = await asyncio.to_thread(cli, "token", "--field", "access_token")
    assert result.returncode == 5, result.stderr
    assert repr(claim) in result.stderr
    assert "§12.2" in result.stderr
    # Nothing of the answer is kept; the old refresh token was spent to get it, so the profile is marked and the
    # next run asks for a login instead of sending that token again.
    assert stored() == before.replace(refreshing=True)
    again = await asyncio.to_thread(cli, "token", "--field", "access_token")
    assert again.returncode == 7, again.stderr
    assert "loopauth login --profile default" in again.stderr


def test_an_old_profile_without_an_id_token_still_loads() -> None:
    from loopauth.models import OAuth2Provider

    creds = OAuth2Credentials(
        profile="old",
        provider="p",
        client_id="c",
        access_token="a",
        endpoints=OAuth2Provider("p", "https://a", "https://t"),
    )
    data = creds.to_dict()
    assert "id_token" not in data
    assert "issuer" not in data["endpoints"]
    CredentialStore().save(creds)
    assert stored("old") == creds


# -- RFC 9207 -------------------------------------------------------------------------------------------------------


class Mixup:
    """A browser that first delivers the callback with a bent ``iss`` (and without one), then the real one."""

    def __init__(self, *bent: str | None) -> None:
        self.bent = bent
        self.statuses: list[int] = []
        self.tasks: list[asyncio.Task[None]] = []

    async def __call__(self, url: str) -> bool:
        self.tasks.append(asyncio.create_task(self.visit(url)))
        return True

    async def visit(self, url: str) -> None:
        import aiohttp
        from yarl import URL

        async with aiohttp.ClientSession() as session:
            async with session.get(url, allow_redirects=False) as start:
                authorize = start.headers["Location"]
            async with session.get(authorize, allow_redirects=False) as answer:
                callback = URL(answer.headers["Location"])
            for iss in self.bent:
                query = {k: v for k, v in callback.query.items() if k != "iss"}
                if iss is not None:
                    query["iss"] = iss
                async with session.get(callback.with_query(query)) as response:
                    self.statuses.append(response.status)
            async with session.get(callback) as response:
                self.statuses.append(response.status)


async def test_a_callback_from_another_issuer_or_without_iss_gets_400_and_the_wait_goes_on(op: FakeIssuer) -> None:
    browser = Mixup("https://attacker.example", None)
    creds = await login(op, open_browser=browser)
    await asyncio.gather(*browser.tasks)
    assert browser.statuses == [400, 400, 200]
    assert creds.access_token
    assert op.hits["token:authorization_code"] == 1


async def test_without_the_metadata_flag_a_callback_without_iss_is_accepted(op: FakeIssuer) -> None:
    op.metadata["authorization_response_iss_parameter_supported"] = None
    op.callback_iss = None
    creds = await login(op)
    assert not creds.endpoints.requires_iss
    assert creds.id_token is not None


async def test_with_the_metadata_flag_a_login_never_completes_without_iss(op: FakeIssuer) -> None:
    op.callback_iss = None
    with pytest.raises(loopauth.errors.LoginTimeout):
        await login(op, timeout=2)
    assert op.hits["token:authorization_code"] == 0


async def test_the_readmes_providers_toml_example_logs_in(op: FakeIssuer, config_dir: Any) -> None:
    """The OpenID Connect section's providers.toml table, with the fake's issuer for the example's."""
    from pathlib import Path

    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    table = readme.split("## OpenID Connect", 1)[1].split("```toml\n", 1)[1].split("```", 1)[0]
    config_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    (config_dir / "providers.toml").write_text(table.replace("https://login.example.com", op.issuer))
    creds = await login(op, provider="corp", issuer=None, scopes=None)
    assert creds.scope == "openid email offline_access"
    assert creds.id_token is not None
    assert creds.endpoints.authorize_params == {"prompt": "consent"}


async def test_token_on_a_fresh_oidc_profile_loads_no_jose_nor_aiohttp(op: FakeIssuer, config_dir: Any) -> None:
    """The fast path: printing an OpenID Connect profile's ID token needs neither PyJWT nor cryptography."""
    import os
    import sys

    creds = await login(op)
    heavy = ("jwt", "cryptography", "aiohttp", "asyncio", "loopauth.oidc.idtoken", "loopauth.oidc.discovery")
    code = (
        "from loopauth.cli import main; main(['token', '--field', 'id_token'])\n"
        f"import sys; print([m for m in {heavy!r} if m in sys.modules])"
    )
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-c",
        code,
        env=dict(os.environ, LOOPAUTH_CONFIG_DIR=str(config_dir)),
        stdout=asyncio.subprocess.PIPE,
    )
    out, _ = await proc.communicate()
    lines = out.decode().strip().splitlines()
    assert lines == [creds.id_token, "[]"]


async def test_verbose_traces_never_show_the_id_token(
    op: FakeIssuer, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys
    from pathlib import Path

    monkeypatch.setenv("BROWSER", f"{sys.executable} {Path(__file__).with_name('redirect_browser.py')} %s")
    result = await asyncio.to_thread(
        cli, "login", "-v", "--issuer", op.issuer, "--client-id", CLIENT_ID, "--scope", SCOPES, "--port", "0"
    )
    assert result.returncode == 0, result.stderr
    token = stored().id_token
    assert token is not None
    assert '"id_token": "[redacted]"' in result.stderr  # the token answer was traced
    assert token not in result.stderr
    assert token.split(".")[1] not in result.stderr


async def test_the_keyring_store_keeps_the_id_token_among_the_secrets(op: FakeIssuer) -> None:
    """What the keyring store writes: the ID token in the keyring entry, never in the file; joined back whole."""
    from loopauth.models import credentials_from_dict
    from loopauth.store.keyring import join_secrets, split_secrets

    creds = await login(op)
    public, secret = split_secrets(creds.to_dict())
    assert secret["id_token"] == creds.id_token
    assert creds.id_token not in json.dumps(public)
    assert credentials_from_dict(join_secrets(public, secret)) == creds


async def test_a_login_that_cannot_open_a_browser_mentions_the_device_login(op: FakeIssuer) -> None:
    said: list[str] = []

    async def no_browser(url: str) -> bool:
        asyncio.get_running_loop().create_task(follow(url))  # the user opens it by hand
        return False

    await login(op, open_browser=no_browser, say=said.append)
    assert any("loopauth login --device" in line for line in said), said
    op.metadata["device_authorization_endpoint"] = None
    said.clear()
    await login(op, open_browser=no_browser, say=said.append)
    assert not any("--device" in line for line in said), said
