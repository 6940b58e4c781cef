"""``loopauth credential git|kubectl|docker`` and ``docker-credential-loopauth``: their protocols, in process and,
for what only a process shows (exit codes of the console script, the imports of the fast path), as processes.

The real clients are in test_credential_git.py, test_credential_kubectl.py and test_credential_docker.py.
"""

from __future__ import annotations

import base64
import io
import json
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from loopauth.cli import build_parser, docker_credential
from loopauth.cli.credential import plain_credential_args
from loopauth.credential import docker, kubectl, username_for
from loopauth.credential.git import REFUSED_FILE
from loopauth.models import Credentials, OAuth2Credentials, OAuth2Provider
from loopauth.protocols import access_for
from loopauth.store import CredentialStore

from .conftest import Cli

NOW = int(time.time())
GITLAB = OAuth2Provider(
    name="gitlab",
    authorize_url="https://gitlab.example.com/oauth/authorize",
    token_url="https://gitlab.example.com/oauth/token",
    verify_url="https://gitlab.example.com/api/v4/user",
)

CORP = OAuth2Provider("corp", "https://sso.example.com/authorize", "https://sso.example.com/token")


def oauth2_profile(
    profile: str = "default", endpoints: OAuth2Provider = GITLAB, **changes: object
) -> OAuth2Credentials:
    """A fresh OAuth 2.0 login (two hours left) of ``endpoints``, saved."""
    creds = OAuth2Credentials(
        profile=profile,
        provider=endpoints.name,
        client_id="client",
        access_token="the-access-token",
        refresh_token="the-refresh-token",
        endpoints=endpoints,
        expires_at=NOW + 7200,
        issued_at=NOW,
        screen_name="alice",
    ).replace(**changes)
    CredentialStore().save(creds)
    return creds


def oauth1_profile(profile: str = "default") -> Credentials:
    creds = Credentials(
        profile=profile, provider="twitter", consumer_key="ck", consumer_secret="cs", oauth_token="t",
        oauth_token_secret="ts", user_id="1", screen_name="bob",
    )  # fmt: skip
    CredentialStore().save(creds)
    return creds


def git(cli: Cli, monkeypatch: pytest.MonkeyPatch, request: str, *args: str) -> subprocess.CompletedProcess[str]:
    """``loopauth credential git ARGS`` in process with ``request`` on stdin."""
    monkeypatch.setattr(sys, "stdin", io.StringIO(request))
    return cli("credential", "git", *args)


GET_GITLAB = "protocol=https\nhost=gitlab.example.com\npath=group/project.git\n\n"


# -- the command line ---------------------------------------------------------------------------------------------

PLAIN_ARGVS = [
    ["credential", "git", "get"],
    ["credential", "git", "--profile", "work", "get"],
    ["credential", "git", "--profile=work", "store"],
    ["credential", "git", "get", "--profile", "work"],
    ["credential", "git", "--host", "git.example.com", "--host=h:8443", "erase"],
    ["credential", "git", "--profile", "w", "--host", "a", "frobnicate"],
    ["credential", "kubectl"],
    ["credential", "kubectl", "--profile", "work"],
    ["credential", "kubectl", "--access-token", "--profile=work"],
]
ARGPARSE_ARGVS = [
    ["credential", "git"],
    ["credential", "git", "get", "store"],
    ["credential", "git", "--prof", "w", "get"],
    ["credential", "git", "--profile", "a", "--profile", "b", "get"],
    ["credential", "git", "--profile", "-x", "get"],
    ["credential", "git", "--help"],
    ["credential", "git", "--access-token", "get"],
    ["credential", "kubectl", "--access-token", "--access-token"],
    ["credential", "kubectl", "--host", "h"],
    ["credential", "kubectl", "extra"],
    ["credential", "kubectl", "-h"],
    ["credential", "docker", "--list"],
    ["credential"],
    ["token"],
]


@pytest.mark.parametrize("argv", PLAIN_ARGVS, ids=" ".join)
def test_plain_credential_args_read_as_argparse_does(argv: list[str]) -> None:
    """The fast reading of a plain line agrees with argparse's."""
    args = build_parser().parse_args(argv)
    expected = {
        "tool": args.tool,
        "profile": args.profile,
        "hosts": getattr(args, "hosts", []),
        "action": getattr(args, "action", None),
        "access_token": getattr(args, "access_token", False),
    }
    assert plain_credential_args(argv) == expected


