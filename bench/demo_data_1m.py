"""Time and peak memory of the demo-data generator loading 1,000,000 leads (and their email events).

    .venv/bin/python bench/demo_data_1m.py [--leads 1000000] [--no-events]
    .venv/bin/python bench/demo_data_1m.py --fast      # the benchmarks' setup: load_fast() below

Loads into a scratch database on the configured server (embedded when DATABASE_URL is unset), then drops it.

`load_fast` is the setup other benchmarks reuse (bench/engagement_dbt.py): the generator's COPY (`load`), with
the big tables' secondary indexes dropped for the load and built afterwards (one sorted build each instead
of a btree insert per row and index), and, on a superuser connection, the load's session in
`session_replication_role = replica`, which skips the foreign-key checks (the generator's rows refer only to
rows it wrote before them). For scratch databases only: the indexes are gone while it runs.
"""

from __future__ import annotations

import argparse
import resource
import time
import uuid

import sqlalchemy as sa

from hubspot_pipeline.db import migrate
from hubspot_pipeline.db.connection import database_url, get_engine
from hubspot_pipeline.db.embedded import create_database, drop_database
from hubspot_pipeline.demo.generate import DemoSize, LoadReport, load

BULK_TABLES = ["leads", "email_messages", "email_events"]
# Indexes that back no constraint (constraints' indexes stay: foreign keys refer to them).
SECONDARY_INDEXES = """
SELECT i.indexrelid::regclass::text AS name, pg_get_indexdef(i.indexrelid) AS definition
FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid
WHERE t.relname = ANY(:tables) AND pg_table_is_visible(t.oid)
  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid AND c.conrelid = t.oid)
ORDER BY 1
"""


def load_fast(url: str, size: DemoSize, seed: int = 7, progress=None) -> LoadReport:
    """`load` into a scratch database with deferred indexes (and foreign-key checks skipped as a superuser);
    the same rows, then every index built and the tables analysed."""
    engine = get_engine(url)
    try:
        with engine.begin() as conn:
            indexes = conn.execute(sa.text(SECONDARY_INDEXES), {"tables": BULK_TABLES}).all()
            superuser = conn.execute(
                sa.text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
            ).scalar_one()
            for name, _ in indexes:
                conn.execute(sa.text(f"DROP INDEX {name}"))
        conninfo = url
        if superuser:
            separator = "&" if "?" in url else "?"
            conninfo = f"{url}{separator}options=-c%20session_replication_role%3Dreplica"
        report = load(conninfo, size, seed=seed, progress=progress)
        with engine.begin() as conn:
            conn.execute(sa.text("SET LOCAL maintenance_work_mem = '256MB'"))
            for _, definition in indexes:
                conn.execute(sa.text(definition))
        with engine.connect() as conn:
            conn.execute(sa.text("ANALYZE"))
    finally:
        engine.dispose()
    return report


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--workspaces", type=int, default=10)
    parser.add_argument("--no-events", action="store_true")
    parser.add_argument(
        "--fast", action="store_true", help="load_fast: deferred indexes (the benches' setup)"
    )
    args = parser.parse_args()

    base, _, query = database_url().partition("?")
    server = base.rsplit("/", 1)[0]
    suffix = f"?{query}" if query else ""
    name = f"hp_bench_{uuid.uuid4().hex[:8]}"
    create_database(f"{server}/postgres{suffix}", name)
    url = f"{server}/{name}{suffix}"
    try:
        migrate.upgrade(engine=get_engine(url))
        started = time.perf_counter()
        size = DemoSize(workspaces=args.workspaces, leads=args.leads, events=not args.no_events)
        report = (load_fast if args.fast else load)(url, size)
        elapsed = time.perf_counter() - started
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(
            f"leads={report.leads:,} email_messages={report.email_messages:,} "
            f"email_events={report.email_events:,} workspaces={report.workspaces} fast={args.fast} "
            f"seconds={elapsed:.1f} leads_per_second={report.leads / elapsed:,.0f} peak_rss_mb={peak_mb:.0f}"
        )
    finally:
        get_engine(url).dispose()
        drop_database(f"{server}/postgres{suffix}", name)


if __name__ == "__main__":
    main()
