"""Benchmark: a full resync of a workspace whose HubSpot portal holds its N contacts, with HubSpot's rate
limits on, as a ratio to what those limits allow.

    .venv/bin/python bench/sync_resync.py                      # 100,000 leads and contacts
    .venv/bin/python bench/sync_resync.py --contacts 1000000

Setup (not timed): a scratch database on DATABASE_URL's server (embedded when unset) with one workspace of N
demo leads; the sandbox in its own process (`hubspot-pipeline sandbox`, a free portal's limits: 100 calls per
rolling 10 s, 5 searches per second) filled through its bulk loader with the N matching contacts (their
lastmodifieddate an hour ago); pair state as a clean sync leaves it (agreed values, hashes, lead digests, the
search cursor at that sync). Then changes on both sides: 1% of the leads edited by a bulk load (not in the
outbox, so only a full resync finds them) and another 1% of the contacts edited in HubSpot ten minutes ago.

Timed: the real command, `hubspot-pipeline sync WORKSPACE --full` (its own process, so its peak RSS is its
own; the limiter in PostgreSQL as in production). It must read all N contacts from HubSpot: list pages of 100
on the general budget (1,000 contacts/s) and search pages of 200 on the search budget (another 1,000/s), both at
once, so the bound is N / 2,000 s (N / 1,000 s through one budget): the read's own seconds are its ratio.
The ColdCopy side (coldcopy_side: the wall time it adds to the read, and all its work, overlapped or not) is
reported against a COPY of the workspace's leads taken just before, its floor. The setup leaves no companies:
the run makes those of the leads it reads and creates them in HubSpot (stage `companies`, reported apart).
`--profile FILE` runs the sync process under cProfile (its timings are then not the benchmark's).
Results also go to bench/results/sync_resync.json.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results" / "sync_resync.json"
TOKEN = "pat-local-demo"
CHANGED_FRACTION = 0.01
LOAD_CHUNK = 20_000


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


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start_sandbox(port: int) -> subprocess.Popen:
    command = [str(Path(sys.executable).parent / "hubspot-pipeline"), "sandbox", "--port", str(port)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    import httpx

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/_sandbox/health", timeout=1).status_code == 200:
                return process
        except httpx.HTTPError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit(f"the sandbox did not start: {process.stderr.read().decode() if process.stderr else ''}")


def _copy_rows(url: str, table: str, columns: str, rows: list[tuple]) -> None:
    import csv

    from hubspot_pipeline.db.connection import get_engine

    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    raw = get_engine(url).raw_connection()
    try:
        with (
            raw.cursor() as cursor,
            cursor.copy(f"COPY {table} ({columns}) FROM STDIN WITH (FORMAT csv)") as copy,
        ):
            copy.write(buffer.getvalue())
        raw.commit()
    finally:
        raw.close()


def _populate(url: str, workspace_id: uuid.UUID, base_url: str, contacts: int) -> dict[str, Any]:
    """HubSpot holds every lead as a contact, ColdCopy the pair state of a clean sync; then 1% of each side
    changes. Returns what was changed."""
    import sqlalchemy as sa

    from hubspot_pipeline.db.connection import BULK_LOAD_WRITER, WRITER_SETTING, get_engine
    from hubspot_pipeline.hubspot import HubSpotClient, PrivateAppToken
    from hubspot_pipeline.sandbox.admin_client import SandboxAdmin
    from hubspot_pipeline.sync.core.hashing import hash_frame
    from hubspot_pipeline.sync.core.leads import Leads
    from hubspot_pipeline.sync.engine import prepare
    from hubspot_pipeline.sync.properties import ensure_hubspot_properties
    from hubspot_pipeline.sync.store import leads as lead_store
    from hubspot_pipeline.sync.store import queues

    engine = get_engine(url)
    with HubSpotClient(base_url, PrivateAppToken(TOKEN)) as client:
        job = prepare(engine, client, workspace_id)
        ensure_hubspot_properties(job)
    admin = SandboxAdmin(base_url, 1234567)
    synced_ms = admin.now_ms() - 3_600_000
    edited_ms = admin.now_ms() - 600_000
    step = max(int(1 / CHANGED_FRACTION), 1)
    hubspot_edited, loaded = 0, 0
    with engine.connect() as reader:
        chunks = lead_store.scan_leads(reader, workspace_id, job.mapping_set, 200_000)
        for chunk in chunks:
            canonical = Leads.of(chunk, job.mapping_set).canonical
            hashes = hash_frame(canonical, job.mapping_set.pushed_columns)
            rows = canonical.to_dict("records")
            records = []
            for position, row in enumerate(rows):
                properties = {k: v for k, v in row.items() if v != ""}
                stamp = synced_ms
                if (loaded + position) % step == step // 2:  # edited in HubSpot since the last sync
                    properties["jobtitle"] = f"Edited in HubSpot {loaded + position}"
                    stamp = edited_ms
                    hubspot_edited += 1
                records.append({"properties": properties, "timestampMs": stamp})
            ids: list[str] = []
            for start in range(0, len(records), LOAD_CHUNK):
                ids.extend(admin.bulk_load(records[start : start + LOAD_CHUNK], chunk=LOAD_CHUNK))
            _copy_rows(
                url,
                "hubspot_sync_status",
                "workspace_id, entity_type, entity_id, hubspot_id, sync_hash, status, agreed",
                [
                    (str(workspace_id), "contact", lead_id, hubspot_id, sync_hash, "synced", json.dumps(row))
                    for lead_id, hubspot_id, sync_hash, row in zip(
                        canonical.index, ids, hashes.to_numpy(), rows, strict=True
                    )
                ],
            )
            loaded += len(rows)
    admin.close()
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                f"INSERT INTO lead_digests (lead_id, workspace_id, digest) SELECT l.id, l.workspace_id, "
                f"{lead_store.digest_sql(job.mapping_set)} FROM leads l"
                f"{lead_store.engagement_join(job.mapping_set)} WHERE l.workspace_id = :w"
            ),
            {"w": workspace_id},
        )
        queues.set_cursor(
            conn, workspace_id, queues.SEARCH_STREAM, {"modified_ms": synced_ms, "object_id": 0}
        )
        # Edited in ColdCopy by a bulk load: no outbox row, only the lead digest tells.
        conn.execute(sa.text("SELECT set_config(:k, :v, true)"), {"k": WRITER_SETTING, "v": BULK_LOAD_WRITER})
        coldcopy_edited = conn.execute(
            sa.text(
                "UPDATE leads SET title = coalesce(title, '') || ' (edited in ColdCopy)' WHERE id IN ("
                "SELECT id FROM leads WHERE workspace_id = :w ORDER BY id OFFSET 3 LIMIT :n)"
            ),
            {"w": workspace_id, "n": max(contacts // step, 1)},
        ).rowcount
        for table in ("leads", "lead_digests", "hubspot_sync_status"):
            conn.execute(sa.text(f"ANALYZE {table}"))
    return {"contacts_loaded": loaded, "hubspot_edited": hubspot_edited, "coldcopy_edited": coldcopy_edited}


def _copy_floor(url: str, workspace_id: uuid.UUID) -> tuple[float, int]:
    from hubspot_pipeline.db.connection import get_engine

    raw = get_engine(url).raw_connection()
    started, copied = time.perf_counter(), 0
    try:
        with (
            raw.cursor() as cursor,
            cursor.copy(
                f"COPY (SELECT * FROM leads WHERE workspace_id = '{workspace_id}') TO STDOUT WITH (FORMAT csv)"
            ) as copy,
        ):
            for block in copy:
                copied += len(block)
    finally:
        raw.close()
    return time.perf_counter() - started, copied


def _run_resync(
    url: str, workspace_id: uuid.UUID, base_url: str, profile: Path | None = None
) -> tuple[dict, float, int]:
    """`hubspot-pipeline sync --full` in its own process: its report, wall seconds and peak RSS (MB); under
    cProfile, its statistics written to `profile`, when given."""
    program = [str(Path(sys.executable).parent / "hubspot-pipeline")]
    if profile is not None:
        program = [sys.executable, "-m", "cProfile", "-o", str(profile), "-m", "hubspot_pipeline.cli"]
    command = [
        *program,
        "sync",
        str(workspace_id),
        "--full",
        "--hubspot-url",
        base_url,
        "--private-app-token",
        TOKEN,
        "--json",
    ]
    env = {**os.environ, "DATABASE_URL": url}
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        process = subprocess.Popen(command, env=env, stdout=out, stderr=err, text=True)
        _, status, usage = os.wait4(process.pid, 0)  # its own rusage: the peak RSS of the sync process
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if process.returncode:
            raise SystemExit(f"the resync failed:\n{err.read()[-4000:]}")
        return json.loads(out.read()), seconds, usage.ru_maxrss // 1024


def coldcopy_side(stages: dict[str, float]) -> dict[str, float]:
    """ColdCopy's side of the contact resync, from the run's stage seconds, two ways:

    added: the wall time it adds to the read, what a run takes beyond waiting on HubSpot: the lead side's
    digest scan where it outlasts the read it runs beside, the scan's own stretch after the last page
    (comparing what arrived last, reading the leads and pairs of the contacts read), the plan and the record.
    work: all of its work, hidden behind the read or not: the lead side, reading the pairs' hashes, the
    comparison of every contact in CPU seconds, the rest of the scan's own stretch, the plan and the record.

    Neither counts the company stage: it runs after the contacts' record, with HubSpot calls of its own.
    """
    lead_side = stages.get("read_leads", 0.0)
    own = stages.get("read_contacts_coldcopy", 0.0) + stages.get("plan", 0.0) + stages.get("record", 0.0)
    return {
        "coldcopy_added_seconds": max(lead_side - stages.get("full_read", 0.0), 0.0) + own,
        "coldcopy_work_seconds": lead_side
        + stages.get("read_contacts_pairs", 0.0)
        + stages.get("read_contacts_compare", 0.0)
        + own,
    }


def _calls(counters: dict[str, Any]) -> dict[str, int]:
    by_endpoint = counters["byEndpoint"]

    def total(name: str, status: str | None = None) -> int:
        values = by_endpoint.get(name, {})
        return int(values.get(status, 0)) if status else int(sum(values.values()))

    writes = sum(
        sum(v.values())
        for name, v in by_endpoint.items()
        if name.startswith(("PATCH", "DELETE", "PUT"))
        or (
            name.startswith("POST")
            and not name.endswith(("/search", "batch/read"))
            and "/_sandbox" not in name
        )
    )
    searches = sum(sum(v.values()) for name, v in by_endpoint.items() if name.endswith("/search"))
    return {
        "list_contacts": total("GET /crm/v3/objects/contacts"),
        "search_contacts": total("POST /crm/v3/objects/contacts/search"),
        "all_searches": searches,
        "writes": writes,
        "general_budget": sum(sum(v.values()) for v in by_endpoint.values()) - searches,
        "rate_limited_429": sum(int(v.get("429", 0)) for v in by_endpoint.values()),
        "companies_and_associations": sum(
            sum(v.values()) for name, v in by_endpoint.items() if "compan" in name or "association" in name
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--contacts", type=int, default=100_000, help="leads in ColdCopy = contacts in HubSpot"
    )
    parser.add_argument(
        "--profile",
        type=Path,
        help="run the sync process under cProfile, its statistics to this file (its timings are then not the "
        "benchmark's)",
    )
    args = parser.parse_args()

    import httpx
    import sqlalchemy as sa

    from hubspot_pipeline.db import migrate
    from hubspot_pipeline.db.connection import get_engine
    from hubspot_pipeline.db.embedded import create_database, drop_database
    from hubspot_pipeline.demo.generate import DemoSize, load

    load_before = os.getloadavg()
    server, suffix = _server()
    admin_url, name = f"{server}/postgres{suffix}", f"bench_resync_{uuid.uuid4().hex[:8]}"
    create_database(admin_url, name)
    url = f"{server}/{name}{suffix}"
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    sandbox = _start_sandbox(port)
    try:
        migrate.upgrade(engine=get_engine(url))
        started = time.perf_counter()
        load(url, DemoSize(workspaces=1, leads=args.contacts, events=False))
        with get_engine(url).connect() as conn:
            workspace_id = conn.execute(sa.text("SELECT id FROM workspaces")).scalar_one()
        changes = _populate(url, workspace_id, base_url, args.contacts)
        setup_seconds = time.perf_counter() - started
        copy_seconds, copied = _copy_floor(url, workspace_id)
        get_engine(url).dispose()
        httpx.delete(f"{base_url}/_sandbox/counters")
        load_start = os.getloadavg()
        report, seconds, peak_mb = _run_resync(url, workspace_id, base_url, args.profile)
        load_end = os.getloadavg()
        counters = httpx.get(f"{base_url}/_sandbox/counters", timeout=60).json()
        with get_engine(url).connect() as conn:
            pulled_ok = conn.execute(
                sa.text(
                    "SELECT count(*) FROM leads WHERE workspace_id = :w AND title LIKE 'Edited in HubSpot %'"
                ),
                {"w": workspace_id},
            ).scalar_one()
    finally:
        sandbox.terminate()
        sandbox.wait(timeout=30)
        get_engine(url).dispose()
        drop_database(admin_url, name)

    stages = report.get("stage_seconds", {})
    read_seconds = stages.get("full_read", 0.0)
    side = coldcopy_side(stages)
    bound_two = args.contacts / 2000
    figures = {
        "contacts": args.contacts,
        **changes,
        "setup_seconds": round(setup_seconds, 1),
        "resync_seconds": round(seconds, 1),  # the command, process start to exit
        "run_seconds": report.get("seconds"),  # the contact sync, prepare to its record (run_contact_sync)
        "bound_two_budgets_seconds": round(bound_two, 1),
        "read_seconds": read_seconds,  # the full read: its first call to its last page
        "read_ratio_to_two_budget_bound": round(read_seconds / bound_two, 3),
        "read_ratio_to_one_budget_bound": round(read_seconds / (2 * bound_two), 3),
        "command_ratio_to_two_budget_bound": round(seconds / bound_two, 3),
        "stage_seconds": stages,
        "calls": _calls(counters),
        "counts": {
            k: report["counts"].get(k)
            for k in ("push", "pull", "pull_new", "conflicts", "unchanged", "scanned")
        },
        "companies": {k: v for k, v in report["counts"].items() if k.startswith("companies_")},
        "hubspot_edits_in_coldcopy_after": pulled_ok,
        **{k: round(v, 2) for k, v in side.items()},
        "copy_floor_seconds": round(copy_seconds, 2),
        "copy_mb": round(copied / 1e6, 1),
        "coldcopy_added_ratio_to_copy": round(side["coldcopy_added_seconds"] / copy_seconds, 2),
        "coldcopy_work_ratio_to_copy": round(side["coldcopy_work_seconds"] / copy_seconds, 2),
        "peak_rss_mb_sync_process": peak_mb,
        "load_average": {"before_setup": load_before, "at_start": load_start, "at_end": load_end},
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(figures, indent=2) + "\n")
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
