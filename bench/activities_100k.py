"""Benchmark: 100,000 email events of one portal logged to HubSpot, as a ratio to the bound that batch sizes
and the rate limit allow, with 150 ms latency on every sandbox call.

    .venv/bin/python bench/activities_100k.py
    .venv/bin/python bench/activities_100k.py --events 100000 --latency-ms 150 --per-ten-seconds 100

The sandbox runs in a process of its own (HubSpot is another machine). Setup (not timed): a scratch database (on DATABASE_URL's server, embedded when unset), one workspace with the
demo generator's leads, messages and events (the newest beyond --events removed), every event type logged;
the leads made HubSpot contacts by the contact sync with no latency and no limits; the app's event templates
made. Timed: `log_activities` (what the Dagster asset runs, here over every day at once) on an OAuth token,
the sandbox at 150 ms latency and 100 calls per rolling 10 s, the client's limiter in PostgreSQL. The bound:
emails (sent, replied) in batches of 100 and timeline events in batches of 100, at 10 calls per second.
A second run, which must log nothing, is timed too. Results also go to bench/results/activities_100k.json.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results" / "activities_100k.json"
ROOT = Path(__file__).resolve().parent.parent


@dataclass
class _Sandbox:
    base_url: str
    admin: Any
    private_app_token: str = "pat-local-demo"
    app_id: int = 1
    developer_api_key: str = "sandbox-developer-key"


@contextmanager
def _sandbox_process() -> Iterator[_Sandbox]:
    """The sandbox in a process of its own, as HubSpot is another machine: its work never competes with this
    process's threads for the interpreter lock."""
    import socket

    import httpx

    from hubspot_pipeline.sandbox.admin_client import SandboxAdmin

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "hubspot_pipeline.cli", "sandbox", "--port", str(port), "--no-rate-limits",
         "--access-token-ttl", "86400"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{base_url}/_sandbox/health", timeout=2)
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise SystemExit("the sandbox did not start") from None
                time.sleep(0.2)
        admin = SandboxAdmin(base_url, 1234567)
        try:
            yield _Sandbox(base_url, admin)
        finally:
            admin.close()
    finally:
        process.terminate()
        process.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--latency-ms", type=float, default=150.0)
    parser.add_argument("--per-ten-seconds", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()

    import sqlalchemy as sa
    from sync_resync import _server

    from hubspot_pipeline.activities.core.events import EVENT_TYPES
    from hubspot_pipeline.activities.core.targets import TIMELINE_TYPES
    from hubspot_pipeline.activities.engine import log_activities
    from hubspot_pipeline.activities.templates import DeveloperCredentials, ensure_templates
    from hubspot_pipeline.db import migrate
    from hubspot_pipeline.db.connection import get_engine
    from hubspot_pipeline.db.embedded import create_database, drop_database
    from hubspot_pipeline.demo.generate import DemoSize, load
    from hubspot_pipeline.hubspot import AccessToken, HubSpotClient, PostgresRateLimiter, PrivateAppToken
    from hubspot_pipeline.sync.engine import prepare, run_contact_sync
    from hubspot_pipeline.sync.properties import ensure_hubspot_properties

    server, suffix = _server()
    admin_url, name = f"{server}/postgres{suffix}", f"bench_activities_{uuid.uuid4().hex[:8]}"
    create_database(admin_url, name)
    url = f"{server}/{name}{suffix}"
    engine = get_engine(url)
    try:
        migrate.upgrade(engine=engine)
        load(url, DemoSize(workspaces=1, leads=args.events // 4 + 1000))
        with engine.begin() as conn:
            workspace_id = conn.execute(sa.text("SELECT id FROM workspaces")).scalar_one()
            conn.execute(
                sa.text(
                    "DELETE FROM email_events WHERE seq IN (SELECT seq FROM email_events ORDER BY seq OFFSET :n)"
                ),
                {"n": args.events},
            )
            conn.execute(
                sa.text(
                    "INSERT INTO hubspot_sync_config (workspace_id, activity_event_types) VALUES (:w, :types)"
                ),
                {"w": workspace_id, "types": list(EVENT_TYPES)},
            )
            by_type = dict(
                conn.execute(sa.text("SELECT event_type, count(*) FROM email_events GROUP BY 1")).all()
            )
        with engine.connect() as conn:
            conn.execute(sa.text("ANALYZE"))  # a bulk load leaves no statistics; a live database has them
        with _sandbox_process() as sandbox:
            with HubSpotClient(
                sandbox.base_url, PrivateAppToken(sandbox.private_app_token), max_concurrency=args.concurrency
            ) as client:
                ensure_hubspot_properties(prepare(engine, client, workspace_id))
                synced = run_contact_sync(engine, client, workspace_id, full=True, search_lag_seconds=-3)
            developer = DeveloperCredentials(sandbox.base_url, sandbox.app_id, sandbox.developer_api_key)
            ensure_templates(engine, developer, TIMELINE_TYPES)
            sandbox.admin.configure(
                rate_limits_enabled=True,
                ten_second_limit=args.per_ten_seconds,
                oauth_ten_second_limit=args.per_ten_seconds,
                faults={"latency_ms": args.latency_ms},
            )
            sandbox.admin.reset_counters()
            token = AccessToken(sandbox.admin.issue_oauth_token(expires_in=86_400)["access_token"])
            limiter = PostgresRateLimiter(
                engine, f"bench:{uuid.uuid4()}", per_ten_seconds=args.per_ten_seconds
            )
            with HubSpotClient(
                sandbox.base_url, token, limiter=limiter, max_concurrency=args.concurrency
            ) as client:
                started = time.monotonic()
                report = log_activities(engine, client, workspace_id, developer=developer)
                elapsed = time.monotonic() - started
                metrics = client.metrics.snapshot()
                again_started = time.monotonic()
                again = log_activities(engine, client, workspace_id, developer=developer)
                again_elapsed = time.monotonic() - again_started
            counters = sandbox.admin.counters()
            windows = sandbox.admin.rate_windows(limit=args.per_ten_seconds)
            timeline_in_hubspot = len(sandbox.admin.timeline_events())
    finally:
        engine.dispose()
        drop_database(admin_url, name)

    emails = by_type.get("sent", 0) + by_type.get("replied", 0)
    timeline = sum(by_type.values()) - emails
    bound_calls = -(-emails // 100) + -(-timeline // 100)
    bound = bound_calls / (args.per_ten_seconds / 10)
    figures = {
        "events": sum(by_type.values()),
        "events_by_type": by_type,
        "latency_ms": args.latency_ms,
        "per_ten_seconds": args.per_ten_seconds,
        "concurrency": args.concurrency,
        "load": os.getloadavg(),
        "setup_contact_sync_errors": synced.errors,
        "logged": report.counts["logged"],
        "failed": report.counts["failed"],
        "waiting_for_contact": report.counts["waiting_for_contact"],
        "emails": report.counts["emails"],
        "timeline_events": report.counts["timeline_events"],
        "timeline_events_in_hubspot": timeline_in_hubspot,
        "bound_calls": bound_calls,
        "bound_seconds": round(bound, 1),
        "elapsed_seconds": round(elapsed, 1),
        "ratio_to_bound": round(elapsed / bound, 3),
        "api_calls": report.api_calls,
        "calls_by_endpoint": {k: sum(v.values()) for k, v in counters["byEndpoint"].items()},
        "calls_by_status": counters["byStatus"],
        "max_calls_in_any_10s_window": windows["maxAttemptsInWindow"],
        "calls_over_limit": windows["attemptsOverLimit"],
        "limiter_wait_seconds": round(metrics["limiter_wait_seconds"], 1),
        "second_run_logged": again.counts["logged"],
        "second_run_api_calls": again.api_calls,
        "second_run_seconds": round(again_elapsed, 2),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(figures, indent=2) + "\n")
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
