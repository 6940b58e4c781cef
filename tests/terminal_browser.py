"""A stand-in for a terminal browser (w3m, lynx) run through ``BROWSER``: it owns the terminal until it is done.

``BROWSER="python tests/terminal_browser.py [--pid FILE] [--hold [--cooked] | --idle] [--stubborn] KEYS_FILE %s"``:
it reads one line typed on its stdin (the terminal it shares with loopauth, as w3m reads its keys), records it in
KEYS_FILE, then plays the user on the demo provider and exits, the way a person quits the browser once the page
says they are logged in.

- ``--pid FILE``: write its process id there first.
- ``--hold``: after that line, put the terminal in raw mode (as w3m does to draw its screen), play the user, then
  stay until one more key is typed (the person quitting the browser), and exit leaving raw mode behind (as a
  browser that crashes or is killed does).
- ``--idle``: raw mode at once, never play the user; stay until a key is typed (a browser nobody looks at).
- ``--cooked``: with ``--hold``, leave the terminal's modes alone (a browser known by its name only).
- ``--stubborn``: ignore SIGTERM and SIGHUP, so only SIGKILL ends it.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import select
import signal
import sys
import tty
from pathlib import Path

from loopauth.demo import play_user

WAIT = 30.0
"""Every wait is bounded, so that a loopauth that steals the keys or never lets go fails a test, not hangs it."""


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pid", type=Path)
    parser.add_argument("--hold", action="store_true")
    parser.add_argument("--idle", action="store_true")
    parser.add_argument("--cooked", action="store_true")
    parser.add_argument("--stubborn", action="store_true")
    parser.add_argument("keys_file", type=Path)
    parser.add_argument("url")
    args = parser.parse_args()
    if args.pid is not None:
        args.pid.write_text(str(os.getpid()))
    if args.stubborn:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
    if args.idle:
        tty.setraw(0)
        select.select([sys.stdin], [], [], WAIT)
        return 0
    typed, _, _ = select.select([sys.stdin], [], [], 10)
    args.keys_file.write_text(sys.stdin.readline() if typed else "")
    if args.hold and not args.cooked:
        tty.setraw(0)
    asyncio.run(play_user(args.url))
    if args.hold:
        select.select([sys.stdin], [], [], WAIT)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
