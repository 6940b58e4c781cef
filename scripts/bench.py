"""Benchmark for issue 6: the fast paths other tools hit at every start.

Prints a table of medians and ratios against a bare-Python baseline (and
``gh auth token`` when gh is installed). Talks to nothing but the local disk.
Exit status is 0 even when a target is missed: timings on a shared 2-core box
are noisy, so the table is for a human to read, not a CI gate.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RUNS = 20
BIN = Path(sys.executable).parent


def _median_ms(cmd: list[str], env: dict[str, str]) -> float:
    samples = []
    for _ in range(RUNS):
        t0 = time.perf_counter()
        subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        samples.append((time.perf_counter() - t0) * 1000)
    return statistics.median(samples)


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, LOOPAUTH_CONFIG_DIR=tmp)
        profiles = Path(tmp, "profiles")
        profiles.mkdir()
        creds = {
            "profile": "default",
            "provider": "demo",
            "consumer_key": "ck",
            "consumer_secret": "cs",
            "oauth_token": "t",
            "oauth_token_secret": "ts",
            "user_id": "1",
            "screen_name": "u",
            "created_at": "2026-01-01T00:00:00Z",
        }
        path = profiles / "default.json"
        path.write_text(json.dumps(creds))
        os.chmod(path, 0o600)
        py = sys.executable
        bare = _median_ms([py, "-c", f"import json; json.load(open({str(path)!r}))"], env)
        load = _median_ms([py, "-c", "import loopauth; loopauth.load()"], env)
        token = _median_ms([str(BIN / "loopauth"), "token", "--json"], env)
        rows = [
            ("python json.load (baseline)", bare, 1.0, "-"),
            ("import loopauth; load()", load, load / bare, "<= 2.0x"),
            ("loopauth token --json", token, token / bare, "<= gh"),
        ]
        gh = shutil.which("gh")
        if gh:
            ghm = _median_ms([gh, "auth", "token"], env)
            rows.append(("gh auth token", ghm, ghm / bare, "-"))
        print(f"{'measurement':34} {'median ms':>10} {'vs baseline':>12}  target")
        for name, ms, ratio, target in rows:
            print(f"{name:34} {ms:10.1f} {ratio:11.2f}x  {target}")
        if not gh:
            print("(gh not installed: no gh comparison)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
