"""One of the processes of test_shared_budget.py: spends a portal's budget as fast as its limiter allows,
general calls or searches (`--mode`) on three threads, until it has made `--calls` calls; prints its call counts
as JSON. A count, not a duration: on a loaded machine the run takes longer, it does not do less."""

from __future__ import annotations

import argparse
import json
import threading

from hubspot_pipeline.db.connection import get_engine
from hubspot_pipeline.hubspot import HubSpotClient, PostgresRateLimiter, PrivateAppToken


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--portal-key", required=True)
    parser.add_argument("--per-ten-seconds", type=int, default=100)
    parser.add_argument("--calls", type=int, required=True)
    parser.add_argument("--mode", choices=["general", "search"], default="general")
    args = parser.parse_args()

    limiter = PostgresRateLimiter(
        get_engine(args.database_url), args.portal_key, per_ten_seconds=args.per_ten_seconds
    )
    client = HubSpotClient(args.base_url, PrivateAppToken(args.token), limiter=limiter, max_concurrency=4)
    remaining = args.calls
    lock = threading.Lock()

    def take() -> bool:
        nonlocal remaining
        with lock:
            remaining -= 1
            return remaining >= 0

    def general() -> None:
        while take():
            next(client.list_pages("contacts", page_size=1))

    def search() -> None:
        while take():
            client.search("contacts", {"limit": 1, "after": "0"})

    target = general if args.mode == "general" else search
    threads = [threading.Thread(target=target) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    print(json.dumps(client.metrics.snapshot()["calls"]))


if __name__ == "__main__":
    main()
