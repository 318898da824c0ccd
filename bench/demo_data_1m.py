"""Time and peak memory of the demo-data generator loading 1,000,000 leads (and their email events).

    .venv/bin/python bench/demo_data_1m.py [--leads 1000000] [--no-events]

Loads into a scratch database on the configured server (embedded when DATABASE_URL is unset), then drops it.
"""

from __future__ import annotations

import argparse
import resource
import time
import uuid

from hubspot_pipeline.db import migrate
from hubspot_pipeline.db.connection import database_url, get_engine
from hubspot_pipeline.db.embedded import create_database, drop_database
from hubspot_pipeline.demo.generate import DemoSize, load


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--workspaces", type=int, default=10)
    parser.add_argument("--no-events", action="store_true")
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
        report = load(url, DemoSize(workspaces=args.workspaces, leads=args.leads, events=not args.no_events))
        elapsed = time.perf_counter() - started
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(
            f"leads={report.leads:,} email_events={report.email_events:,} workspaces={report.workspaces} "
            f"seconds={elapsed:.1f} leads_per_second={report.leads / elapsed:,.0f} peak_rss_mb={peak_mb:.0f}"
        )
    finally:
        get_engine(url).dispose()
        drop_database(f"{server}/postgres{suffix}", name)


if __name__ == "__main__":
    main()
