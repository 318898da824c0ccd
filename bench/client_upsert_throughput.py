"""Benchmark: a 50,000-contact batch upsert through HubSpotClient against the sandbox over HTTP, with 150 ms
latency on every call and a budget of 100 calls per 10 s, as a ratio to the bound.

    .venv/bin/python bench/client_upsert_throughput.py
    .venv/bin/python bench/client_upsert_throughput.py --contacts 50000 --latency-ms 150 --per-ten-seconds 100

The bound: 50,000 contacts are 500 batch calls of 100; at 100 calls per 10 s that is 50 s. The client's
rate limiter lives in PostgreSQL (a scratch database on DATABASE_URL's server or the embedded one, dropped
at the end), exactly as in production. Reports the elapsed time, the ratio to the bound, calls made, the
sandbox's busiest 10-second window and any 429. Results also go to bench/results/client_upsert_throughput.json.
"""

from __future__ import annotations

import argparse
import json
import os
import time
import uuid
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results" / "client_upsert_throughput.json"


def _scratch_database() -> tuple[str, str, str]:
    from hubspot_pipeline.db import migrate
    from hubspot_pipeline.db.connection import get_engine, libpq_url
    from hubspot_pipeline.db.embedded import create_database
    from hubspot_pipeline.settings import get_settings

    configured = os.environ.get("DATABASE_URL")
    if configured:
        base = libpq_url(configured)
    else:
        from hubspot_pipeline.db.embedded import start_embedded

        base = start_embedded(get_settings().data_dir)
    server, _, query = base.partition("?")
    server = server.rsplit("/", 1)[0]
    suffix = f"?{query}" if query else ""
    admin_url = f"{server}/postgres{suffix}"
    name = f"bench_client_{uuid.uuid4().hex[:8]}"
    create_database(admin_url, name)
    url = f"{server}/{name}{suffix}"
    migrate.upgrade(engine=get_engine(url))
    return admin_url, name, url


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--contacts", type=int, default=50_000)
    parser.add_argument("--latency-ms", type=float, default=150.0)
    parser.add_argument("--per-ten-seconds", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()

    from hubspot_pipeline.db.connection import get_engine
    from hubspot_pipeline.db.embedded import drop_database
    from hubspot_pipeline.hubspot import HubSpotClient, PostgresRateLimiter, PrivateAppToken
    from hubspot_pipeline.sandbox.testing import run_sandbox

    admin_url, name, url = _scratch_database()
    engine = get_engine(url)
    records = [{"email": f"bench{i}@example.com", "firstname": f"B{i}"} for i in range(args.contacts)]
    calls = -(-args.contacts // 100)
    bound = calls / (args.per_ten_seconds / 10)
    try:
        with run_sandbox(
            ten_second_limit=args.per_ten_seconds, faults={"latency_ms": args.latency_ms}
        ) as sandbox:
            limiter = PostgresRateLimiter(
                engine, f"bench:{uuid.uuid4()}", per_ten_seconds=args.per_ten_seconds
            )
            with HubSpotClient(
                sandbox.base_url,
                PrivateAppToken(sandbox.private_app_token),
                limiter=limiter,
                max_concurrency=args.concurrency,
            ) as client:
                started = time.monotonic()
                result = client.batch_upsert("contacts", records, id_property="email")
                elapsed = time.monotonic() - started
                metrics = client.metrics.snapshot()
            windows = sandbox.admin.rate_windows(limit=args.per_ten_seconds)
            counters = sandbox.admin.counters()
    finally:
        engine.dispose()
        drop_database(admin_url, name)

    figures = {
        "contacts": args.contacts,
        "latency_ms": args.latency_ms,
        "per_ten_seconds": args.per_ten_seconds,
        "concurrency": args.concurrency,
        "batch_calls": calls,
        "bound_seconds": round(bound, 1),
        "elapsed_seconds": round(elapsed, 1),
        "ratio_to_bound": round(elapsed / bound, 3),
        "written": len(result.by_key),
        "row_errors": len(result.errors),
        "calls_by_status": counters["byStatus"],
        "max_calls_in_any_10s_window": windows["maxAttemptsInWindow"],
        "calls_over_limit": windows["attemptsOverLimit"],
        "limiter_wait_seconds": round(metrics["limiter_wait_seconds"], 1),
        "mean_call_seconds": round(next(iter(metrics["mean_latency_seconds"].values())), 3),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(figures, indent=2) + "\n")
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
