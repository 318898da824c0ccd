"""Benchmark: the engagement dbt project over N leads and their email events: a full build, then an
incremental build after 10,000 new events, each against a plain SQL aggregate over the same rows.

    .venv/bin/python bench/engagement_dbt.py --leads 100000
    .venv/bin/python bench/engagement_dbt.py --leads 1000000        # the issue's size (about 5.3M events)

Setup (not timed): a scratch database (on DATABASE_URL's server, embedded when unset; give the embedded one a
data folder of its own with HUBSPOT_PIPELINE_DATA_DIR=/tmp/...), migrated, with the demo generator's leads,
messages and events in 10 workspaces (about 5 events a lead), loaded by COPY with the indexes
built after the load (bench/demo_data_1m.py's load_fast); the replies' intents decided by the classifier
(timed apart: that is the work done when replies arrive).
Timed:
- full: `dbt build --full-refresh` (4 staging views, the 2 incremental models built whole, 48 dbt tests), and
  `dbt run --full-refresh` (models only);
- the plain SQL aggregate: one statement computing the same per-lead counts, last engaged time and decayed
  score (CREATE TABLE AS), and the daily aggregate, over the same rows;
- incremental: 10,000 new events for random leads inserted, then `dbt build` as scheduled builds run it
  (without the staging views' tests, tag source_scan; same reference day: only the leads with new events are
  recomputed and read), against the plain SQL aggregate over those leads' events;
- a second such `dbt build` with nothing new.
Results also go to bench/results/engagement_dbt.json: each step's wall time and its models' and tests' SQL
under the step's own name (the incremental build and the build with nothing new are two steps, two sets of
figures).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import uuid
from pathlib import Path

import sqlalchemy as sa

RESULTS = Path(__file__).resolve().parent / "results" / "engagement_dbt.json"
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

PLAIN_SQL = """
CREATE TABLE {table} AS
WITH ref AS (SELECT (now() AT TIME ZONE 'UTC')::date::timestamp AT TIME ZONE 'UTC' AS t)
SELECT e.lead_id,
  least(100, greatest(0, round(sum(
    CASE e.event_type WHEN 'opened' THEN 2 WHEN 'clicked' THEN 5 WHEN 'bounced' THEN -20 WHEN 'unsubscribed' THEN -60
      WHEN 'replied' THEN CASE m.intent WHEN 'interested' THEN 40 WHEN 'unsubscribe_request' THEN -60 ELSE 15 END
      ELSE 0 END
    * power(0.5, greatest(0, extract(epoch FROM (ref.t - e.occurred_at)) / 86400.0) / 14)))))::int AS score,
  max(e.occurred_at) FILTER (WHERE e.event_type IN ('opened', 'clicked', 'replied')) AS last_engaged_at,
  {counts}
  max(e.seq) AS max_event_seq
