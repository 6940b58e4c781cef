"""Run by tests/test_pipeline.py in a pytest of its own, with spies for the machine's browsers on PATH; not
collected by the suite itself (its name does not start with ``test_``).

A login that names no browser, in this process and in a child: each opens nothing (webbrowser finds no
browser), so nobody comes back and each times out.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from .conftest import Cli, demo_login_args, run_cli
from .demo_probes import DemoProvider
from .threaded_demos import in_a_thread


def test_a_login_without_a_browser_of_its_own_opens_none(cli: Cli) -> None:
    with in_a_thread(DemoProvider()) as demo, ThreadPoolExecutor(1) as pool:
        args = [*demo_login_args(demo), "--timeout", "5"]  # time for the provider's first answer under load
        # The two wait out their timeouts side by side (as two profiles: one login of a profile at a time).
        in_a_child = pool.submit(run_cli, *args, "--profile", "child")
        here = cli(*args)
        assert here.returncode == 4, here.stderr
        assert "No browser could be opened" in here.stderr
        child = in_a_child.result()
        assert child.returncode == 4, child.stderr
        assert "No browser could be opened" in child.stderr
