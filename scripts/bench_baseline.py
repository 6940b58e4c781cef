"""The hand-written baseline for scripts/bench.py: an OAuth 1.0a loopback login with requests-oauthlib and
http.server, the way a competent developer writes one without loopauth.

    python scripts/bench_baseline.py --consumer-key K --consumer-secret S --request-token-url U \\
        --authorize-url U --access-token-url U --out FILE [--timeout 20]

Bind the callback server first (an ephemeral port on 127.0.0.1, so the callback URL is known), fetch the
request token, open the authorize page with ``webbrowser`` (in a thread, so a browser that blocks cannot
stall it), serve until the one callback for our request
token comes in, exchange it for the access token over the same requests session (so the connection is
reused, as loopauth's is), and write the credentials as JSON, mode 0600, as durably as loopauth does: temp
file, fsync, atomic rename, fsync of the directory. Needs the ``bench`` extra (requests-oauthlib).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
import webbrowser
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from requests_oauthlib import OAuth1Session

PAGE = b"<!doctype html><title>Logged in</title><p>Logged in. You can close this tab and return to the terminal.</p>"


class CallbackServer(HTTPServer):
    request_token = ""
    params: dict[str, str] | None = None


class CallbackHandler(BaseHTTPRequestHandler):
    server: CallbackServer

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        params = {k: v[0] for k, v in parse_qs(parts.query).items()}
        # Only a callback for our own request token counts; anything else must not end the login.
        mine = self.server.request_token in (params.get("oauth_token"), params.get("denied"))
        if parts.path != "/callback" or not mine:
            self.send_error(404)
            return
        self.server.params = params
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(PAGE)))
        self.end_headers()
        self.wfile.write(PAGE)

    def log_message(self, format: str, *args: object) -> None:
        pass  # the request line holds the verifier


def save(path: Path, creds: dict[str, str]) -> None:
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(creds, f, indent=2)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    dfd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)


def open_browser(url: str) -> None:
    if not webbrowser.open(url):
        print(f"Open this URL in a browser: {url}", file=sys.stderr)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--consumer-key", required=True)
    p.add_argument("--consumer-secret", required=True)
    p.add_argument("--request-token-url", required=True)
    p.add_argument("--authorize-url", required=True)
    p.add_argument("--access-token-url", required=True)
    p.add_argument("--out", required=True, type=Path)
    p.add_argument("--timeout", type=float, default=20.0)
    args = p.parse_args()

    with CallbackServer(("127.0.0.1", 0), CallbackHandler) as server:
        callback = f"http://127.0.0.1:{server.server_port}/callback"
        oauth = OAuth1Session(args.consumer_key, client_secret=args.consumer_secret, callback_uri=callback)
        request_token = oauth.fetch_request_token(args.request_token_url)
        server.request_token = request_token["oauth_token"]
        url = oauth.authorization_url(args.authorize_url)
        # In a thread: a terminal browser named in BROWSER (w3m, lynx) stays in the foreground until its page
        # is done, which needs the callback served first.
        threading.Thread(target=open_browser, args=(url,), daemon=True).start()
        deadline = time.monotonic() + args.timeout
        while server.params is None:
            left = deadline - time.monotonic()
            if left <= 0:
                print("timed out waiting for the browser", file=sys.stderr)
                return 4
            server.timeout = left
            server.handle_request()
        params = server.params
    if "denied" in params:
        print("access denied", file=sys.stderr)
        return 3
    tokens = oauth.fetch_access_token(args.access_token_url, verifier=params["oauth_verifier"])
    creds = {
        "consumer_key": args.consumer_key,
        "consumer_secret": args.consumer_secret,
        "oauth_token": tokens["oauth_token"],
        "oauth_token_secret": tokens["oauth_token_secret"],
        "user_id": tokens.get("user_id", ""),
        "screen_name": tokens.get("screen_name", ""),
    }
    save(args.out, creds)
    print(f"Logged in as @{creds['screen_name']}; saved to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
