"""The README's "Using the credentials" commands, run as written (through bash) against the demo provider."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from .demo_probes import DemoProvider
from .test_demo_serve import shell
from .test_tools import _login

README = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")


def readme_commands() -> list[str]:
    """The `$ ` lines of the section's first console block, continuation lines joined, comments dropped."""
    section = README.split("## Using the credentials", 1)[1]
    block = section.split("```console\n", 1)[1].split("```", 1)[0].replace("\\\n", " ")
    return [re.sub(r"\s+# .*$", "", line[2:]).strip() for line in block.splitlines() if line.startswith("$ ")]


async def test_the_readme_commands_work_against_the_demo(demo: DemoProvider, tmp_path: Path) -> None:
    """Every command of "Using the credentials", with the demo's address for X's, exits 0."""
    await _login(demo)
    tweet = demo.api_state.post("to delete")
    (tmp_path / "cat.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    commands = readme_commands()
    assert len(commands) >= 10
    for command in commands:
        if command.startswith("curl") and shutil.which("curl") is None:
            continue
        command = re.sub(r"https://(api\.x\.com|upload\.twitter\.com)", demo.base_url, command)
        command = command.replace("/2/tweets/1234", f"/2/tweets/{tweet}")
        result = await shell(f"cd {tmp_path} && {command}")
        assert result.returncode == 0, f"{command}\n{result.stderr}"
        if command.startswith("curl"):
            assert '"screen_name": "loopauth_demo"' in result.stdout  # curl exits 0 on a 401 too
        if command.startswith("loopauth logout"):
            assert "Revoked the token at demo" in result.stderr
    assert tweet not in demo.api_state.tweets
