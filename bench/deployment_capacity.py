"""Benchmark: capacity of the deployment topology, N workspaces syncing through the daemon while HubSpot edits
arrive by webhook (issue #19, part 3).

    .venv/bin/python bench/deployment_capacity.py --workspaces 50 --leads 2000
    .venv/bin/python bench/deployment_capacity.py --workspaces 200 --leads 2000 --max-minutes 10

The stack of `tests/topology/stack.py`: the sandbox (a free portal's limits: 100 calls per 10 s, 5 searches
per second, per portal), a code server, the daemon, the webserver and the API with two workers, each a process
of its own with its own DAGSTER_HOME, on a scratch database (DATABASE_URL's server, else the embedded one);
`dagster.yaml` as in the repository (one run per workspace, the run queue every second) with production's bound
of 10 concurrent runs (`--max-concurrent-runs`), and HubSpot's budget shared by every process through
PostgreSQL (`hubspot/limiter.py`).

N workspaces of `--leads` demo leads each (bulk-loaded, no outbox rows) are connected over OAuth through the
API, each to a portal of its own, with the app's webhooks pointed at the API (creations and every pulled
property, as `make dev` subscribes). Then every workspace asks for a full sync (`POST /sync/contacts`), which
the daemon's sync-request sensor turns into runs; the contacts those runs create echo back as webhooks. From
the first contact on, `--edits-per-second` job titles are edited in HubSpot's UI on synced contacts, each
timed to its lead. Measured: runs per minute; per run, queue wait (created to launched), start overhead
(launched to its step starting: process start, imports, instance) and step time; PostgreSQL connections
(pg_stat_activity of the database, sampled every second); database size per lead and per activity row (an
unconnected workspace of demo leads with their email events, loaded to size those tables); the webhook queue's
drain time (last sync run finished to no unprocessed webhook event); HubSpot calls per workspace. Stops at
`--max-minutes` of syncing even if workspaces are left (the figures say how many finished). Results go to
bench/results/deployment_capacity_<N>x<leads>.json.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import os
import random
import signal
import statistics
import sys
import threading
import time
import uuid
from pathlib import Path

import httpx
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "topology"))

from stack import Stack, scratch_database, wait_until  # noqa: E402

ACTIVITY_LEADS = 5_000  # an unconnected workspace with events, to size the activity tables


def _percentile(values: list[float], share: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, max(0, round(len(ordered) * share) - 1))], 2)


def _summary(values: list[float]) -> dict[str, float | None]:
    return {
        "p50": _percentile(values, 0.5),
        "p95": _percentile(values, 0.95),
        "max": round(max(values), 2) if values else None,
    }


def _load(url: str, workspaces: int, leads: int) -> tuple[list[tuple[uuid.UUID, str]], dict]:
    from hubspot_pipeline.db.connection import get_engine
    from hubspot_pipeline.demo.generate import DemoSize, load

    started = time.monotonic()
    load(url, DemoSize(workspaces=workspaces, leads=workspaces * leads, events=False), seed=11)
    loaded = load(url, DemoSize(workspaces=1, leads=ACTIVITY_LEADS, events=True), seed=12)
    with get_engine(url).connect() as conn:
        rows = conn.execute(
            sa.text("SELECT id, slug FROM workspaces WHERE slug LIKE 'demo-11-%' ORDER BY slug")
        ).all()
    return [(row.id, row.slug) for row in rows], {
        "load_seconds": round(time.monotonic() - started, 1),
        "activity_sizing_rows": {
            "email_messages": loaded.email_messages,
            "email_events": loaded.email_events,
        },
    }


def _keys(url: str, workspace_ids: list[uuid.UUID]) -> dict[uuid.UUID, str]:
    from hubspot_pipeline.api import keys
    from hubspot_pipeline.db.connection import get_engine

    with get_engine(url).begin() as conn:
        return {
            workspace_id: keys.issue_key(conn, workspace_id, "bench").key for workspace_id in workspace_ids
        }


def _table_sizes(conn: sa.Connection) -> dict[str, dict[str, int]]:
    rows = conn.execute(
        sa.text(
            "SELECT n.nspname AS schema, c.relname AS name, pg_total_relation_size(c.oid) AS bytes, "
            "c.reltuples::bigint AS estimate FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE c.relkind = 'r' AND n.nspname IN ('public', 'dagster')"
        )
    ).all()
    return {f"{r.schema}.{r.name}": {"bytes": r.bytes, "rows_estimate": r.estimate} for r in rows}


def _count(conn: sa.Connection, table: str, where: str = "") -> int:
    return conn.execute(sa.text(f"SELECT count(*) FROM {table} {where}")).scalar_one()


class Sampler(threading.Thread):
    """pg_stat_activity of the database every second: connections by state, and the most at once."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.samples: list[dict[str, int]] = []
        self.stop_event = threading.Event()

    def run(self) -> None:
        import psycopg

        from hubspot_pipeline.db.connection import libpq_url

        with psycopg.connect(libpq_url(self.url), autocommit=True) as conn:
            while not self.stop_event.is_set():
                rows = conn.execute(
                    "SELECT coalesce(state, 'none'), count(*) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid() GROUP BY 1"
                ).fetchall()
                sample = {state: count for state, count in rows}
                sample["total"] = sum(count for _state, count in rows)
                self.samples.append(sample)
                self.stop_event.wait(1)

    def figures(self) -> dict[str, float | int]:
        totals = [s["total"] for s in self.samples] or [0]
        active = [s.get("active", 0) for s in self.samples] or [0]
        return {
            "samples": len(self.samples),
            "max_total": max(totals),
            "mean_total": round(statistics.mean(totals), 1),
            "max_active": max(active),
            "mean_active": round(statistics.mean(active), 1),
        }


