"""providers.toml's table names follow the profile-name pattern, and `loopauth providers` prints nothing a terminal
acts on: a name is printed by messages, `providers` and completion scripts, so it must hold no shell code or escape."""

from __future__ import annotations

from pathlib import Path

import pytest

from loopauth.cli.names import provider_names
from loopauth.store import CredentialStore

from .conftest import Cli

ENDPOINTS = (
    'request_token_url = "https://e.example/rt"\n'
    'authorize_url = "https://e.example/a"\n'
    'access_token_url = "https://e.example/at"\n'
)
PATTERN = "use 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit"


def _write(config_dir: Path, text: str) -> Path:
    config_dir.mkdir(parents=True, exist_ok=True)
    path = config_dir / "providers.toml"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("header", "shown"),
    [
        ('["$(touch${IFS}pwned)"]', "'$(touch${IFS}pwned)'"),
        ('["\\u001b[31mred"]', "'\\x1b[31mred'"),
        ('["a b"]', "'a b'"),
        ('[".hidden"]', "'.hidden'"),
        (f'["{"n" * 65}"]', repr("n" * 64 + "…")),
    ],
)
def test_a_provider_name_unlike_a_profile_name_is_refused_with_its_line(
    cli: Cli, config_dir: Path, header: str, shown: str
) -> None:
    """Exit 2, one line `providers.toml:LINE: invalid provider name …` (escaped), from every command that reads it."""
    path = _write(config_dir, f"[fine]\n{ENDPOINTS}\n{header}\n{ENDPOINTS}")
    for argv in (("providers",), ("login", "--provider", "fine", "--no-browser")):
        result = cli(*argv)
        assert result.returncode == 2
        assert result.stderr == f"loopauth: error: {path}:6: invalid provider name {shown}: {PATTERN}\n"
        assert "\x1b" not in result.stderr


def test_names_like_a_profiles_are_accepted(config_dir: Path) -> None:
    """Letters, digits, '.', '_' and '-' (x-oauth2 is one), quoted or bare: listed as before."""
    _write(config_dir, f"[\"my-corp.v2_1\"]\n{ENDPOINTS}\n['Quoted9']\n{ENDPOINTS}")
    assert {"my-corp.v2_1", "Quoted9", "x-oauth2"} <= set(provider_names(CredentialStore()))


def test_providers_prints_no_control_character_from_providers_toml(cli: Cli, config_dir: Path) -> None:
    """An endpoint, a scope or an authorize parameter with terminal escapes is listed cleaned (--json escapes)."""
    _write(
        config_dir,
        "[mine]\n"
        'authorize_url = "https://e.example/a\\u001b[2J"\n'
        'token_url = "https://e.example/t"\n'
        'scopes = ["read\\u001b]52;c;QUJD\\u0007"]\n'
        'authorize_params = { x = "\\u009b31m" }\n',
    )
    result = cli("providers")
    assert result.returncode == 0, result.stderr
    assert "mine (OAuth 2.0; providers.toml)" in result.stdout
    assert "https://e.example/a [2J" in result.stdout
    for control in ("\x1b", "\x07", "\x9b"):
        assert control not in result.stdout
    as_json = cli("providers", "--json").stdout
    assert "\\u001b" in as_json
    assert "\x1b" not in as_json
