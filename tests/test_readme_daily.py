"""The README's "Every day" commands, run as written (through bash) against the demo provider, in order."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
from pathlib import Path

from loopauth.models import Credentials
from loopauth.store import CredentialStore

from .demo_probes import DemoProvider
from .test_demo_serve import BIN
from .test_tools import _demo_table, _login, _write_providers

README = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")

MY_BOT = """\
import os, sys
# What a script that reads its keys from the environment sees: the token pair under one set of names.
names = ("TWITTER_ACCESS_TOKEN", "TWITTER_ACCESS_TOKEN_SECRET") if len(sys.argv) > 1 else (
    "LOOPAUTH_OAUTH_TOKEN", "LOOPAUTH_OAUTH_TOKEN_SECRET")
missing = [name for name in names if not os.environ.get(name)]
sys.exit(f"missing {missing}" if missing else 0)
"""


def daily_commands() -> list[tuple[str, list[str]]]:
    """Each `$ ` line of the section's first console block, with the lines printed after it."""
    section = README.split("## Every day", 1)[1]
    block = section.split("```console\n", 1)[1].split("```", 1)[0]
    commands: list[tuple[str, list[str]]] = []
    for line in block.splitlines():
        if line.startswith("$ "):
            commands.append((re.sub(r"\s+# .*$", "", line[2:]).strip(), []))
        else:
            commands[-1][1].append(line)
    return commands


async def _bash(command: str, cwd: Path, env: dict[str, str], stdin: bytes | None) -> subprocess.CompletedProcess[str]:
    proc = await asyncio.create_subprocess_exec(
        "bash", "-c", command, cwd=cwd, env=env,
        stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(stdin), 60)
    assert proc.returncode is not None
    return subprocess.CompletedProcess(command, proc.returncode, out.decode(), err.decode())


async def test_the_every_day_commands_work_against_the_demo(
    demo: DemoProvider, config_dir: Path, tmp_path: Path
) -> None:
    """With 'work' logged in to the demo (so active) and `[x]` aimed at it: every command exits 0 and prints what
    the README shows it printing (the demo's names for X's), in order."""
    await _login(demo, "--profile", "work")
    await _login(demo, "--profile", "minted")  # tokens for `add`, as if from another tool
    minted = CredentialStore().load("minted")
    assert isinstance(minted, Credentials)
    CredentialStore().delete("minted")
    _write_providers(config_dir, _demo_table(demo, name="x"))
    (tmp_path / "my_bot.py").write_text(MY_BOT)
    env = {
        **os.environ,
        "PATH": f"{BIN}:{os.environ.get('PATH', '')}",
        "LOOPAUTH_CONSUMER_KEY": demo.consumer_key,
        "LOOPAUTH_CONSUMER_SECRET": demo.consumer_secret,
    }
    commands = daily_commands()
    assert [c.split()[1] for c, _ in commands if c.startswith("loopauth ")] == [
        "status", "status", "add", "switch", "exec", "logout",
    ]  # fmt: skip
    for command, shown in commands:
        tokens = f"{minted.oauth_token}\n{minted.oauth_token_secret}\n".encode() if " add " in command else None
        # my_bot.py is told which names to expect: --map's, or token --env's.
        run = command + (" mapped" if "--map" in command else "")
        result = await _bash(run, tmp_path, env, tokens)
        assert result.returncode == 0, f"{command}\n{result.stdout}{result.stderr}"
        printed = result.stdout + result.stderr
        for line in shown:
            # The README's account and provider are X's; the demo's are its own.
            expected = line.replace("twitter", "x").replace("@yourbot", "@loopauth_demo").split(" (user id")[0]
            if line.startswith(("  ", "Access token")):
                continue  # status's details and the prompts (stdin is no terminal here)
            assert expected.split("…")[0] in printed, f"{command}: {expected!r} not in\n{printed}"
    assert CredentialStore().names() == ["work"]
    assert CredentialStore().active() == "work"
