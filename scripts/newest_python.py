"""The newest CPython, 3.12 or later, on this machine: `make test-newest` runs the unit tests with it.

Prints ``MAJOR.MINOR PATH`` (``3.13 /root/.pyenv/versions/3.13.0/bin/python3``) and exits 0. With none
found it prints nothing on stdout, one line on stderr saying why, and still exits 0: a machine without
a newer Python is no failure. It exits non-zero only if it is itself broken.

Candidates are every ``python3.N`` on PATH and every pyenv version's ``bin/python3`` (pyenv keeps those
off PATH unless selected). Each is run and asked what it is, because a name proves nothing: pyenv puts
a shim for each installed version on PATH that fails unless that version is selected. What is printed
is the interpreter's own ``sys.executable``, so a shim that does work resolves to the real binary.

    python scripts/newest_python.py
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

MINIMUM = (3, 12)
"""`make test` already runs on the default python3 (3.11 here); older ones would add nothing."""

# Pre-release and free-threaded builds are left out: the dependencies' wheels (aiohttp, cryptography) often do
# not exist for them yet, and a failed build there says nothing about loopauth.
PROBE = (
    "import json, sys, sysconfig; print(json.dumps([sys.implementation.name, list(sys.version_info[:4]),"
    " bool(sysconfig.get_config_var('Py_GIL_DISABLED')), sys.executable]))"
)
VERSIONED_NAME = re.compile(r"python3\.\d+")


def candidates(environ: dict[str, str]) -> list[Path]:
    """python3.N on PATH, then each pyenv version's python3; each file once."""
    found: list[Path] = []
    for directory in environ.get("PATH", "").split(os.pathsep):
        if directory and Path(directory).is_dir():
            found += sorted(p for p in Path(directory).iterdir() if VERSIONED_NAME.fullmatch(p.name))
    pyenv_root = Path(environ.get("PYENV_ROOT") or Path.home() / ".pyenv")
    found += sorted(pyenv_root.glob("versions/*/bin/python3"))
    unique: dict[str, Path] = {}
    for path in found:
        if os.access(path, os.X_OK):
            unique.setdefault(os.path.realpath(path), path)
    return list(unique.values())


def probe(python: Path) -> tuple[tuple[int, ...], str] | None:
    """(version, sys.executable) of a final, GIL-ful CPython; None for anything else, or one that does not run."""
    try:
        done = subprocess.run([python, "-c", PROBE], capture_output=True, text=True, timeout=30, check=False)
        name, (major, minor, micro, level), free_threaded, executable = json.loads(done.stdout)
    except (OSError, subprocess.TimeoutExpired, ValueError, TypeError):
        return None  # not an interpreter that answers, or not one that runs at all (a pyenv shim not selected)
    if done.returncode != 0 or name != "cpython" or level != "final" or free_threaded:
        return None
    return (major, minor, micro), str(executable)


def dotted(version: tuple[int, ...]) -> str:
    return ".".join(map(str, version))


def main() -> int:
    found = [answer for answer in map(probe, candidates(dict(os.environ))) if answer]
    newest = max(found, default=None, key=lambda answer: answer[0])
    if newest is None or newest[0][:2] < MINIMUM:
        have = "none ran" if newest is None else f"the newest is {dotted(newest[0])} at {newest[1]}"
        print(
            f"make test-newest: skipped, no CPython {dotted(MINIMUM)} or later here "
            f"(looked for python3.N on PATH and in pyenv's versions; {have})",
            file=sys.stderr,
        )
        return 0
    version, executable = newest
    print(f"{dotted(version[:2])} {executable}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
