"""Benchmark: a GET /metrics scrape with 1,000 workspaces' figures: its time and its size; and one alert
evaluation over the same workspaces.

    .venv/bin/python bench/metrics_scrape.py --workspaces 1000 --scrapes 30

Works in a database of its own on the project's server (DATABASE_URL, or the embedded PostgreSQL), created,
migrated and dropped by the bench. Each workspace is connected to a portal of its own and has what a busy
deployment shows at a scrape: 1,000 runs recorded through `record_run` (HubSpot calls over 8 endpoints and 4
statuses, records both ways, latencies), the portal's budget rows (60 grants in the rolling window, a daily
count), 3 webhook events and 5 lead changes waiting, 100 lead changes already synced, 10 rows in the retry
index and 2 dead, 1 firing alert. `hubspot-pipeline serve` (2 workers) answers over HTTP; reported: scrape p50
and p95, bytes, samples. Results go to bench/results/metrics_scrape.json as well.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
TOKEN = "bench-metrics-token-" + uuid.uuid4().hex


def _server_url() -> str:
    from hubspot_pipeline.db.connection import libpq_url
    from hubspot_pipeline.db.embedded import start_embedded
    from hubspot_pipeline.settings import get_settings

    configured = os.environ.get("DATABASE_URL")
    return libpq_url(configured) if configured else start_embedded(get_settings().data_dir)


def _with_database(url: str, name: str) -> str:
    base, _, query = url.partition("?")
    return f"{base.rsplit('/', 1)[0]}/{name}" + (f"?{query}" if query else "")


def _populate(engine: sa.Engine, count: int) -> None:
    from hubspot_pipeline.hubspot.metrics import ClientMetrics
    from hubspot_pipeline.monitoring import Figures
    from hubspot_pipeline.monitoring.catalogue import LATENCY, RECORDS_FAILED, RECORDS_SYNCED
    from hubspot_pipeline.monitoring.runs import FinishedRun, record_run

    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO workspaces (name, slug) SELECT 'bench ' || i, 'bench-' || i FROM generate_series(1, :n) i"
            ),
            {"n": count},
        )
        conn.execute(
            sa.text(
                "INSERT INTO hubspot_integrations (workspace_id, hub_id, access_token, refresh_token) "
                "SELECT id, (900000000 + row_number() OVER (ORDER BY slug))::text, 'bench', 'bench' FROM workspaces"
            )
        )
        conn.execute(
            sa.text(
                'INSERT INTO hubspot_rate_limit_buckets (portal_key, policy, window_ms, "limit", grants, '
                "window_start, used) SELECT 'hub:' || hub_id, p.policy, p.window_ms, p.lim, "
                "CASE WHEN p.policy = 'general' THEN (SELECT array_agg(now() - g * interval '100 ms') "
                "FROM generate_series(1, 60) g) ELSE '{}' END, now(), CASE WHEN p.policy = 'daily' THEN 400000 ELSE 0 END "
                "FROM hubspot_integrations, (VALUES ('general', 10250, 110), ('daily', 86400000, 500000)) "
                "AS p(policy, window_ms, lim)"
            )
        )
        conn.execute(
            sa.text(
                "INSERT INTO leads (workspace_id, email) SELECT w.id, 'l' || i || '@' || w.slug || '.example' "
                "FROM workspaces w, generate_series(1, 105) i"
            )
        )
        # The first 100 changes of each workspace are synced: its outbox cursor is past them.
        conn.execute(
            sa.text(
                "INSERT INTO sync_cursors (workspace_id, stream, cursor) SELECT workspace_id, 'lead_outbox', "
                "to_jsonb((array_agg(id ORDER BY id))[100]) FROM lead_changes GROUP BY workspace_id"
            )
        )
        conn.execute(
            sa.text(
                "INSERT INTO webhook_events (portal_id, workspace_id, subscription_id, event_id, object_id, "
                "occurred_at, subscription_type, payload) SELECT hub_id::bigint, workspace_id, 1, e, e, hub_id::bigint * 10 + e, "
                "'contact.propertyChange', '{}' FROM hubspot_integrations, generate_series(1, 3) e"
            )
        )
        conn.execute(
            sa.text(
                "INSERT INTO hubspot_sync_status (workspace_id, entity_type, entity_id, status, error_message, "
                "attempts, dead_at) SELECT w.id, 'contact', gen_random_uuid(), 'error', 'bench', 3, "
                "CASE WHEN i > 10 THEN now() END FROM workspaces w, generate_series(1, 12) i"
            )
        )
        conn.execute(
            sa.text(
                "INSERT INTO alerts (key, rule, severity, workspace_id, status, summary, first_seen_at, last_seen_at) "
                "SELECT 'error_rate:' || id, 'error_rate', 'warning', id, 'firing', 'bench', now(), now() FROM workspaces"
            )
        )
        workspace_ids = list(conn.execute(sa.text("SELECT id FROM workspaces")).scalars())
    endpoints = [
        "POST /crm/v3/objects/contacts/batch/upsert",
        "POST /crm/v3/objects/contacts/batch/update",
        "POST /crm/v3/objects/contacts/batch/read",
        "POST /crm/v3/objects/contacts/search",
        "POST /crm/v3/objects/companies/batch/create",
        "POST /crm/v4/associations/contacts/companies/batch/associate/default",
        "GET /crm/v3/properties/contacts",
        "POST /oauth/v1/token",
    ]
    for number, workspace_id in enumerate(workspace_ids):
        client = ClientMetrics()
        for endpoint in endpoints:
            for status, calls in (("200", 20), ("429", 1), ("502", 1), ("network", number % 2)):
                for _ in range(calls):
                    client.record_call(endpoint, status, 0.1)
        client.record_rate_limited("TEN_SECONDLY_ROLLING")
        client.record_error("sync")
        figures = Figures()
        figures.count(RECORDS_SYNCED, 80, object_type="contact", direction="to_hubspot")
        figures.count(RECORDS_SYNCED, 20, object_type="contact", direction="from_hubspot")
        figures.count(RECORDS_FAILED, 1, object_type="contact", direction="to_hubspot")
        figures.observe_many(LATENCY, [1.5, 4.0, 12.0, 45.0], path="lead_change_to_hubspot")
        figures.observe_many(LATENCY, [2.0, 6.0], path="hubspot_edit_to_lead")
        record_run(
            engine,
            FinishedRun(
                str(uuid.uuid4()),
                "contacts_sync_job",
                workspace_id,
                "succeeded",
                trigger="schedule",
                client=client,
                records_synced=100,
                records_failed=1,
                figures=figures,
            ),
        )


def _serve(port: int, url: str) -> subprocess.Popen:
    binary = Path(sys.executable).parent / "hubspot-pipeline"
    process = subprocess.Popen(
        [str(binary), "serve", "--port", str(port), "--workers", "2"],
        env={**os.environ, "DATABASE_URL": url, "METRICS_TOKEN": TOKEN},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/integrations/hubspot/health", timeout=1).is_success:
                return process
        except httpx.TransportError:
            time.sleep(0.2)
    os.killpg(process.pid, signal.SIGKILL)
    raise RuntimeError("serve did not start")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--workspaces", type=int, default=1000)
    parser.add_argument("--scrapes", type=int, default=30)
    args = parser.parse_args()

    import socket

    from prometheus_client.parser import text_string_to_metric_families

    from hubspot_pipeline.db import migrate
    from hubspot_pipeline.db.connection import get_engine
    from hubspot_pipeline.db.embedded import create_database, drop_database
    from hubspot_pipeline.monitoring.cycle import evaluate_alerts
    from hubspot_pipeline.monitoring.rules import Thresholds

    server = _server_url()
    admin = _with_database(server, "postgres")
    name = f"hp_bench_metrics_{uuid.uuid4().hex[:8]}"
    create_database(admin, name)
    url = _with_database(server, name)
    engine = get_engine(url)
    process = None
    try:
        migrate.upgrade(engine=engine)
        started = time.perf_counter()
        _populate(engine, args.workspaces)
        populated = time.perf_counter() - started
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        process = _serve(port, url)
        headers = {"Authorization": f"Bearer {TOKEN}"}
        times, sizes = [], []
        with httpx.Client(timeout=60) as http:
            http.get(f"http://127.0.0.1:{port}/metrics", headers=headers)  # warm-up: imports, connections
            for _ in range(args.scrapes):
                begin = time.perf_counter()
                response = http.get(f"http://127.0.0.1:{port}/metrics", headers=headers)
                times.append(time.perf_counter() - begin)
                response.raise_for_status()
                sizes.append(len(response.content))
        text = response.text
        samples = sum(len(family.samples) for family in text_string_to_metric_families(text))
        budget = text.count("hubspot_pipeline_rate_budget_used_ratio{")
        begin = time.perf_counter()
        report = evaluate_alerts(engine, Thresholds(), None)
        evaluation = time.perf_counter() - begin
        times.sort()
        result = {
            "workspaces": args.workspaces,
            "scrapes": args.scrapes,
            "scrape_p50_ms": round(statistics.median(times) * 1000, 1),
            "scrape_p95_ms": round(times[int(len(times) * 0.95) - 1] * 1000, 1),
            "bytes": sizes[-1],
            "gzip_bytes": len(__import__("gzip").compress(response.content)),
            "samples": samples,
            "rate_budget_samples": budget,
            "alert_evaluation_ms": round(evaluation * 1000, 1),
            "alerts_firing": report.firing,
            "populate_seconds": round(populated, 1),
            "load_average": os.getloadavg(),
        }
        print(json.dumps(result, indent=2))
        out = ROOT / "bench" / "results"
        out.mkdir(exist_ok=True)
        (out / "metrics_scrape.json").write_text(json.dumps(result, indent=2) + "\n")
    finally:
        if process is not None and process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=20)
        engine.dispose()
        drop_database(admin, name)


if __name__ == "__main__":
    main()
