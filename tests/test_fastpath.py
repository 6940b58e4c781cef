"""Issue 6: the paths other tools hit at every start stay free of the heavy imports."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = ("aiohttp", "oauthlib", "asyncio")
CREDS = {
    "profile": "default",
    "provider": "demo",
    "consumer_key": "ck",
    "consumer_secret": "cs",
    "oauth_token": "t",
    "oauth_token_secret": "ts",
    "user_id": "1",
    "screen_name": "u",
}


@pytest.mark.parametrize(
    "code",
    [
        "import loopauth; loopauth.load()",
        "from loopauth.cli import main; main(['token', '--json'])",
    ],
)
def test_fast_paths_import_nothing_heavy(tmp_path: Path, code: str) -> None:
    profiles = tmp_path / "profiles"
    profiles.mkdir()
    f = profiles / "default.json"
    f.write_text(json.dumps(CREDS))
    f.chmod(0o600)
    check = f"{code}\nimport sys\nprint([m for m in {HEAVY!r} if m in sys.modules])"
    out = subprocess.run(
        [sys.executable, "-c", check],
        env=dict(os.environ, LOOPAUTH_CONFIG_DIR=str(tmp_path)),
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert out.strip().splitlines()[-1] == "[]"