class Editor(threading.Thread):
    """Edits job titles in HubSpot's UI at a steady rate on synced contacts; times each to its lead."""

    def __init__(self, stack: Stack, url: str, hubs: dict[uuid.UUID, int], per_second: float) -> None:
        super().__init__(daemon=True)
        self.stack, self.url, self.hubs, self.interval = stack, url, hubs, 1 / per_second
        self.stop_event = threading.Event()
        self.pending: dict[uuid.UUID, tuple[str, float]] = {}
        self.latencies: list[float] = []
        self.sent = 0
        self.last_sent_at = 0.0

    def run(self) -> None:
        from hubspot_pipeline.db.connection import get_engine

        engine = get_engine(self.url)
        http = httpx.Client(timeout=30)
        rng = random.Random(5)
        workspaces = sorted(self.hubs)
        next_at = time.monotonic()
        while not self.stop_event.is_set():
            self._arrivals(engine)
            if time.monotonic() >= next_at:
                next_at += self.interval
                with engine.connect() as conn:  # a synced contact of a workspace drawn at random
                    row = conn.execute(
                        sa.text(
                            "SELECT entity_id, hubspot_id, workspace_id FROM hubspot_sync_status "
                            "WHERE workspace_id = :workspace AND entity_type = 'contact' AND status = 'synced' "
                            "AND hubspot_id IS NOT NULL OFFSET floor(random() * 100) LIMIT 1"
                        ),
                        {"workspace": rng.choice(workspaces)},
                    ).first()
                if row is not None and row.entity_id not in self.pending:
                    value = f"Edited {rng.randrange(10**9)}"
                    hub = self.hubs[row.workspace_id]
                    http.post(
                        f"{self.stack.sandbox_url}/_sandbox/portals/{hub}/objects/contacts/{row.hubspot_id}/ui-edit",
                        json={"properties": {"jobtitle": value}},
                    ).raise_for_status()
                    self.pending[row.entity_id] = (value, time.monotonic())
                    self.sent += 1
                    self.last_sent_at = time.monotonic()
            time.sleep(0.1)
        http.close()

    def _arrivals(self, engine: sa.Engine) -> None:
        if not self.pending:
            return
        with engine.connect() as conn:
            titles = dict(
                conn.execute(
                    sa.text("SELECT id, title FROM leads WHERE id = ANY(:ids)"), {"ids": list(self.pending)}
                ).all()
            )
        now = time.monotonic()
        for lead_id, (value, sent_at) in list(self.pending.items()):
            if titles.get(lead_id) == value:
                self.latencies.append(now - sent_at)
                del self.pending[lead_id]

    def drain(self, engine: sa.Engine, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        while self.pending and time.monotonic() < deadline:
            self._arrivals(engine)
            time.sleep(0.25)


def _run_timings(conn: sa.Connection, since: float) -> list[dict[str, float]]:
    """Per finished run, from its events in Dagster's storage (epoch seconds; run events keep their old
    PIPELINE_* names there): enqueued, launched (RUN_STARTING), its step's start and end, ended."""
    rows = conn.execute(
        sa.text(
            """
            SELECT r.run_id, r.status,
                   min(extract(epoch FROM e.timestamp)) FILTER (WHERE e.dagster_event_type = 'PIPELINE_ENQUEUED')
                       AS enqueued,
                   min(extract(epoch FROM e.timestamp)) FILTER (WHERE e.dagster_event_type = 'PIPELINE_STARTING')
                       AS launched,
                   min(extract(epoch FROM e.timestamp)) FILTER (WHERE e.dagster_event_type = 'STEP_START')
                       AS step_start,
                   max(extract(epoch FROM e.timestamp))
                       FILTER (WHERE e.dagster_event_type IN ('STEP_SUCCESS', 'STEP_FAILURE')) AS step_end,
                   max(extract(epoch FROM e.timestamp))
                       FILTER (WHERE e.dagster_event_type IN ('PIPELINE_SUCCESS', 'PIPELINE_FAILURE')) AS ended
            FROM dagster.runs r JOIN dagster.event_logs e ON e.run_id = r.run_id
            GROUP BY r.run_id, r.status
            """
        )
    ).all()
    timings = []
    for row in rows:
        if None in (row.enqueued, row.launched, row.step_start, row.step_end, row.ended):
            continue
        if float(row.enqueued) < since:
            continue
        timings.append(
            {
                "status": row.status,
                "enqueued": float(row.enqueued),
                "queue_wait": float(row.launched - row.enqueued),
                "start_overhead": float(row.step_start - row.launched),
                "step": float(row.step_end - row.step_start),
                "end_overhead": float(row.ended - row.step_end),
                "ended": float(row.ended),
            }
        )
    return timings


def _runs_by_trigger(conn: sa.Connection) -> dict[str, dict[str, int]]:
    """Every run of the benchmark by what launched it (the trigger tag) and its status: how many runs the
    webhook path asked for beside the syncs."""
    rows = conn.execute(
        sa.text(
            "SELECT coalesce(t.value, 'none') AS trigger, r.status, count(*) AS runs FROM dagster.runs r "
            "LEFT JOIN dagster.run_tags t ON t.run_id = r.run_id AND t.key = 'hubspot_pipeline/trigger' "
            "GROUP BY 1, 2"
        )
    ).all()
    by: dict[str, dict[str, int]] = {}
    for row in rows:
        by.setdefault(row.trigger, {})[row.status] = row.runs
    return by


def _idle_run_calls(
    stack: Stack,
    engine: sa.Engine,
    admin,
    workspaces: list[tuple[uuid.UUID, str]],
    api_keys: dict[uuid.UUID, str],
    hubs: dict[uuid.UUID, int],
) -> list[int]:
    """HubSpot calls of an incremental run with nothing to do (what the 15-minute schedule costs a quiet
    portal): one asked through the API per workspace, counted at the sandbox."""
    before = {w: admin.counters(hubs[w]).get("total", 0) for w, _slug in workspaces}
    asked = {
        w: stack.api("POST", "/sync/contacts", api_keys[w], json={}).json()["id"] for w, _slug in workspaces
    }

    def finished() -> bool:
        with engine.connect() as conn:
            states = conn.scalars(
                sa.text("SELECT status FROM sync_requests WHERE id = ANY(:ids)"),
                {"ids": list(asked.values())},
            ).all()
        return all(state in ("succeeded", "failed") for state in states)

    try:
        wait_until("the idle runs", finished, 300, interval=1)
    except AssertionError:
        return []
    return [admin.counters(hubs[w]).get("total", 0) - before[w] for w, _slug in workspaces]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--workspaces", type=int, default=50)
    parser.add_argument("--leads", type=int, default=2000, help="leads per workspace")
    parser.add_argument("--edits-per-second", type=float, default=1.0)
    parser.add_argument("--max-minutes", type=float, default=10.0, help="stop syncing after this long")
    parser.add_argument("--api-workers", type=int, default=2)
    parser.add_argument(
        "--max-concurrent-runs",
        type=int,
        default=10,
        help="the run queue's bound (production's deploy/dagster.yaml: 10; the repository's: 4)",
    )
    parser.add_argument(
        "--dequeue-threads",
        type=int,
        default=0,
        help="launch queued runs on this many threads (dequeue_num_workers); 0: dagster.yaml's (4)",
    )
    parser.add_argument("--drain-minutes", type=float, default=3.0, help="how long to wait for the queue")
    parser.add_argument(
        "--steady-minutes",
        type=float,
        default=3.0,
        help="after the drain, edit for this long with every workspace synced (0: skip)",
    )
    args = parser.parse_args()
    # A SIGTERM stops the stack and drops the scratch database as Ctrl-C does.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))

    from hubspot_pipeline.db.connection import get_engine
    from hubspot_pipeline.demo.sandbox_setup import configure_webhooks
    from hubspot_pipeline.sandbox.admin_client import SandboxAdmin

    load_average = os.getloadavg()[0]
    result: dict = {
        "workspaces": args.workspaces,
        "leads_per_workspace": args.leads,
        "edits_per_second": args.edits_per_second,
        "api_workers": args.api_workers,
        "max_concurrent_runs": args.max_concurrent_runs,
        "dequeue_threads": args.dequeue_threads,
        "cpus": os.cpu_count(),
        "load_average_1m_at_start": round(load_average, 2),
    }
    with scratch_database("hp_capacity") as url:
        engine = get_engine(url)
        workspaces, loaded = _load(url, args.workspaces, args.leads)
        result.update(loaded)
        api_keys = _keys(url, [workspace_id for workspace_id, _slug in workspaces])
        hubs: dict[uuid.UUID, int] = {}

        def connect_all(stack: Stack) -> None:
            configure_webhooks(
                stack.sandbox_url,
                1,
                "sandbox-developer-key",
                f"{stack.api_url}/api/integrations/hubspot/webhooks",
            )
            admin = SandboxAdmin(stack.sandbox_url, 1234567)
            for workspace_id, _slug in workspaces:
                hubs[workspace_id] = admin.add_portal()[0]
            admin.close()
            with concurrent.futures.ThreadPoolExecutor(8) as pool:
                list(pool.map(lambda w: stack.connect(api_keys[w[0]], hubs[w[0]]), workspaces))

        started = time.monotonic()
        with Stack.start(
            url,
            api_workers=args.api_workers,
            before_daemon=connect_all,
            max_concurrent_runs=args.max_concurrent_runs,
            dequeue_threads=args.dequeue_threads or None,
        ) as stack:
            result["stack_start_seconds"] = round(time.monotonic() - started, 1)
            slugs = {slug for _id, slug in workspaces}

            def partitions() -> bool:
                with engine.connect() as conn:
                    known = set(
                        conn.scalars(
                            sa.text(
                                "SELECT partition FROM dagster.dynamic_partitions "
                                "WHERE partitions_def_name = 'workspace'"
                            )
                        )
                    )
                return slugs <= known

            wait_until("the workspace partitions", partitions, 180, interval=1)
            sampler = Sampler(url)
            sampler.start()
            since = time.time()
            t0 = time.monotonic()
            with concurrent.futures.ThreadPoolExecutor(8) as pool:
                answers = list(
                    pool.map(
                        lambda w: stack.api(
                            "POST", "/sync/contacts", api_keys[w[0]], json={"full_resync": True}
                        ),
                        workspaces,
                    )
                )
            assert all(a.status_code in (200, 201, 202) for a in answers), answers[0].text
            editor = Editor(stack, url, hubs, args.edits_per_second)
            editor.start()
            total = args.workspaces * args.leads

            def synced() -> int:
                with engine.connect() as conn:
                    return _count(
                        conn,
                        "hubspot_sync_status",
                        "WHERE entity_type = 'contact' AND status = 'synced' AND hubspot_id IS NOT NULL "
                        "AND workspace_id IN (SELECT id FROM workspaces WHERE slug LIKE 'demo-11-%')",
                    )

            progress = []
            while time.monotonic() - t0 < args.max_minutes * 60:
                done = synced()
                progress.append((round(time.monotonic() - t0, 1), done))
                if done >= total:
                    break
                time.sleep(5)
            sync_seconds = time.monotonic() - t0
            editor.stop_event.set()
            editor.join()
            done = synced()
            # The webhook queue: the syncs' echoes and the edits, until nothing is left unprocessed.
            drain_start = time.monotonic()

            def drained() -> bool:
                with engine.connect() as conn:
                    return _count(conn, "webhook_events", "WHERE processed_at IS NULL") == 0

            try:
                wait_until("the webhook queue to drain", drained, args.drain_minutes * 60, interval=1)
                drain_seconds = round(time.monotonic() - drain_start, 1)
            except AssertionError:
                drain_seconds = None
            editor.drain(engine, 30)
            # Steady state: every workspace synced, edits spread over them, the schedule's runs beside them.
            steady = Editor(stack, url, hubs, args.edits_per_second)
            steady_since = time.time()
            if args.steady_minutes > 0:
                steady.start()
                time.sleep(args.steady_minutes * 60)
                steady.stop_event.set()
                steady.join()
                steady.drain(engine, 120)
            steady_seconds = time.time() - steady_since
            sampler.stop_event.set()
            sampler.join()
            with engine.connect() as conn:
                left = {
                    "webhook_events_unprocessed": _count(
                        conn, "webhook_events", "WHERE processed_at IS NULL"
                    ),
                    "runs_queued": _count(conn, "dagster.runs", "WHERE status = 'QUEUED'"),
                    "runs_in_flight": _count(conn, "dagster.runs", "WHERE status IN ('STARTING', 'STARTED')"),
                }
                timings = _run_timings(conn, since)
                steady_timings = _run_timings(conn, steady_since)
                runs_by_trigger = _runs_by_trigger(conn)
                webhook_events = _count(conn, "webhook_events")
                sizes = _table_sizes(conn)
                database_bytes = conn.execute(
                    sa.text("SELECT pg_database_size(current_database())")
                ).scalar_one()
                leads_total = _count(conn, "leads")
                pairs = _count(conn, "hubspot_sync_status")
            admin = SandboxAdmin(stack.sandbox_url, 1234567)
            calls = [admin.counters(hub).get("total", 0) for hub in list(hubs.values())[:20]]
            idle_calls = _idle_run_calls(stack, engine, admin, workspaces[:5], api_keys, hubs)
            admin.close()

        finished = [t for t in timings if t["ended"] - since <= sync_seconds + 1]
        window_minutes = sync_seconds / 60
        row_counts = {"public.leads": leads_total, "public.hubspot_sync_status": pairs}
        row_counts["public.webhook_events"] = webhook_events
        result.update(
            {
                "synced_contacts": done,
                "of_contacts": total,
                "sync_seconds": round(sync_seconds, 1),
                "progress": progress[:: max(1, len(progress) // 40)],
                "runs_finished": len(timings),
                "runs_failed": sum(1 for t in timings if t["status"] != "SUCCESS"),
                "runs_by_trigger": runs_by_trigger,
                "runs_per_minute_during_sync": round(len(finished) / window_minutes, 1),
                "contacts_per_minute": round(done / window_minutes),
                "queue_wait_s": _summary([t["queue_wait"] for t in timings]),
                "start_overhead_s": _summary([t["start_overhead"] for t in timings]),
                "step_s": _summary([t["step"] for t in timings]),
                "end_overhead_s": _summary([t["end_overhead"] for t in timings]),
                "postgres_connections": sampler.figures(),
                "webhook_events": webhook_events,
                "webhook_drain_after_sync_s": drain_seconds,
                "left_at_end": left,
                "edits_sent": editor.sent,
                "edits_arrived": len(editor.latencies),
                "edit_to_lead_s": _summary(editor.latencies),
                "steady_minutes": round(steady_seconds / 60, 1),
                "steady_edits_sent": steady.sent,
                "steady_edits_arrived": len(steady.latencies),
                "steady_edit_to_lead_s": _summary(steady.latencies),
                "steady_runs_finished": len(steady_timings),
                "steady_queue_wait_s": _summary([t["queue_wait"] for t in steady_timings]),
                "steady_start_overhead_s": _summary([t["start_overhead"] for t in steady_timings]),
                "steady_step_s": _summary([t["step"] for t in steady_timings]),
                "hubspot_calls_per_workspace_sample": _summary([float(c) for c in calls]),
                "hubspot_calls_per_idle_incremental_run": idle_calls,
                "database_bytes": database_bytes,
                "leads_in_database": leads_total,
                "pairs": pairs,
                "bytes_per_row": {
                    name: round(sizes[name]["bytes"] / rows) for name, rows in row_counts.items() if rows
                },
                "bytes_per_activity_row": {
                    name: round(sizes[f"public.{name}"]["bytes"] / max(1, rows))
                    for name, rows in loaded["activity_sizing_rows"].items()
                },
                "table_bytes": {
                    name: size["bytes"] for name, size in sorted(sizes.items()) if size["bytes"] > 1_000_000
                },
                "load_average_1m_at_end": round(os.getloadavg()[0], 2),
            }
        )
    out = ROOT / "bench" / "results" / f"deployment_capacity_{args.workspaces}x{args.leads}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2, default=str))
    print(json.dumps(result, indent=2, default=str))


if __name__ == "__main__":
    main()
