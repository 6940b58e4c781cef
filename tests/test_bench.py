"""scripts/bench.py in its quick mode: it runs to the end and prints every row.

Never a timing assertion: figures on a shared 2-core box are noise, and the bench reports them for a person to
read. What is checked is that each measurement happened: every login succeeded, every due OAuth 2.0 token was
really refreshed (the bench checks that the printed token is new and stored, next to a rotated refresh token),
every junk request got the 4xx it should, and the login still completed afterwards.
"""

from __future__ import annotations

import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from .secret_service import missing_binaries

BENCH = Path(__file__).resolve().parent.parent / "scripts" / "bench.py"
HAS_BASELINE = importlib.util.find_spec("requests_oauthlib") is not None
LOGIN_ROWS = (
    "start -> browser launched",
    "start -> authorize page shown",
    "callback sent -> saved, exited",
    "  ... with a browser that blocks",
)
NUMBER = r"\d+\.\d"
# One bench run serves every test here: under pytest-xdist they stay on one worker, which runs it once.
pytestmark = pytest.mark.xdist_group("bench")


@pytest.fixture(scope="module")
def bench_output() -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LOOPAUTH_") and k != "BROWSER"}
    proc = subprocess.run(
        [sys.executable, str(BENCH), "--quick"],
        capture_output=True,
        text=True,
        env=env,
        stdin=subprocess.DEVNULL,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def _row(output: str, label: str) -> str:
    rows = [line for line in output.splitlines() if line.startswith(label)]
    assert len(rows) == 1, f"no single row {label!r} in:\n{output}"
    return rows[0]


def test_token_rows_are_kept(bench_output: str) -> None:
    labels = (
        "python json.load (baseline)",
        "import loopauth; load()",
        "loopauth token --json, OAuth 1.0a",
        "loopauth token --json, OAuth 2.0",
        "loopauth token --json, switched",
    )
    for label in labels:
        assert re.match(rf"{re.escape(label)}\s+{NUMBER}\s+\d+\.\d\dx", _row(bench_output, label))
    # The OAuth 2.0 row's target names its ratio to the OAuth 1.0a row.
    assert re.search(r"<= gh \(\d+\.\d\dx OAuth 1\.0a\)$", _row(bench_output, "loopauth token --json, OAuth 2.0"))
    assert "gh auth token" in bench_output or "(gh not installed: no gh comparison)" in bench_output
    # What git runs at every fetch and kubectl at every expiry, timed only once they printed the token.
    assert "(no credential rows" not in bench_output
    for label in ("loopauth credential git get", "loopauth credential kubectl"):
        row = _row(bench_output, label)
        assert re.match(rf"{re.escape(label)}\s+{NUMBER}\s+\d+\.\d\dx  <= gh \(\d+\.\d\dx token\)$", row)
    # A keyring profile's token, next to the file store's, wherever there is a Secret Service to run (the bench
    # starts a throwaway one with the tests' harness); elsewhere one line says why there is no such row.
    keyring_rows = [line for line in bench_output.splitlines() if line.startswith("loopauth token --json, keyring")]
    if keyring_rows:
        assert re.match(
            rf"loopauth token --json, keyring\s+{NUMBER}\s+\d+\.\d\dx  - \(\d+\.\d\dx the file store\)$",
            keyring_rows[0],
        )
    else:
        assert "(no keyring row: " in bench_output
        assert not missing_binaries(), "a Secret Service could run here, but the bench has no keyring row"


def test_verb_rows_are_paired_with_gh_or_the_floor(bench_output: str) -> None:
    """header (both protocols), exec, status, list and --version, each with its ratio to `gh auth token` where gh
    is installed, else to the bare-Python floor, and `token --json` beside them for scale."""
    gh = "gh auth token" in bench_output
    reference = "gh auth token" if gh else "python json.load (floor)"
    # The verb table is the one headed "vs gh" (or "vs floor"); with gh, the token table has a gh row too.
    header = "vs gh" if gh else "vs floor"
    table = bench_output[bench_output.index(header) :].split("\n\n")[0]
    assert re.match(rf"{re.escape(reference)}\s+{NUMBER}\s+1\.00x  -$", _row(table, reference + " "))
    verdict = ": (met|missed)" if gh else ""
    for label, allowance in (
        # OAuth 1.0a signatures are oauthlib's, and its import is allowed for, measured in the same run.
        ("loopauth header, OAuth 1.0a", rf" \+ oauthlib's import \({NUMBER} ms\)"),
        ("loopauth header, OAuth 2.0", ""),
        ("loopauth exec -- true", ""),
        ("loopauth status", ""),
        ("loopauth list", ""),
        ("loopauth --version", ""),
    ):
        target = rf"<= 1\.0x gh{allowance}{verdict}"
        assert re.match(rf"{re.escape(label)}\s+{NUMBER}\s+\d+\.\d\dx  {target}$", _row(bench_output, label))
    assert re.match(rf"\s+import oauthlib\.oauth1 alone\s+{NUMBER}\s+\d+\.\d\dx  -$", _row(table, "  import oauthlib"))
    if not gh:
        assert "(gh not installed: the verbs are shown against the bare-Python floor)" in bench_output


def test_refresh_rows(bench_output: str) -> None:
    """--quick refreshes twice; each run counts only if the token really changed and was stored."""
    for label in ("token --json, fresh (no refresh)", "token --json, due (one refresh)"):
        assert re.match(rf"{re.escape(label)}\s+{NUMBER}\s", _row(bench_output, label))
    over = _row(bench_output, "  refresh over the fresh read")
    assert re.match(rf"\s+refresh over the fresh read\s+{NUMBER}\s.*<= 200 \(150 round trip \+ 50\): ", over)
    assert re.search(r"\s-?\d+\.\d\s+<= 50: (met|MISSED)$", _row(bench_output, "  of which loopauth's own"))
    assert _row(bench_output, "refreshes ok (rotated and saved)").endswith("2/2  all: met")
    assert "refresh run" not in bench_output
    assert "OAuth 2.0 login failed" not in bench_output


def test_loopauth_login_rows(bench_output: str) -> None:
    for label in LOGIN_ROWS:
        # The loopauth column holds a figure, never "failed".
        assert re.match(rf"{re.escape(label)}\s+{NUMBER}\s", _row(bench_output, label))
    assert re.match(r"runs ok \(exit 0, token saved\)\s+2/2\s", _row(bench_output, "runs ok"))
    assert "failed:" not in bench_output


def test_junk_rows(bench_output: str) -> None:
    assert re.search(r"\s\d+\s+>= 1500: ", _row(bench_output, "junk answered per second"))
    peak = _row(bench_output, "peak RSS (VmHWM), MiB")
    assert re.search(rf"\s{NUMBER}\s+< 80: ", peak) or "n/a" in peak
    # Not timings: every junk request got its 4xx, the login kept waiting, and then it completed.
    assert _row(bench_output, "junk answered as expected (4xx)").endswith("all: met")
    assert _row(bench_output, "still waiting after the junk").endswith("yes")
    assert _row(bench_output, "login completed after the junk").endswith("exit 0 and saved: met")


def test_baseline_rows(bench_output: str) -> None:
    if not HAS_BASELINE:
        for label in LOGIN_ROWS:
            assert re.match(rf"{re.escape(label)}\s+{NUMBER}\s+n/a\s", _row(bench_output, label))
        assert "requests-oauthlib not installed" in bench_output
        pytest.skip("requests-oauthlib (the bench extra) is not installed here, so the bench ran without its baseline")
    for label in LOGIN_ROWS:
        assert re.match(rf"{re.escape(label)}\s+{NUMBER}\s.*\s{NUMBER}\s+\d+\.\d\dx", _row(bench_output, label))
    assert re.match(r"runs ok \(exit 0, token saved\)\s+2/2\s+2/2$", _row(bench_output, "runs ok"))
