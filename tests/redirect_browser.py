"""A stand-in browser for providers that approve on GET: fetch the URL, following every redirect.

``BROWSER="python tests/redirect_browser.py %s"``. Like a real browser it shows an error page (here: drops
it) and exits 0, so loopauth never reports that no browser could be opened.
"""

from __future__ import annotations

import sys
import urllib.error
import urllib.request


def main() -> int:
    try:
        with urllib.request.urlopen(sys.argv[1], timeout=20) as response:
            response.read()
    except urllib.error.HTTPError as exc:
        exc.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
