"""A stand-in for a terminal browser (w3m, lynx) run through ``BROWSER``: it owns the terminal until it is done.

``BROWSER="python tests/terminal_browser.py KEYS_FILE %s"``: it reads one line typed on its stdin (the terminal
it shares with loopauth, as w3m reads its keys), records it in KEYS_FILE, then plays the user on the demo
provider and exits, the way a person quits the browser once the page says they are logged in.
"""

from __future__ import annotations

import asyncio
import select
import sys
from pathlib import Path

from loopauth.demo import play_user


def main() -> int:
    keys_file, url = sys.argv[1], sys.argv[2]
    # Bounded, so that a loopauth that steals the keys fails the test instead of hanging it.
    typed, _, _ = select.select([sys.stdin], [], [], 10)
    Path(keys_file).write_text(sys.stdin.readline() if typed else "")
    asyncio.run(play_user(url))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
