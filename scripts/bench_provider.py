"""The demo provider for scripts/bench.py, in a process of its own so it never competes with the bench's clocks.

    python scripts/bench_provider.py [--delay 0.15]

Prints one JSON line (the endpoints and the consumer key and secret), then serves on a free loopback port
until its standard input closes: the bench holds the pipe, so the provider never outlives it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys

from loopauth.demo import DemoProvider


async def serve(delay: float) -> None:
    async with DemoProvider(delay=delay) as demo:
        p = demo.provider
        info = {
            "request_token_url": p.request_token_url,
            "authorize_url": p.authorize_url,
            "access_token_url": p.access_token_url,
            "consumer_key": demo.consumer_key,
            "consumer_secret": demo.consumer_secret,
            "delay": delay,
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
