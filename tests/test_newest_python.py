"""scripts/newest_python.py, which picks the Python for `make test-newest`, against fake interpreters.

Each fake is a shell script answering the script's probe with a fixed reply, laid out as a machine
would have them: python3.N on PATH (one a pyenv shim that fails, as an unselected version's does) and
pyenv's versions/*/bin/python3.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "newest_python.py"


def fake_python(path: Path, version: str, *, name: str = "cpython", level: str = "final", nogil: bool = False) -> Path:
    major, minor, micro = map(int, version.split("."))
    reply = json.dumps([name, [major, minor, micro, level], nogil, str(path)])
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!/bin/sh\necho '{reply}'\n")
    path.chmod(0o755)
    return path


def failing_shim(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text('#!/bin/sh\necho "pyenv: $(basename $0): command not found" >&2\nexit 127\n')
    path.chmod(0o755)


def newest(tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {"PATH": str(tmp_path / "bin"), "PYENV_ROOT": str(tmp_path / "pyenv")}
    return subprocess.run([sys.executable, SCRIPT], capture_output=True, text=True, env=env, timeout=60, check=False)


def test_picks_the_newest_final_cpython_that_runs(tmp_path: Path) -> None:
    """Shims that fail, pre-releases, free-threaded builds and other implementations are passed over."""
    versions = tmp_path / "pyenv" / "versions"
    fake_python(tmp_path / "bin" / "python3.11", "3.11.7")
    fake_python(tmp_path / "bin" / "python3.12", "3.12.4")
    failing_shim(tmp_path / "bin" / "python3.15")
    fake_python(tmp_path / "bin" / "python3.12-config", "3.99.0")  # not an interpreter's name
    chosen = fake_python(versions / "3.13.1" / "bin" / "python3", "3.13.1")
    fake_python(versions / "3.13.0" / "bin" / "python3", "3.13.0")
    fake_python(versions / "3.14.0a1" / "bin" / "python3", "3.14.0", level="alpha")
    fake_python(versions / "3.13.1t" / "bin" / "python3", "3.13.1", nogil=True)
    fake_python(versions / "pypy3.14-7.3" / "bin" / "python3", "3.14.0", name="pypy")
    result = newest(tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"3.13 {chosen}\n"


def test_none_new_enough_is_one_line_saying_why_and_no_failure(tmp_path: Path) -> None:
    fake_python(tmp_path / "bin" / "python3.11", "3.11.7")
    failing_shim(tmp_path / "bin" / "python3.13")
    result = newest(tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1, result.stderr
    assert "skipped, no CPython 3.12 or later" in result.stderr
    assert f"the newest is 3.11.7 at {tmp_path / 'bin' / 'python3.11'}" in result.stderr


def test_real_machine_answer_is_a_working_python() -> None:
    """On this machine, whatever it finds runs and is the version it says."""
    result = subprocess.run([sys.executable, SCRIPT], capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    if not result.stdout:
        assert "skipped" in result.stderr
        return
    version, executable = result.stdout.rstrip("\n").split(" ", 1)
    ran = subprocess.run(
        [executable, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert ran.stdout.strip() == version
    assert tuple(map(int, version.split("."))) >= (3, 12)
