"""The demo providers for scripts/bench.py, in a process of their own so they never compete with the bench's clocks.

    python scripts/bench_provider.py [--delay 0.15]

Starts the OAuth 1.0a demo and the OAuth 2.0 demo, each on a free loopback port and each adding ``--delay`` to
every API call, prints one JSON line (the OAuth 1.0a endpoints with the consumer key and secret; under
"oauth2", the OAuth 2.0 endpoints, the public client id and the scopes), then serves until its standard input
closes: the bench holds the pipe, so the providers never outlive it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys

from loopauth.demo import DemoProvider
from loopauth.demo.oauth2 import DemoOAuth2Provider


async def serve(delay: float) -> None:
    async with DemoProvider(delay=delay) as demo, DemoOAuth2Provider(delay=delay) as demo2:
        p = demo.provider
        e = demo2.endpoints
        info = {
            "request_token_url": p.request_token_url,
            "authorize_url": p.authorize_url,
            "access_token_url": p.access_token_url,
            "consumer_key": demo.consumer_key,
            "consumer_secret": demo.consumer_secret,
            "delay": delay,
            "oauth2": {
                "authorize_url": e.authorize_url,
                "token_url": e.token_url,
                "verify_url": e.users_me_url,
                "revoke_url": e.revoke_url,
                "client_id": demo2.public_client_id,
                "scopes": list(demo2.provider.scopes),
            },
        }
        print(json.dumps(info), flush=True)
        # Blocks in a thread until the bench closes our stdin (or exits): the event loop keeps serving meanwhile.
        await asyncio.to_thread(sys.stdin.read)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--delay", type=float, default=0.15, help="simulated round trip of each API call, seconds")
    args = parser.parse_args()
    asyncio.run(serve(args.delay))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
