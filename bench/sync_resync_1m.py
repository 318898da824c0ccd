"""Benchmark: a full resync of 1,000,000 leads that are already in sync. Expect zero write calls, peak memory
under 1.5 GB, and wall time within 3x of merely reading the workspace's leads with COPY, measured in the same
run (same process, same warm cache).

    .venv/bin/python bench/sync_resync_1m.py                 # 1,000,000 leads
    .venv/bin/python bench/sync_resync_1m.py --leads 100000

Setup (not timed): a scratch database on DATABASE_URL's server (embedded when unset), one workspace with the
demo generator's leads, and their pair state as a previous sync would have left it (agreed values, hashes,
lead digests). The resync is `run_contact_sync(full=True)` against the sandbox over HTTP, in a child process
so that its peak RSS is its own: PostgreSQL compares every lead's digest with the one recorded at its last
sync and streams only the differing ones (none here) for the canonical hash compare and the plan. HubSpot
holds nothing that changed (its side is a list scan and a search).
Results also go to bench/results/sync_resync_1m.json.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import resource
import subprocess
import sys
import time
import uuid
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results" / "sync_resync_1m.json"


def _server() -> tuple[str, str]:
    from hubspot_pipeline.db.connection import libpq_url

    configured = os.environ.get("DATABASE_URL")
    if configured:
        base = libpq_url(configured)
    else:
        from hubspot_pipeline.db.embedded import start_embedded
        from hubspot_pipeline.settings import get_settings

        base = start_embedded(get_settings().data_dir)
    server, _, query = base.partition("?")
    return server.rsplit("/", 1)[0], (f"?{query}" if query else "")


def _seed_state(url: str, workspace_id: uuid.UUID) -> None:
    """Pair state as after a clean sync: agreed = the leads' canonical values, hash, a HubSpot id."""
    import pandas as pd

    from hubspot_pipeline.db.connection import get_engine
    from hubspot_pipeline.sync import store
    from hubspot_pipeline.sync.engine import prepare
    from hubspot_pipeline.sync.hashing import hash_frame
    from hubspot_pipeline.sync.mapping import canonical_leads

    engine = get_engine(url)
    job = prepare(engine, None, workspace_id)
    next_id = 1
    with engine.connect() as reader:
        chunks = list(store.scan_leads(reader, workspace_id, job.mapping_set, 200_000))
    for chunk in chunks:
        canonical = canonical_leads(chunk, job.mapping_set)
        hashes = hash_frame(canonical, job.mapping_set.pushed_columns)
        agreed = [json.dumps(row) for row in canonical.to_dict("records")]
        frame = pd.DataFrame(
            {
                "workspace_id": str(workspace_id),
                "entity_type": "contact",
                "entity_id": canonical.index,
                "hubspot_id": [str(100_000 + next_id + i) for i in range(len(canonical))],
                "sync_hash": hashes.to_numpy(),
                "status": "synced",
                "agreed": agreed,
            }
        )
        next_id += len(canonical)
        buffer = io.StringIO()
        frame.to_csv(buffer, index=False, header=False)
        raw = engine.raw_connection()
        try:
            with (
                raw.cursor() as cursor,
                cursor.copy(
                    "COPY hubspot_sync_status (workspace_id, entity_type, entity_id, hubspot_id, sync_hash, status, "
                    "agreed) FROM STDIN WITH (FORMAT csv)"
                ) as copy,
            ):
                copy.write(buffer.getvalue())
            raw.commit()
        finally:
            raw.close()
    with engine.begin() as conn:
        import sqlalchemy as sa

        conn.execute(
            sa.text(
                f"INSERT INTO lead_digests (lead_id, workspace_id, digest) SELECT l.id, l.workspace_id, "
                f"{store.digest_sql(job.mapping_set)} FROM leads l WHERE l.workspace_id = :w"
            ),
            {"w": workspace_id},
        )
        conn.execute(sa.text("ANALYZE lead_digests"))
        conn.execute(sa.text("ANALYZE leads"))
        conn.execute(sa.text("ANALYZE hubspot_sync_status"))


def _measure(url: str, workspace_id: str) -> dict:
    """In the child: COPY baseline, then the resync; returns the figures."""
    from hubspot_pipeline.db.connection import get_engine
    from hubspot_pipeline.hubspot import HubSpotClient, PrivateAppToken
    from hubspot_pipeline.sandbox.testing import run_sandbox
    from hubspot_pipeline.sync.engine import run_contact_sync

    engine = get_engine(url)
    raw = engine.raw_connection()
    started = time.perf_counter()
    copied = 0
    with (
        raw.cursor() as cursor,
        cursor.copy(
            f"COPY (SELECT * FROM leads WHERE workspace_id = '{workspace_id}') TO STDOUT WITH (FORMAT csv)"
        ) as copy,
    ):
        for block in copy:
            copied += len(block)
    copy_seconds = time.perf_counter() - started
    raw.close()
    with run_sandbox(rate_limits_enabled=False) as sandbox:
        with HubSpotClient(sandbox.base_url, PrivateAppToken(sandbox.private_app_token)) as client:
            started = time.perf_counter()
            report = run_contact_sync(engine, client, uuid.UUID(workspace_id), full=True)
            resync_seconds = time.perf_counter() - started
        writes = sum(
            sum(by_status.values())
            for endpoint, by_status in sandbox.admin.counters()["byEndpoint"].items()
            if endpoint.endswith(("batch/upsert", "batch/update", "batch/create"))
            or endpoint.startswith(("PATCH", "DELETE"))
        )
    return {
        "copy_seconds": round(copy_seconds, 2),
        "copy_mb": round(copied / 1e6, 1),
        "resync_seconds": round(resync_seconds, 2),
        "ratio_to_copy": round(resync_seconds / copy_seconds, 2),
        "write_calls": writes,
        "api_calls": report.api_calls,
        "scanned": report.counts["scanned"],
        "unchanged": report.counts["unchanged"],
        "pushed": report.counts["push"],
        "pulled": report.counts["pull"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--child", nargs=2, metavar=("URL", "WORKSPACE"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        figures = _measure(*args.child)
        figures["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
        print(json.dumps(figures))
        return

    import sqlalchemy as sa

    from hubspot_pipeline.db import migrate
    from hubspot_pipeline.db.connection import get_engine
    from hubspot_pipeline.db.embedded import create_database, drop_database
    from hubspot_pipeline.demo.generate import DemoSize, load

    server, suffix = _server()
    admin_url, name = f"{server}/postgres{suffix}", f"bench_resync_{uuid.uuid4().hex[:8]}"
    create_database(admin_url, name)
    url = f"{server}/{name}{suffix}"
    try:
        migrate.upgrade(engine=get_engine(url))
        started = time.perf_counter()
        load(url, DemoSize(workspaces=1, leads=args.leads, events=False))
        with get_engine(url).connect() as conn:
            workspace_id = conn.execute(sa.text("SELECT id FROM workspaces")).scalar_one()
        _seed_state(url, workspace_id)
        setup_seconds = time.perf_counter() - started
        get_engine(url).dispose()
        child = subprocess.run(
            [sys.executable, __file__, "--child", url, str(workspace_id)], capture_output=True, text=True
        )
        if child.returncode:
            raise SystemExit(f"the resync failed:\n{child.stderr[-4000:]}")
        figures = {
            "leads": args.leads,
            "setup_seconds": round(setup_seconds, 1),
            **json.loads(child.stdout.strip().splitlines()[-1]),
        }
    finally:
        get_engine(url).dispose()
        drop_database(admin_url, name)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(figures, indent=2) + "\n")
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
