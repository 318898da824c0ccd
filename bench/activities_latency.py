"""Benchmark: an email event recorded in ColdCopy to its object in HubSpot, on the local stack, p50 and p95.

    .venv/bin/python bench/activities_latency.py --events 12

The real path, each part in its own process as under `hubspot-pipeline dev`: the sandbox (HubSpot), the API
(`hubspot-pipeline serve`) and `dagster-daemon run` on the project's Dagster instance (PostgreSQL storage,
queued run coordinator), whose `email_events_sensor` launches `activity_batches_job` runs. A workspace is
connected over OAuth to a new sandbox portal, its leads are synced once (POST /sync/contacts) and its activity
logging starts (`activity_backlog_sensor`, once the contacts exist). Then each event (a sent email: an email
engagement, the heaviest kind) is inserted as ColdCopy would and timed until its log row says `logged` with the
email's HubSpot id, and the email is read back from HubSpot. Events are sequential. Results go to
bench/results/activities_latency.json as well.
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
from datetime import UTC, datetime

import httpx
import sqlalchemy as sa
from live_stack import BIN, PREFIX, ROOT, poll, spawn, start_sandbox_and_api, stop


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=12)
    parser.add_argument("--api-port", type=int, default=8794)
    parser.add_argument("--sandbox-port", type=int, default=8795)
    args = parser.parse_args()

    sys.path.insert(0, str(ROOT))
    from hubspot_pipeline.activities.store.templates import forget_templates
    from hubspot_pipeline.api import keys
    from hubspot_pipeline.dagster_home import prepare_dagster_home
    from hubspot_pipeline.db import migrate
    from hubspot_pipeline.db.connection import database_url, get_engine
    from hubspot_pipeline.db.tables import (
        email_events,
        email_messages,
        hubspot_activity_log,
        hubspot_integrations,
        hubspot_sync_config,
        hubspot_sync_status,
        leads,
        workspaces,
    )
    from hubspot_pipeline.sandbox.admin_client import SandboxAdmin
    from hubspot_pipeline.settings import get_settings

    database_url()
    migrate.upgrade()
    settings = get_settings()
    prepare_dagster_home(settings)  # DAGSTER_HOME and DAGSTER_PG_URL for the daemon, in this environment
    sandbox_url = f"http://127.0.0.1:{args.sandbox_port}"
    api_url = f"http://127.0.0.1:{args.api_port}"
    env = {**os.environ, "HUBSPOT_API_BASE_URL": sandbox_url}
    logs = ROOT / "bench" / "results"
    logs.mkdir(parents=True, exist_ok=True)
    children: list[subprocess.Popen] = []
    engine = get_engine()
    workspace = None
    try:
        start_sandbox_and_api(children, env, logs, "activities", args.sandbox_port, args.api_port)
        admin = SandboxAdmin(sandbox_url, 1234567)
        hub_id, _ = admin.add_portal(900_000_000 + uuid.uuid4().int % 10_000_000)
        with engine.begin() as conn:
            forget_templates(conn, settings.hubspot_app_id)  # a new sandbox is a new HubSpot app
            workspace = conn.execute(
                sa.insert(workspaces)
                .values(name="bench activity latency", slug=f"bench-{uuid.uuid4().hex[:10]}")
                .returning(workspaces.c.id)
            ).scalar_one()
            key = keys.issue_key(conn, workspace, "bench").key
            lead_ids = [
                conn.execute(
                    sa.insert(leads)
                    .values(workspace_id=workspace, email=f"event{i}@example.com", first_name=f"Lead{i}")
                    .returning(leads.c.id)
                ).scalar_one()
                for i in range(args.events)
            ]
        headers = {"Authorization": f"Bearer {key}"}
        start = httpx.get(f"{api_url}{PREFIX}/auth", params={"redirect": "false"}, headers=headers).json()
        approved = httpx.get(f"{start['authorize_url']}&hub_id={hub_id}", follow_redirects=False)
        query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(approved.headers["location"]).query))
        httpx.get(f"{api_url}{PREFIX}/callback", params=query).raise_for_status()

        children.append(
            spawn(
                [str(BIN / "dagster-daemon"), "run", "-w", "workspace.yaml"],
                env,
                logs / "activities_daemon.log",
            )
        )
        httpx.post(f"{api_url}{PREFIX}/sync/contacts", json={}, headers=headers).raise_for_status()

        def contacts() -> int:
            with engine.connect() as conn:
                return conn.scalar(
                    sa.select(sa.func.count()).where(
                        hubspot_sync_status.c.workspace_id == workspace,
                        hubspot_sync_status.c.entity_type == "contact",
                        hubspot_sync_status.c.hubspot_id.is_not(None),
                    )
                )

        def started() -> bool:
            with engine.connect() as conn:
                return (
                    conn.scalar(
                        sa.select(hubspot_sync_config.c.activities_since).where(
                            hubspot_sync_config.c.workspace_id == workspace
                        )
                    )
                    is not None
                )

        first_sync = poll("the first contact sync", lambda: contacts() == args.events, 300)
        start_wait = poll("activity logging to start", started, 300)
        time.sleep(6)  # the event sensor's cursor moves past anything recorded before
        latencies = []
        for i, lead_id in enumerate(lead_ids):
            now = datetime.now(UTC)
            with engine.begin() as conn:
                message_id = conn.execute(
                    sa.insert(email_messages)
                    .values(
                        workspace_id=workspace, lead_id=lead_id, direction="sent", campaign_step=1,
                        message_id_header=f"<{uuid.uuid4().hex}@mail.bench.example.com>",
                        from_address="sam@bench.example.com", from_name="Sam Carter",
                        to_address=f"event{i}@example.com", to_name=f"Lead{i}", subject=f"Hello {i}",
                        body_text="Worth a call?", sent_at=now,
                    )
                    .returning(email_messages.c.id)
                ).scalar_one()  # fmt: skip
                event_id = conn.execute(
                    sa.insert(email_events)
                    .values(
                        workspace_id=workspace, lead_id=lead_id, event_type="sent", occurred_at=now,
                        message_id=message_id,
                    )
                    .returning(email_events.c.id)
                ).scalar_one()  # fmt: skip
            recorded = time.monotonic()

            def logged(event_id: uuid.UUID = event_id) -> str | None:
                with engine.connect() as conn:
                    return conn.scalar(
                        sa.select(hubspot_activity_log.c.hubspot_object_id).where(
                            hubspot_activity_log.c.email_event_id == event_id,
                            hubspot_activity_log.c.status == "logged",
                        )
                    )

            poll(f"event {i} to reach HubSpot", lambda: logged() is not None, 180)
            latencies.append(time.monotonic() - recorded)
            token = admin.issue_oauth_token(hub_id=hub_id)["access_token"]
            email = httpx.get(
                f"{sandbox_url}/crm/v3/objects/emails/{logged()}",
                params={"properties": "hs_email_subject"},
                headers={"Authorization": f"Bearer {token}"},
            )
            assert email.json()["properties"]["hs_email_subject"] == f"Hello {i}", email.text
            print(f"event {i}: {latencies[-1]:.2f} s", flush=True)
        latencies.sort()
        result = {
            "events": args.events,
            "first_contact_sync_s": round(first_sync, 1),
            "activity_start_wait_s": round(start_wait, 1),
            "p50_s": round(statistics.median(latencies), 2),
            "p95_s": round(latencies[max(0, round(len(latencies) * 0.95) - 1)], 2),
            "min_s": round(latencies[0], 2),
            "max_s": round(latencies[-1], 2),
            "cpus": os.cpu_count(),
            "load_average_1m": round(os.getloadavg()[0], 2),
        }
        (logs / "activities_latency.json").write_text(json.dumps(result, indent=2))
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
