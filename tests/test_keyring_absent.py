"""The keyring store where there is no keyring: no Secret Service at all (exit 6), or no keyring package (exit 2).

Never a silent fallback: nothing is written anywhere, the login stops before it binds a port, asks the
provider or opens a browser, and the one line says why and names the alternative. These need neither
gnome-keyring nor dbus (``no_secret_service`` only takes the session bus away).
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

import loopauth
from loopauth.errors import EXIT_LOCAL, EXIT_USAGE, StoreError

from .conftest import Cli, demo_login_args, run_cli, run_cli_async
from .demo_probes import DemoProvider
from .secret_service import SecretServiceEnv
from .test_store import SECRET, make_creds

# tests/plaintext_keyring.py writes here. Only child processes may import it: keyring keeps every backend class
# it has seen, for good, and would pick it (priority 100) in every later test of this process.
PLAINTEXT_KEYRING_FILE = "LOOPAUTH_TEST_PLAINTEXT_KEYRING"
NO_BUS = "no Secret Service: there is no session D-Bus here (DBUS_SESSION_BUS_ADDRESS is unset)"
EXTRA = "pip install 'loopauth[keyring]'"


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("loopauth: error:")]


def write_keyring_profile(config_dir: Path, name: str = "work") -> Path:
    """A keyring profile's file, as another machine (one with a keyring) wrote it."""
    profiles = config_dir / "profiles"
    profiles.mkdir(parents=True, mode=0o700, exist_ok=True)
    config_dir.chmod(0o700)
    data = {
        key: value
        for key, value in make_creds(name).to_dict().items()
        if key not in ("consumer_secret", "oauth_token", "oauth_token_secret")
    }
    data.update(store="keyring", keyring={"service": "loopauth", "entry": f"{name}/0123456789ab"})
    path = profiles / f"{name}.json"
    path.write_text(json.dumps(data))
    path.chmod(0o600)
    return path


# -- no usable keyring: exit 6, nothing written ----------------------------------------------------------------------


async def test_no_secret_service_stops_the_login_before_any_port_provider_browser_or_file(
    no_secret_service: SecretServiceEnv, demo: DemoProvider, config_dir: Path, tmp_path: Path
) -> None:
    """Headless: exit 6, one line naming the cause and `--store file`. The callback port is busy, and the error is
    not about it: the keyring is checked before anything is bound; no request token, no browser, no config dir."""
    marker = tmp_path / "browser-ran"
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        args = demo_login_args(demo, "--store", "keyring")
        args[args.index("--port") + 1] = str(busy.getsockname()[1])
        result = await run_cli_async(*args, env={"BROWSER": f"touch {marker} %s"})
    assert result.returncode == EXIT_LOCAL
    assert error_lines(result.stderr) == [
        f"loopauth: error: cannot use the OS keyring (Secret Service): {NO_BUS}; nothing was saved: --store file "
        "keeps the tokens in a plaintext file instead"
    ]
    assert demo.calls["request_token"] == 0
    assert not marker.exists()
    assert not config_dir.exists()
    assert list(no_secret_service.root.rglob("*")) == [p for p in no_secret_service.root.rglob("*") if p.is_dir()]


async def test_the_library_refuses_the_same_way(
    no_secret_service: SecretServiceEnv, demo: DemoProvider, config_dir: Path
) -> None:
    with pytest.raises(StoreError, match="no session D-Bus") as raised:
        await loopauth.login_async(
            provider=demo.provider,
            consumer_key=demo.consumer_key,
            consumer_secret=demo.consumer_secret,
            port=0,
            open_browser=False,
            storage="keyring",
            say=lambda _: None,
        )
    assert raised.value.exit_code == EXIT_LOCAL
    assert demo.calls["request_token"] == 0
    assert not config_dir.exists()


