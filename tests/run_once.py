"""Costly test set-up made once per test run, however many pytest-xdist workers need it."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Callable

import pytest


def once_per_run(tmp_path_factory: pytest.TempPathFactory, name: str, make: Callable[[], str]) -> str:
    """``make()``'s text, made once per test run however many pytest-xdist workers ask: the first makes it under
    a lock in the run's own temporary directory, the others wait for it and read it.

    For what is too costly to do on every worker. ``xdist_group`` alone is not enough: pytest 9.2 changed how
    node ids are stored, and pytest-xdist 3.8's loadgroup silently stopped grouping (pytest-dev/pytest-xdist#1386).
    """
    base = tmp_path_factory.getbasetemp()
    # Under xdist every worker's basetemp is a directory of the run's own; without it, the run's is basetemp.
    shared = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    made = shared / f"{name}.txt"
    with open(shared / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if made.exists():
            return made.read_text(encoding="utf-8")
        text = make()
        made.write_text(text, encoding="utf-8")
        return text
