"""Benchmark: webhook ingest of the API over real HTTP, and crash safety under that load.

    .venv/bin/python bench/api_webhook_ingest.py --seconds 20 --concurrency 10 --workers 2
    .venv/bin/python bench/api_webhook_ingest.py --seconds 10 --concurrency 10 --workers 2 --kill-after 5

Starts `hubspot-pipeline serve` on the project database (DATABASE_URL, or the embedded PostgreSQL), a
workspace connected to a fresh portal id, and posts batches of 100 validly signed v3 events (as HubSpot does,
at most `--concurrency` requests in flight). Reports events/s and p50/p99 request latency.

With `--kill-after S`, the API's process group gets SIGKILL S seconds into the load; then every event of every
request that had been answered 2xx is looked up in `webhook_events`: none may be missing. The bench's rows are
deleted at the end. Results go to bench/results/api_webhook_ingest.json as well.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
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
PATH = "/api/integrations/hubspot/webhooks"


def _setup(engine: sa.Engine) -> tuple[uuid.UUID, int]:
    from hubspot_pipeline.db.tables import hubspot_integrations, workspaces

    portal = 880_000_000 + uuid.uuid4().int % 10_000_000
    with engine.begin() as conn:
        workspace = conn.execute(
            sa.insert(workspaces)
            .values(name="bench webhook ingest", slug=f"bench-{uuid.uuid4().hex[:10]}")
            .returning(workspaces.c.id)
        ).scalar_one()
        # A connected integration as the OAuth callback leaves it (only the ids matter to ingest).
        conn.execute(
            sa.insert(hubspot_integrations).values(
                workspace_id=workspace, hub_id=str(portal), access_token="bench", refresh_token="bench"
            )
        )
    return workspace, portal


def _cleanup(engine: sa.Engine, workspace: uuid.UUID) -> None:
    from hubspot_pipeline.db.tables import audit_log, hubspot_integrations, webhook_events, workspaces

    with engine.begin() as conn:
        for table in (webhook_events, hubspot_integrations, audit_log):
            conn.execute(sa.delete(table).where(table.c.workspace_id == workspace))
        conn.execute(sa.delete(workspaces).where(workspaces.c.id == workspace))


def _start_api(port: int, workers: int) -> subprocess.Popen:
    binary = Path(sys.executable).parent / "hubspot-pipeline"
    process = subprocess.Popen(
        [str(binary), "serve", "--port", str(port), "--workers", str(workers)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if (
                httpx.get(f"http://127.0.0.1:{port}/api/integrations/hubspot/health", timeout=1).status_code
                == 200
            ):
                return process
        except httpx.TransportError:
            time.sleep(0.2)
    os.killpg(process.pid, signal.SIGKILL)
    raise SystemExit("the API did not start within 60 s")


async def _load(
    port: int,
    portal: int,
    secret: str,
    seconds: float,
    concurrency: int,
    kill_after: float | None,
    process: subprocess.Popen,
) -> dict:
    from hubspot_pipeline.hubspot.signatures import sign_v3

    uri = f"http://127.0.0.1:{port}{PATH}"
    event_ids = itertools.count(1)
    latencies: list[float] = []
    acknowledged: list[int] = []  # eventIds answered 2xx
    failures: dict[str, int] = {}
    start = time.perf_counter()
    stop_at = start + seconds
    killed_at: list[float] = []

    async def worker(client: httpx.AsyncClient) -> None:
        while time.perf_counter() < stop_at:
            now_ms = int(time.time() * 1000)
            ids = [next(event_ids) for _ in range(100)]
            events = [
                {"eventId": i, "subscriptionId": 25, "portalId": portal, "appId": 1, "occurredAt": now_ms,
                 "subscriptionType": "contact.propertyChange", "attemptNumber": 0, "objectId": 10_000 + i,
                 "changeSource": "CRM_UI", "propertyName": "firstname", "propertyValue": f"name {i}"}
                for i in ids
            ]  # fmt: skip
            body = json.dumps(events).encode()
            headers = {
                "Content-Type": "application/json",
                "X-HubSpot-Signature-v3": sign_v3(secret, "POST", uri, body, now_ms),
                "X-HubSpot-Request-Timestamp": str(now_ms),
            }
            sent = time.perf_counter()
            try:
                response = await client.post(PATH, content=body, headers=headers)
            except httpx.TransportError as error:
                failures[type(error).__name__] = failures.get(type(error).__name__, 0) + 1
                if killed_at:
                    return
                await asyncio.sleep(0.05)
                continue
            latencies.append(time.perf_counter() - sent)
            if 200 <= response.status_code < 300:
                acknowledged.extend(ids)
            else:
                failures[str(response.status_code)] = failures.get(str(response.status_code), 0) + 1

    async def killer() -> None:
        if kill_after is None:
            return
        await asyncio.sleep(kill_after)
        os.killpg(process.pid, signal.SIGKILL)
        killed_at.append(time.perf_counter() - start)

    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", limits=limits, timeout=10) as client:
        await asyncio.gather(killer(), *(worker(client) for _ in range(concurrency)))
    elapsed = killed_at[0] if killed_at else time.perf_counter() - start
    latencies.sort()
    return {
        "elapsed_s": round(elapsed, 2),
        "requests_ok": len(acknowledged) // 100,
        "events_acknowledged": len(acknowledged),
        "events_per_s": round(len(acknowledged) / elapsed, 1),
        "p50_ms": round(statistics.median(latencies) * 1000, 1) if latencies else None,
        "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1] * 1000, 1) if latencies else None,
        "failures": failures,
        "killed_at_s": round(killed_at[0], 2) if killed_at else None,
        "_acknowledged": acknowledged,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument(
        "--concurrency", type=int, default=10, help="requests in flight (HubSpot's default: 10)"
    )
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    parser.add_argument("--port", type=int, default=8791)
    parser.add_argument(
        "--kill-after", type=float, default=None, help="SIGKILL the API after this many seconds"
    )
    args = parser.parse_args()

    sys.path.insert(0, str(ROOT))
    from hubspot_pipeline.db import migrate
    from hubspot_pipeline.db.connection import database_url, get_engine
    from hubspot_pipeline.db.tables import webhook_events
    from hubspot_pipeline.settings import get_settings

    database_url()  # the API child inherits DATABASE_URL (embedded server started here if unset)
    migrate.upgrade()
    engine = get_engine()
    workspace, portal = _setup(engine)
    process = _start_api(args.port, args.workers)
    try:
        secret = get_settings().hubspot_client_secret.get_secret_value()
        result = asyncio.run(
            _load(args.port, portal, secret, args.seconds, args.concurrency, args.kill_after, process)
        )
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=30)
    acknowledged = result.pop("_acknowledged")
    with engine.connect() as conn:
        stored = set(
            conn.execute(
                sa.select(webhook_events.c.event_id).where(webhook_events.c.workspace_id == workspace)
            ).scalars()
        )
    missing = len(set(acknowledged) - stored)
    result.update(
        events_stored=len(stored),
        acknowledged_but_missing=missing,
        concurrency=args.concurrency,
        workers=args.workers,
        batch=100,
        cpus=os.cpu_count(),
    )
    _cleanup(engine, workspace)
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    name = "api_webhook_ingest_kill.json" if args.kill_after is not None else "api_webhook_ingest.json"
    (out / name).write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))
    if missing:
        raise SystemExit(f"{missing} acknowledged events are missing from webhook_events")


if __name__ == "__main__":
    main()