@pytest.mark.parametrize("source", ["env", "config.toml"])
def test_a_default_keyring_store_names_where_it_was_chosen(
    no_secret_service: SecretServiceEnv, config_dir: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch, source: str
) -> None:
    """$LOOPAUTH_STORE=keyring, or `store = "keyring"` in config.toml: the same refusal, saying which chose it."""
    if source == "env":
        monkeypatch.setenv("LOOPAUTH_STORE", "keyring")
        chosen = "$LOOPAUTH_STORE"
    else:
        config_dir.mkdir(mode=0o700)
        (config_dir / "config.toml").write_text('store = "keyring"\n')
        chosen = str(config_dir / "config.toml")
    result = cli("demo", "--auto")
    assert result.returncode == EXIT_LOCAL
    [line] = error_lines(result.stderr)
    assert f"{NO_BUS} (chosen by {chosen}); nothing was saved" in line
    assert sorted(p.name for p in config_dir.rglob("*")) == ([] if source == "env" else ["config.toml"])


def test_a_plaintext_keyring_backend_is_no_fallback(
    no_secret_service: SecretServiceEnv, tmp_path: Path, config_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PYTHON_KEYRING_BACKEND names a plaintext backend (as keyrings.alt's would be): still exit 6, and it is never
    written, though keyring's own selection would use it."""
    target = tmp_path / "plaintext-keyring.json"
    monkeypatch.setenv(PLAINTEXT_KEYRING_FILE, str(target))
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "plaintext_keyring.Keyring")
    monkeypatch.setenv("PYTHONPATH", str(Path(__file__).parent))
    chosen = subprocess.run(
        [sys.executable, "-c", "import keyring; print(type(keyring.get_keyring()).__module__)"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert chosen.stdout.strip() == "plaintext_keyring"  # keyring's own selection would use it
    result = run_cli("demo", "--auto", "--store", "keyring")
    assert result.returncode == EXIT_LOCAL
    assert NO_BUS in result.stderr
    assert not target.exists()
    assert not config_dir.exists()


def test_a_keyring_profile_where_there_is_no_keyring(no_secret_service: SecretServiceEnv, config_dir: Path) -> None:
    """A keyring profile on a box without a session bus: `list` still shows it; `token`, `move` and `logout` are
    exit 6 saying why, and change nothing."""
    path = write_keyring_profile(config_dir)
    before = path.read_bytes()
    listed = run_cli("list")
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.splitlines()[1].split()[-1] == "keyring"
    for args in (["token", "--profile", "work"], ["move", "--profile", "work", "--to", "file"]):
        result = run_cli(*args)
        assert result.returncode == EXIT_LOCAL, args
        assert error_lines(result.stderr) == [f"loopauth: error: cannot use the OS keyring (Secret Service): {NO_BUS}"]
        assert result.stdout == ""
    logout = run_cli("logout", "--profile", "work")
    assert logout.returncode == EXIT_LOCAL
    assert f"{NO_BUS}; nothing was deleted (to forget profile 'work' anyway, remove {path})" in logout.stderr
    assert path.read_bytes() == before


def test_a_move_to_no_keyring_leaves_the_file(no_secret_service: SecretServiceEnv, config_dir: Path, cli: Cli) -> None:
    loopauth.CredentialStore().save(make_creds())
    path = config_dir / "profiles" / "work.json"
    before = path.read_bytes()
    result = cli("move", "--profile", "work", "--to", "keyring")
    assert result.returncode == EXIT_LOCAL
    assert NO_BUS in result.stderr
    assert path.read_bytes() == before
    assert SECRET in path.read_text()


# -- no keyring package: exit 2 naming the extra -----------------------------------------------------------------------

# `python -c` with an import hook that makes keyring and what it brings impossible to import, as if not installed.
WITHOUT_KEYRING = """
import sys

class NotInstalled:
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in ("keyring", "secretstorage", "jeepney"):
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None

sys.meta_path.insert(0, NotInstalled())
from loopauth.cli import main
sys.exit(main(sys.argv[1:]))
"""


def without_keyring(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", WITHOUT_KEYRING, *args],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=60,
        env=dict(os.environ),
    )


def test_without_the_keyring_package_the_keyring_store_is_exit_2_naming_the_extra(config_dir: Path) -> None:
    """`login --store keyring`, `token` of a keyring profile and `move --to keyring`: exit 2 naming the extra, nothing
    written. `list` and file profiles need no keyring."""
    login = without_keyring("demo", "--auto", "--store", "keyring")
    assert login.returncode == EXIT_USAGE, login.stderr
    assert error_lines(login.stderr) == [f"loopauth: error: the keyring store needs the keyring package: {EXTRA}"]
    assert not config_dir.exists()

    path = write_keyring_profile(config_dir)
    token = without_keyring("token", "--profile", "work")
    assert token.returncode == EXIT_USAGE
    assert error_lines(token.stderr) == [
        f"loopauth: error: profile 'work' (in the keyring store) needs the keyring package: {EXTRA}"
    ]
    listed = without_keyring("list")
    assert listed.returncode == 0, listed.stderr
    assert "keyring" in listed.stdout

    loopauth.CredentialStore().save(make_creds("plain"))
    assert without_keyring("token", "--profile", "plain", "--field", "oauth_token").stdout == "tok-1\n"
    move = without_keyring("move", "--profile", "plain", "--to", "keyring")
    assert move.returncode == EXIT_USAGE
    assert EXTRA in move.stderr
    assert path.exists()
    assert SECRET in (config_dir / "profiles" / "plain.json").read_text()


def test_the_extra_is_named_in_process_too(config_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same UsageError from the library, with the modules hidden the way test_auth.py hides requests."""
    for name in [m for m in sys.modules if m.partition(".")[0] in ("keyring", "secretstorage", "jeepney")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "keyring", None)
    with pytest.raises(loopauth.UsageError, match=r"needs the keyring package: pip install 'loopauth\[keyring\]'"):
        loopauth.CredentialStore().save(make_creds(), kind="keyring")
    assert not (config_dir / "profiles" / "work.json").exists()


# -- the choice itself ---------------------------------------------------------------------------------------------


def test_store_values_are_checked_where_they_are_given(
    config_dir: Path, cli: Cli, monkeypatch: pytest.MonkeyPatch
) -> None:
    bad_flag = cli("demo", "--auto", "--store", "vault")
    assert bad_flag.returncode == EXIT_USAGE
    assert "argument --store: invalid choice: 'vault' (choose from 'file', 'keyring')" in bad_flag.stderr

    monkeypatch.setenv("LOOPAUTH_STORE", "vault")
    bad_env = cli("demo", "--auto")
    assert bad_env.returncode == EXIT_USAGE
    assert error_lines(bad_env.stderr) == ["loopauth: error: $LOOPAUTH_STORE must be file or keyring, got 'vault'"]
    monkeypatch.delenv("LOOPAUTH_STORE")

    config_dir.mkdir(mode=0o700)
    config = config_dir / "config.toml"
    config.write_text('# where new logins go\nstore = "vault"\n')
    bad_config = cli("demo", "--auto")
    assert bad_config.returncode == EXIT_USAGE
    assert error_lines(bad_config.stderr) == [
        f"loopauth: error: {config}:2: store must be file or keyring, got 'vault'"
    ]
    config.write_text('store = "file"\nstor = "keyring"\n')
    unknown = cli("demo", "--auto")
    assert unknown.returncode == EXIT_USAGE
    assert error_lines(unknown.stderr) == [f"loopauth: error: {config}:2: unknown setting 'stor' (known: store)"]
    assert sorted(p.name for p in config_dir.iterdir()) == ["config.toml"]

    config.write_text('store = "file"\n')
    assert cli("demo", "--auto").returncode == 0
    assert loopauth.CredentialStore().where("demo").kind == "file"