FROM email_events e CROSS JOIN ref
LEFT JOIN email_messages m ON m.id = e.message_id AND m.direction = 'received'
{where}
GROUP BY e.lead_id
"""


def _counts() -> str:
    parts = []
    for event_type in ("sent", "opened", "clicked", "replied", "bounced", "unsubscribed"):
        for days in (7, 30, 90):
            parts.append(
                f"count(*) FILTER (WHERE e.event_type = '{event_type}' AND e.occurred_at >= ref.t - interval "
                f"'{days} days') AS {event_type}_{days}d,"
            )
    return "\n  ".join(parts)


def _timed(label: str, results: dict, fn) -> float:
    started = time.perf_counter()
    fn()
    seconds = round(time.perf_counter() - started, 2)
    results[label] = seconds
    print(f"  {label:<44} {seconds:>8.2f} s", flush=True)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=100_000)
    parser.add_argument("--workspaces", type=int, default=10)
    parser.add_argument("--new-events", type=int, default=10_000)
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    args = parser.parse_args()

    from demo_data_1m import load_fast

    from hubspot_pipeline.db import migrate
    from hubspot_pipeline.db.connection import database_url, get_engine, libpq_url
    from hubspot_pipeline.db.embedded import create_database, drop_database
    from hubspot_pipeline.demo.generate import DemoSize
    from hubspot_pipeline.scoring.store import dbt_build
    from hubspot_pipeline.scoring.store.replies import decide_all_pending_intents

    server = libpq_url(database_url())
    base, _, query = server.partition("?")
    admin = base.rsplit("/", 1)[0] + "/postgres" + (f"?{query}" if query else "")
    name = f"hp_bench_engagement_{uuid.uuid4().hex[:8]}"
    url = base.rsplit("/", 1)[0] + f"/{name}" + (f"?{query}" if query else "")
    create_database(admin, name)
    engine = get_engine(url)
    results: dict = {"leads": args.leads, "workspaces": args.workspaces}
    try:
        migrate.upgrade(engine=engine)
        print(f"loading {args.leads:,} leads with their messages and events ...", flush=True)
        started = time.perf_counter()
        size = DemoSize(workspaces=args.workspaces, leads=args.leads, campaigns_per_workspace=2)
        report = load_fast(url, size)  # analysed too
        loaded = round(time.perf_counter() - started, 1)
        results.update(events=report.email_events, messages=report.email_messages, setup_load_seconds=loaded)
        print(f"  loaded {report.email_events:,} events, {report.email_messages:,} messages in "
              f"{loaded:.0f} s", flush=True)  # fmt: skip
        replies = _timed(
            "reply intents decided (classifier)", results, lambda: decide_all_pending_intents(engine)
        )
        del replies

        target = Path(tempfile.mkdtemp(prefix="engagement_dbt_"))

        def build(step: str, *command: str) -> None:
            """Run dbt; its SQL times go under `step`, so two runs of the same command keep both."""
            dbt_build.run_dbt(list(command), database_url=url, target_path=target)
            # Where dbt's own time went: its SQL per node (the rest is dbt starting, parsing, connecting).
            nodes = json.loads((target / "run_results.json").read_text())["results"]
            sql = {"model": 0.0, "test": 0.0}
            for node in nodes:
                sql["test" if node["unique_id"].startswith("test.") else "model"] += node["execution_time"]
            results[f"{step}: models' SQL"] = round(sql["model"], 2)
            results[f"{step}: tests' SQL"] = round(sql["test"], 2)
            results[f"{step}: command"] = "dbt " + " ".join(command)
            print(f"    (models' SQL {sql['model']:.2f} s, tests' SQL {sql['test']:.2f} s)", flush=True)

        print("full build", flush=True)
        step = "dbt build --full-refresh (models + tests)"
        full = _timed(step, results, lambda: build(step, "build", "--full-refresh"))
        step = "dbt run --full-refresh (models only)"
        full_run = _timed(step, results, lambda: build(step, "run", "--full-refresh"))

        def plain(table: str, where: str = "") -> None:
            with engine.begin() as conn:
                conn.execute(sa.text(f"DROP TABLE IF EXISTS {table}"))
                conn.execute(sa.text(PLAIN_SQL.format(table=table, counts=_counts(), where=where)))

        plain_full = _timed("plain SQL aggregate, every lead", results, lambda: plain("plain_scores"))

        with engine.begin() as conn:
            before = conn.execute(sa.text("SELECT max(seq) FROM email_events")).scalar_one()
            conn.execute(
                sa.text(
                    "INSERT INTO email_events (workspace_id, lead_id, event_type, occurred_at) "
                    "SELECT workspace_id, id, (ARRAY['opened','clicked','opened','replied'])[1 + (random() * 3)::int], "
                    "now() - random() * interval '6 hours' "
                    "FROM leads, generate_series(1, 1 + :n / (SELECT count(*) FROM leads)) ORDER BY random() LIMIT :n"
                ),
                {"n": args.new_events},
            )
        print(f"incremental, after {args.new_events:,} new events", flush=True)
        # As scheduled and incremental builds run: without the staging views' tests, which scan every row.
        step = "dbt build (incremental, models + tests but the source scans)"
        incremental = _timed(step, results, lambda: build(step, "build", *dbt_build.WITHOUT_SOURCE_SCANS))
        plain_incremental = _timed(
            "plain SQL aggregate, leads with new events",
            results,
            lambda: plain(
                "plain_scores_new",
                f"WHERE e.lead_id IN (SELECT lead_id FROM email_events WHERE seq > {int(before)})",
            ),
        )
        step = "dbt build again, nothing new"
        _timed(step, results, lambda: build(step, "build", *dbt_build.WITHOUT_SOURCE_SCANS))
        results["ratio_full_build_to_plain_sql"] = round(full / plain_full, 1)
        results["ratio_full_run_to_plain_sql"] = round(full_run / plain_full, 1)
        results["ratio_incremental_build_to_plain_sql"] = round(incremental / plain_incremental, 1)
        print(json.dumps(results, indent=2))
        RESULTS.parent.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(json.dumps(results, indent=2))
    finally:
        engine.dispose()
        if not args.keep:
            drop_database(admin, name)


if __name__ == "__main__":
    main()
