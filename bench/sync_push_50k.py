"""Benchmark: an incremental contact sync that pushes 50,000 changed leads to HubSpot, as a ratio to the
rate-limit bound, with 150 ms latency on every sandbox call.

    .venv/bin/python bench/sync_push_50k.py
    .venv/bin/python bench/sync_push_50k.py --leads 50000 --latency-ms 150 --per-ten-seconds 100

Setup (not timed): a scratch database (on DATABASE_URL's server, embedded when unset), one workspace with
the demo generator's leads, synced to the sandbox with no latency and no limits, then synced once more so the
search cursor is past the sync's own writes; then every lead's title is edited (50,000 outbox rows). Timed:
`run_contact_sync` (the same stages the Dagster job runs) with the sandbox at 150 ms latency and 100 calls per
rolling 10 s, the client's limiter in PostgreSQL. The bound counts every call the timed run made, from the
sandbox's counters: the general-budget calls (50,000 updates are 500 batch calls of 100; any company, association
or read call adds its own) at 10 per second, or the searches at 5 per second if they took longer. Results also
go to bench/results/sync_push_50k.json.
"""

from __future__ import annotations

import argparse
import json
import time
import uuid
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results" / "sync_push_50k.json"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--leads", type=int, default=50_000)
    parser.add_argument("--latency-ms", type=float, default=150.0)
    parser.add_argument("--per-ten-seconds", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()

    import sqlalchemy as sa
    from sync_resync import _server

    from hubspot_pipeline.db import migrate
    from hubspot_pipeline.db.connection import get_engine
    from hubspot_pipeline.db.embedded import create_database, drop_database
    from hubspot_pipeline.demo.generate import DemoSize, load
    from hubspot_pipeline.hubspot import HubSpotClient, PostgresRateLimiter, PrivateAppToken
    from hubspot_pipeline.sandbox.testing import run_sandbox
    from hubspot_pipeline.sync.engine import prepare, run_contact_sync
    from hubspot_pipeline.sync.properties import ensure_hubspot_properties

    server, suffix = _server()
    admin_url, name = f"{server}/postgres{suffix}", f"bench_push_{uuid.uuid4().hex[:8]}"
    create_database(admin_url, name)
    url = f"{server}/{name}{suffix}"
    engine = get_engine(url)
    try:
        migrate.upgrade(engine=engine)
        load(url, DemoSize(workspaces=1, leads=args.leads, events=False))
        with engine.connect() as conn:
            workspace_id = conn.execute(sa.text("SELECT id FROM workspaces")).scalar_one()
        with run_sandbox(rate_limits_enabled=False) as sandbox:
            token = PrivateAppToken(sandbox.private_app_token)
            with HubSpotClient(sandbox.base_url, token, max_concurrency=args.concurrency) as client:
                ensure_hubspot_properties(prepare(engine, client, workspace_id))
                # Bulk-loaded leads are not in the outbox: the first sync is a full one, as after connecting.
                first = run_contact_sync(engine, client, workspace_id, full=True, search_lag_seconds=-3)
                time.sleep(2)
                run_contact_sync(engine, client, workspace_id, search_lag_seconds=-3)  # reads its own echoes
            with engine.begin() as conn:
                conn.execute(
                    sa.text(
                        "UPDATE leads SET title = coalesce(title, '') || ' (updated)' WHERE workspace_id = :w"
                    ),
                    {"w": workspace_id},
                )
            sandbox.admin.configure(
                rate_limits_enabled=True,
                ten_second_limit=args.per_ten_seconds,
                faults={"latency_ms": args.latency_ms},
            )
            sandbox.admin.reset_counters()
            limiter = PostgresRateLimiter(
                engine, f"bench:{uuid.uuid4()}", per_ten_seconds=args.per_ten_seconds
            )
            with HubSpotClient(
                sandbox.base_url, token, limiter=limiter, max_concurrency=args.concurrency
            ) as client:
                started = time.monotonic()
                report = run_contact_sync(engine, client, workspace_id, search_lag_seconds=0)
                elapsed = time.monotonic() - started
                metrics = client.metrics.snapshot()
            counters = sandbox.admin.counters()
            windows = sandbox.admin.rate_windows(limit=args.per_ten_seconds)
    finally:
        engine.dispose()
        drop_database(admin_url, name)

    # The bound counts every call the timed run made, not only the contact updates it was built for: each
    # call on the general budget (contact, company and association writes, their reads) takes one of the
    # portal's per_ten_seconds slots, and the searches have their own budget of 5 per second.
    by_endpoint = {k: sum(v.values()) for k, v in counters["byEndpoint"].items()}
    searches = sum(n for k, n in by_endpoint.items() if k.endswith("/search"))
    general = sum(by_endpoint.values()) - searches
    writes = {
        k: n
        for k, n in by_endpoint.items()
        if k.startswith(("PATCH", "DELETE", "PUT"))
        or (k.startswith("POST") and not k.endswith(("/search", "/batch/read")))
    }
    bound = max(general / (args.per_ten_seconds / 10), searches / 5)
    figures = {
        "leads": args.leads,
        "latency_ms": args.latency_ms,
        "per_ten_seconds": args.per_ten_seconds,
        "concurrency": args.concurrency,
        "setup_first_sync_errors": first.errors,
        "pushed": report.counts["push"],
        "synced": report.counts["synced"],
        "errors": report.errors,
        "stage_seconds": report.stage_seconds,
        "write_calls": sum(writes.values()),
        "write_calls_by_endpoint": writes,
        "general_budget_calls": general,
        "search_calls": searches,
        "bound_seconds": round(bound, 1),
        "elapsed_seconds": round(elapsed, 1),
        "ratio_to_bound": round(elapsed / bound, 3),
        "api_calls": report.api_calls,
        "calls_by_endpoint": {k: sum(v.values()) for k, v in counters["byEndpoint"].items()},
        "calls_by_status": counters["byStatus"],
        "max_calls_in_any_10s_window": windows["maxAttemptsInWindow"],
        "calls_over_limit": windows["attemptsOverLimit"],
        "limiter_wait_seconds": round(metrics["limiter_wait_seconds"], 1),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(figures, indent=2) + "\n")
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
