"""A stand-in for the user's browser, run through ``BROWSER``: it plays the user on the demo provider.

``BROWSER="python tests/fake_browser.py [--deny] [--linger N] %s"``. With ``--linger`` it keeps running
afterwards, as a terminal browser such as w3m does until its user quits it.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time

from loopauth.demo import play_user


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--deny", action="store_true")
    parser.add_argument("--linger", type=float, default=0.0)
    parser.add_argument("url")
    args = parser.parse_args()
    try:
        asyncio.run(play_user(args.url, approve=not args.deny))
    except Exception as exc:
        # One write: loopauth shares this stderr, and its line must not land inside ours.
        os.write(2, f"fake browser: {exc}\n".encode())
    if args.linger:
        # Let go of loopauth's stdout/stderr pipes, so the test sees loopauth's own exit, not ours.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        time.sleep(args.linger)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