@pytest.mark.parametrize("argv", ARGPARSE_ARGVS, ids=" ".join)
def test_anything_else_is_left_to_argparse(argv: list[str]) -> None:
    """Help, abbreviations, repeats and mistakes go through argparse, which knows the answers."""
    assert plain_credential_args(argv) is None


def test_argparse_reading_runs_the_same_git_answer(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    """An abbreviated option (argparse's reading) answers as the plain line does."""
    oauth2_profile(profile="work")
    plain = git(cli, monkeypatch, GET_GITLAB, "--profile", "work", "get")
    abbreviated = git(cli, monkeypatch, GET_GITLAB, "--prof", "work", "get")
    assert plain.returncode == abbreviated.returncode == 0
    assert plain.stdout == abbreviated.stdout != ""


# -- git -----------------------------------------------------------------------------------------------------------


def test_git_get_answers_the_providers_host(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    """A GitLab host gets oauth2, the access token and its expiry, and nothing else: never the refresh token."""
    creds = oauth2_profile()
    done = git(cli, monkeypatch, GET_GITLAB, "get")
    assert done.returncode == 0
    assert done.stderr == ""
    assert done.stdout == f"username=oauth2\npassword=the-access-token\npassword_expiry_utc={creds.expires_at}\n"


@pytest.mark.parametrize(
    ("request_lines", "hosts", "answered"),
    [
        ("protocol=https\nhost=GitLab.Example.com\n", (), True),
        ("protocol=https\nhost=gitlab.example.com:443\n", (), True),
        ("protocol=https\nhost=gitlab.example.com:8443\n", (), False),
        ("protocol=https\nhost=gitlab.example.com:8443\n", ("--host", "gitlab.example.com:8443"), True),
        ("protocol=https\nhost=evil.example\n", (), False),
        ("protocol=https\nhost=gitlab.example.com.evil.example\n", (), False),
        ("protocol=https\nhost=git.example.com\n", ("--host", "git.example.com"), True),
        ("protocol=https\nhost=git.example.com\n", ("--host", "other.example.com"), False),
        ("protocol=http\nhost=127.0.0.1:8080\n", ("--host", "127.0.0.1:8080"), True),
        ("protocol=ssh\nhost=gitlab.example.com\n", (), False),
        ("host=gitlab.example.com\n", (), False),
        ("protocol=https\n", (), False),
    ],
)
def test_git_get_answers_only_the_hosts_it_was_given(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, request_lines: str, hosts: tuple[str, ...], answered: bool
) -> None:
    """The provider's host (any case, its default port written or not) and --host values; nothing else, exit 0."""
    oauth2_profile()
    done = git(cli, monkeypatch, request_lines + "\n", *hosts, "get")
    assert done.returncode == 0
    assert ("password=the-access-token\n" in done.stdout) is answered
    assert done.stdout == "" or answered


@pytest.mark.parametrize("host", ["https://git.example.com", "git.example.com/group", "user@git.example.com", ""])
def test_git_host_must_be_a_host(cli: Cli, monkeypatch: pytest.MonkeyPatch, host: str) -> None:
    """A --host that is a URL or has a path or user can never match: exit 2 with one line, before reading."""
    oauth2_profile()
    done = git(cli, monkeypatch, GET_GITLAB, "--host", host, "get")
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr.count("\n") == 1
    assert "--host takes HOST or HOST:PORT" in done.stderr


def test_git_never_sends_a_token_over_plain_http_off_loopback(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    """Even a host named with --host gets no token over http unless it is loopback; stderr says why."""
    oauth2_profile()
    done = git(cli, monkeypatch, "protocol=http\nhost=git.example.com\n\n", "--host", "git.example.com", "get")
    assert (done.returncode, done.stdout) == (0, "")
    assert done.stderr.count("\n") == 1
    assert "plain http" in done.stderr


@pytest.mark.parametrize(
    ("endpoints", "screen_name", "expected"),
    [
        (GITLAB, "alice", "oauth2"),
        (
            OAuth2Provider(
                "github", "https://github.com/login/oauth/authorize", "https://github.com/login/oauth/token"
            ),
            "alice",
            "x-access-token",
        ),
        (
            OAuth2Provider("corp", "https://sso.example.com/authorize", "https://sso.example.com/token"),
            "alice",
            "alice",
        ),
        (OAuth2Provider("corp", "https://sso.example.com/authorize", "https://sso.example.com/token"), None, "oauth2"),
    ],
)
def test_username_follows_the_providers_convention(
    endpoints: OAuth2Provider, screen_name: str | None, expected: str
) -> None:
    """oauth2 for GitLab, x-access-token for GitHub, else the account's name, else oauth2."""
    assert username_for(access_for(oauth2_profile(endpoints=endpoints, screen_name=screen_name))) == expected


def test_git_store_and_unknown_actions_do_nothing(cli: Cli, monkeypatch: pytest.MonkeyPatch, config_dir: Path) -> None:
    """store (after a success) and any newer action: exit 0, no output, nothing written."""
    oauth2_profile()
    before = sorted(p.name for p in config_dir.rglob("*"))
    answer = GET_GITLAB.replace("\n\n", "\nusername=oauth2\npassword=the-access-token\n\n")
    for action in ("store", "frobnicate"):
        done = git(cli, monkeypatch, answer, action)
        assert (done.returncode, done.stdout, done.stderr) == (0, "", "")
    assert sorted(p.name for p in config_dir.rglob("*")) == before


def test_git_erase_notes_the_refused_token_and_deletes_nothing(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, config_dir: Path
) -> None:
    """erase leaves the profile as it is and writes a 0600 note naming no token; another host's erase, nothing."""
    creds = oauth2_profile()
    other = "protocol=https\nhost=evil.example\npassword=the-access-token\n\n"
    assert git(cli, monkeypatch, other, "erase").returncode == 0
    assert not (config_dir / REFUSED_FILE).exists()
    refused = GET_GITLAB.replace("\n\n", "\nusername=oauth2\npassword=the-access-token\n\n")
    done = git(cli, monkeypatch, refused, "erase")
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")
    assert CredentialStore().load("default") == creds
    note = config_dir / REFUSED_FILE
    assert stat.S_IMODE(note.stat().st_mode) == 0o600
    assert "the-access-token" not in note.read_text()
    assert set(json.loads(note.read_text())) == {"default"}


def test_git_refuses_an_oauth1_profile(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    """An OAuth 1.0a profile cannot be a git password: exit 2, one line naming an OAuth 2.0 profile."""
    oauth1_profile()
    done = git(cli, monkeypatch, GET_GITLAB, "get")
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr.count("\n") == 1
    assert "OAuth 2.0 profile" in done.stderr


def test_git_get_of_a_dead_profile_is_exit_7_with_the_hint(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    """A profile whose refresh was refused: no answer, exit 7, the command that logs in again."""
    oauth2_profile(needs_login=True)
    done = git(cli, monkeypatch, GET_GITLAB, "get")
    assert (done.returncode, done.stdout) == (7, "")
    assert done.stderr.count("\n") == 1
    assert "loopauth login --profile default" in done.stderr


# -- kubectl -------------------------------------------------------------------------------------------------------


def exec_credential(cli: Cli, *args: str) -> dict[str, object]:
    done = cli("credential", "kubectl", *args)
    assert (done.returncode, done.stderr) == (0, ""), done.stderr
    answer = json.loads(done.stdout)
    assert isinstance(answer, dict)
    return answer


def test_kubectl_prints_an_exec_credential(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    """v1 by default; the access token; expirationTimestamp (RFC 3339, UTC) when loopauth will renew it."""
    monkeypatch.delenv(kubectl.EXEC_INFO, raising=False)
    oauth2_profile(expires_at=1_900_000_000, issued_at=1_900_000_000 - 3600)
    assert exec_credential(cli) == {
        "apiVersion": "client.authentication.k8s.io/v1",
        "kind": "ExecCredential",
        "status": {"token": "the-access-token", "expirationTimestamp": "2030-03-17T17:45:40Z"},
    }


@pytest.mark.parametrize("version", kubectl.API_VERSIONS)
def test_kubectl_answers_in_the_api_version_asked(cli: Cli, monkeypatch: pytest.MonkeyPatch, version: str) -> None:
    info = {"apiVersion": version, "kind": "ExecCredential", "spec": {"interactive": False}}
    monkeypatch.setenv(kubectl.EXEC_INFO, json.dumps(info))
    oauth2_profile(expires_at=None)
    answer = exec_credential(cli, "--access-token")
    assert answer["apiVersion"] == version
    assert answer["status"] == {"token": "the-access-token"}  # no expiry known: none claimed


@pytest.mark.parametrize("info", ['{"apiVersion": "client.authentication.k8s.io/v1alpha1"}', "not json", "[]"])
def test_kubectl_refuses_an_api_version_it_does_not_speak(cli: Cli, monkeypatch: pytest.MonkeyPatch, info: str) -> None:
    monkeypatch.setenv(kubectl.EXEC_INFO, info)
    oauth2_profile()
    done = cli("credential", "kubectl")
    assert (done.returncode, done.stdout) == (2, "")
    assert done.stderr.count("\n") == 1
    assert "client.authentication.k8s.io/v1" in done.stderr


def test_kubectl_sends_the_id_token_unless_told_otherwise(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    """With an ID token, that is the token (expiring with it, if sooner); --access-token sends the access token."""
    exp = NOW + 600
    claims = base64.urlsafe_b64encode(json.dumps({"exp": exp}).encode()).decode().rstrip("=")
    id_token = f"eyJhbGciOiJub25lIn0.{claims}.sig"
    monkeypatch.delenv(kubectl.EXEC_INFO, raising=False)
    oauth2_profile(id_token=id_token)
    status = exec_credential(cli)["status"]
    assert status == {"token": id_token, "expirationTimestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(exp))}
    assert exec_credential(cli, "--access-token")["status"]["token"] == "the-access-token"  # type: ignore[index]


def test_kubectl_plugin_of_a_dead_profile_exits_7_without_reading_stdin(tmp_path: Path, config_dir: Path) -> None:
    """A profile that must log in again: exit 7 and the hint on stderr, at once, with stdin open and silent."""
    oauth2_profile(needs_login=True)
    proc = subprocess.Popen(
        [sys.executable, "-m", "loopauth", "credential", "kubectl"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        out, err = _without_closing_stdin(proc)
    finally:
        proc.kill()
    assert (proc.returncode, out) == (7, "")
    assert err.count("\n") == 1
    assert "loopauth login --profile default" in err


def _without_closing_stdin(proc: subprocess.Popen[str]) -> tuple[str, str]:
    """Wait for ``proc`` while its stdin stays open: a plugin that read it would hang until the timeout."""
    assert proc.stdout is not None
    assert proc.stderr is not None
    proc.wait(timeout=30)
    return proc.stdout.read(), proc.stderr.read()


# -- docker --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("server", "key"),
    [
        ("docker.io", docker.DOCKER_HUB),
        ("https://index.docker.io/v1/", docker.DOCKER_HUB),
        ("index.docker.io", docker.DOCKER_HUB),
        ("registry-1.docker.io", docker.DOCKER_HUB),
        ("ghcr.io", "ghcr.io"),
        ("https://GHCR.io/v2/", "ghcr.io"),
        ("registry.gitlab.com", "registry.gitlab.com"),
        ("http://localhost:5000", "localhost:5000"),
    ],
)
def test_servers_are_keyed_as_docker_keys_them(server: str, key: str) -> None:
    assert docker.normalize_server(server) == key


def helper_run(action: str, stdin: str) -> tuple[int, str]:
    out = io.StringIO()
    code = docker_credential.main([action], io.StringIO(stdin), out)
    return code, out.getvalue()


def test_docker_mapping_is_kept_0600_and_listed(cli: Cli, config_dir: Path) -> None:
    """--add (normalised), --list, --remove; the map is one 0600 file in the config dir."""
    oauth2_profile(profile="gitlab")
    assert (
        cli("credential", "docker", "--add", "https://Registry.GitLab.com/v2/", "--profile", "gitlab").returncode == 0
    )
    assert cli("credential", "docker", "--add", "docker.io", "--profile", "gitlab", "--username", "me").returncode == 0
    path = config_dir / docker.REGISTRIES_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert json.loads(path.read_text()) == {
        "registry.gitlab.com": {"profile": "gitlab"},
        docker.DOCKER_HUB: {"profile": "gitlab", "username": "me"},
    }
    listed = cli("credential", "docker", "--list").stdout.splitlines()
    assert listed == [f"{docker.DOCKER_HUB}  profile gitlab (user me)", "registry.gitlab.com  profile gitlab"]
    assert cli("credential", "docker", "--remove", "registry.gitlab.com").returncode == 0
    assert list(json.loads(path.read_text())) == [docker.DOCKER_HUB]


def test_docker_add_needs_an_oauth2_profile(cli: Cli, config_dir: Path) -> None:
    oauth1_profile(profile="twitter")
    done = cli("credential", "docker", "--add", "ghcr.io", "--profile", "twitter")
    assert done.returncode == 2
    assert "OAuth 2.0 profile" in done.stderr
    assert cli("credential", "docker", "--add", "ghcr.io", "--profile", "missing").returncode == 7
    assert not (config_dir / docker.REGISTRIES_FILE).exists()


def test_docker_protocol_vectors(cli: Cli) -> None:
    """get / store / erase / list / version as docker-credential-helpers answer them."""
    oauth2_profile(profile="gitlab")
    cli("credential", "docker", "--add", "registry.gitlab.com", "--profile", "gitlab")
    code, out = helper_run("get", "registry.gitlab.com\n")
    assert code == 0
    assert json.loads(out) == {"ServerURL": "registry.gitlab.com", "Username": "oauth2", "Secret": "the-access-token"}
    assert "the-refresh-token" not in out
    assert helper_run("get", "https://registry.gitlab.com/v2/")[0] == 0
    assert helper_run("get", "ghcr.io") == (1, "credentials not found in native keychain\n")
    assert helper_run("get", "  \n") == (1, "no credentials server URL\n")
    assert helper_run("list", "") == (0, '{"registry.gitlab.com": "oauth2"}\n')
    stored = json.dumps({"ServerURL": "registry.gitlab.com", "Username": "u", "Secret": "typed-password"})
    assert helper_run("store", stored) == (0, "")
    assert "typed-password" not in json.dumps(docker.registries())
    code, out = helper_run("store", json.dumps({"ServerURL": "ghcr.io", "Username": "u", "Secret": "typed-password"}))
    assert code == 1
    assert "loopauth stores no registry passwords" in out
    assert "typed-password" not in out
    assert helper_run("store", "{not json")[0] == 1
    assert helper_run("erase", "ghcr.io") == (1, "credentials not found in native keychain\n")
    assert helper_run("erase", "registry.gitlab.com\n") == (0, "")
    assert helper_run("get", "registry.gitlab.com") == (1, "credentials not found in native keychain\n")
    assert helper_run("list", "") == (0, "{}\n")
    assert CredentialStore().load("gitlab").profile == "gitlab"  # docker logout unmaps; the login stays
    code, out = helper_run("version", "")
    assert code == 0
    assert out.startswith("docker-credential-loopauth (loopauth) ")
    assert helper_run("frobnicate", "") == (1, "Unknown credential action `frobnicate`\n")


def test_docker_get_of_a_dead_profile_says_why(cli: Cli) -> None:
    oauth2_profile(profile="gitlab", needs_login=True)
    cli("credential", "docker", "--add", "registry.gitlab.com", "--profile", "gitlab")
    code, out = helper_run("get", "registry.gitlab.com")
    assert code == 7
    assert out.count("\n") == 1
    assert "loopauth login --profile gitlab" in out


def test_docker_credential_loopauth_console_script(cli: Cli) -> None:
    """The installed script: exit codes and stdout as docker reads them."""
    script = Path(sys.executable).parent / "docker-credential-loopauth"
    oauth2_profile(profile="gitlab")
    cli("credential", "docker", "--add", "ghcr.io", "--profile", "gitlab")

    def run(*args: str, stdin: str = "") -> tuple[int, str, str]:
        done = subprocess.run([str(script), *args], input=stdin, capture_output=True, text=True, timeout=30)
        return done.returncode, done.stdout, done.stderr

    code, out, err = run("get", stdin="ghcr.io\n")
    assert (code, err) == (0, "")
    assert json.loads(out)["Secret"] == "the-access-token"
    assert run("get", stdin="quay.io\n") == (1, "credentials not found in native keychain\n", "")
    assert run() == (1, "Usage: docker-credential-loopauth <store|get|erase|list|version>\n", "")
    assert run("list") == (0, '{"ghcr.io": "oauth2"}\n', "")


# -- the fast path -------------------------------------------------------------------------------------------------

HEAVY = ("aiohttp", "oauthlib", "asyncio", "argparse", "dataclasses", "platformdirs", "keyring", "tomllib", "typing")


@pytest.mark.parametrize(
    ("argv", "stdin"),
    [(["credential", "git", "get"], GET_GITLAB), (["credential", "kubectl"], "")],
    ids=["git get", "kubectl"],
)
def test_credential_fast_paths_import_nothing_heavy(argv: list[str], stdin: str) -> None:
    """On a fresh token, git's and kubectl's calls load what `loopauth token` loads, and answer."""
    oauth2_profile()
    check = (
        f"import sys\nfrom loopauth.cli import main\ncode = main({argv!r})\n"
        f"print(code, [m for m in {HEAVY!r} if m in sys.modules], file=sys.stderr)"
    )
    env = {k: v for k, v in os.environ.items() if k != "KUBERNETES_EXEC_INFO"}
    done = subprocess.run([sys.executable, "-c", check], input=stdin, env=env, capture_output=True, text=True)
    assert done.stderr.strip().splitlines()[-1] == "0 []"
    assert "the-access-token" in done.stdout
