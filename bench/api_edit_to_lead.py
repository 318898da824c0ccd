"""Benchmark: a contact edited in HubSpot to its lead updated, on the local stack, p50 and p95.

    .venv/bin/python bench/api_edit_to_lead.py --edits 12

The whole real path, each part in its own process as under `hubspot-pipeline dev`: the sandbox (HubSpot) with
its webhooks pointed at `hubspot-pipeline serve`, and `dagster-daemon run` on the project's Dagster instance
(PostgreSQL storage, queued run coordinator), whose webhook-queue sensor launches `contacts_sync_job` runs.
A workspace is connected over OAuth to a new sandbox portal and its leads are synced once; then each edit is
made through the sandbox's UI surface and timed until the lead's first_name holds the new value. Edits are
sequential. Results go to bench/results/api_edit_to_lead.json as well.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import urllib.parse
import uuid

import httpx
import sqlalchemy as sa
from live_stack import BIN, PREFIX, ROOT, poll, spawn, start_sandbox_and_api, stop


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--edits", type=int, default=12)
    parser.add_argument("--api-port", type=int, default=8792)
    parser.add_argument("--sandbox-port", type=int, default=8793)
    parser.add_argument(
        "--dequeue-interval",
        type=int,
        default=None,
        help="override the run queue's dequeue_interval_seconds in this run's Dagster home (default: dagster.yaml's)",
    )
    args = parser.parse_args()

    sys.path.insert(0, str(ROOT))
    from hubspot_pipeline.api import keys
    from hubspot_pipeline.dagster_home import prepare_dagster_home
    from hubspot_pipeline.db import migrate
    from hubspot_pipeline.db.connection import database_url, get_engine
    from hubspot_pipeline.db.tables import hubspot_integrations, hubspot_sync_status, leads, workspaces
    from hubspot_pipeline.sandbox.admin_client import SandboxAdmin
    from hubspot_pipeline.settings import get_settings

    database_url()
    migrate.upgrade()
    settings = get_settings()
    home = prepare_dagster_home(
        settings
    )  # DAGSTER_HOME and DAGSTER_PG_URL for the daemon, in this environment
    if args.dequeue_interval is not None:
        instance_yaml = home / "dagster.yaml"
        text = instance_yaml.read_text().replace(
            "  class: QueuedRunCoordinator\n",
            f"  class: QueuedRunCoordinator\n  config:\n    dequeue_interval_seconds: {args.dequeue_interval}\n",
        )
        instance_yaml.write_text(text)
    sandbox_url = f"http://127.0.0.1:{args.sandbox_port}"
    api_url = f"http://127.0.0.1:{args.api_port}"
    env = {**os.environ, "HUBSPOT_API_BASE_URL": sandbox_url}
    logs = ROOT / "bench" / "results"
    logs.mkdir(parents=True, exist_ok=True)
    children: list[subprocess.Popen] = []
    engine = get_engine()
    workspace = None
    try:
        start_sandbox_and_api(children, env, logs, "edit", args.sandbox_port, args.api_port)
        admin = SandboxAdmin(sandbox_url, 1234567)
        hub_id, _ = admin.add_portal(900_000_000 + uuid.uuid4().int % 10_000_000)

        with engine.begin() as conn:
            workspace = conn.execute(
                sa.insert(workspaces)
                .values(name="bench edit to lead", slug=f"bench-{uuid.uuid4().hex[:10]}")
                .returning(workspaces.c.id)
            ).scalar_one()
            key = keys.issue_key(conn, workspace, "bench").key
            conn.execute(
                sa.insert(leads),
                [
                    {"workspace_id": workspace, "email": f"edit{i}@example.com", "first_name": f"Lead{i}"}
                    for i in range(args.edits)
                ],
            )
        headers = {"Authorization": f"Bearer {key}"}
        start = httpx.get(f"{api_url}{PREFIX}/auth", params={"redirect": "false"}, headers=headers).json()
        approved = httpx.get(f"{start['authorize_url']}&hub_id={hub_id}", follow_redirects=False)
        query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(approved.headers["location"]).query))
        httpx.get(f"{api_url}{PREFIX}/callback", params=query).raise_for_status()
        developer = {"hapikey": "sandbox-developer-key"}
        webhooks = f"{sandbox_url}/webhooks/v3/{settings.hubspot_app_id}"
        httpx.put(
            f"{webhooks}/settings",
            params=developer,
            json={"targetUrl": f"{api_url}{PREFIX}/webhooks", "throttling": {"maxConcurrentRequests": 10}},
        ).raise_for_status()
        for body in (
            {"eventType": "contact.propertyChange", "propertyName": "firstname", "active": True},
            {"eventType": "contact.creation", "active": True},
        ):
            httpx.post(f"{webhooks}/subscriptions", params=developer, json=body).raise_for_status()

        children.append(
            spawn([str(BIN / "dagster-daemon"), "run", "-w", "workspace.yaml"], env, logs / "edit_daemon.log")
        )
        httpx.post(f"{api_url}{PREFIX}/sync/contacts", json={}, headers=headers).raise_for_status()

        def synced() -> dict[str, str]:
            with engine.connect() as conn:
                rows = conn.execute(
                    sa.select(leads.c.email, hubspot_sync_status.c.hubspot_id)
                    .join(hubspot_sync_status, hubspot_sync_status.c.entity_id == leads.c.id)
                    .where(leads.c.workspace_id == workspace, hubspot_sync_status.c.status == "synced")
                ).all()
            return {row.email: row.hubspot_id for row in rows}

        first_sync = poll("the first sync", lambda: len(synced()) == args.edits, 300)
        ids = synced()
        time.sleep(10)  # let the echo of the first sync (creation webhooks and their run) pass
        latencies = []
        for i in range(args.edits):
            value = f"Edit{i}-{uuid.uuid4().hex[:6]}"
            email = f"edit{i}@example.com"

            def arrived(email: str = email, value: str = value) -> bool:
                with engine.connect() as conn:
                    return (
                        conn.execute(
                            sa.select(leads.c.first_name).where(
                                leads.c.workspace_id == workspace, leads.c.email == email
                            )
                        ).scalar_one()
                        == value
                    )

            admin.ui_edit(ids[email], {"firstname": value}, hub_id=hub_id)
            latencies.append(poll(f"edit {i} to reach its lead", arrived, 120))
            print(f"edit {i}: {latencies[-1]:.2f} s", flush=True)
        latencies.sort()
        result = {
            "edits": args.edits,
            "first_sync_s": round(first_sync, 1),
            "p50_s": round(statistics.median(latencies), 2),
            "p95_s": round(latencies[max(0, round(len(latencies) * 0.95) - 1)], 2),
            "min_s": round(latencies[0], 2),
            "max_s": round(latencies[-1], 2),
            "cpus": os.cpu_count(),
            "dequeue_interval_seconds": args.dequeue_interval or "dagster.yaml",
            "load_average_1m": round(os.getloadavg()[0], 2),
        }
        name = (
            "api_edit_to_lead.json"
            if args.dequeue_interval is None
            else f"api_edit_to_lead_dq{args.dequeue_interval}.json"
        )
        (logs / name).write_text(json.dumps(result, indent=2))
        print(json.dumps(result, indent=2))
    finally:
        stop(children)
        if workspace is not None:
            # Leave nothing syncing behind: the workspace stays, disconnected, for the record.
            with engine.begin() as conn:
                conn.execute(
                    sa.update(hubspot_integrations)
                    .where(hubspot_integrations.c.workspace_id == workspace)
                    .values(access_token=None, refresh_token=None)
                )


if __name__ == "__main__":
    main()
