"""Benchmark: a positive reply to its contact's enrolment in a HubSpot workflow, on the local stack, p50 and
p95, through both paths.

    .venv/bin/python bench/workflows_reply_to_enrollment.py --replies 10

Each part in its own process as under `hubspot-pipeline dev`: the sandbox (HubSpot), `hubspot-pipeline serve`
and `dagster-daemon run` on the project's Dagster instance (PostgreSQL storage, queued run coordinator). A
workspace is connected over OAuth to a new sandbox portal with a contact workflow, its leads are synced once
(a sync request, run by the daemon), and one trigger is saved through the API (positive_reply -> enrol).

- **API path**: ColdCopy posts each reply to POST /workflows/process, which stores it, decides its intent
  and enrols within the request; timed from the POST until the sandbox lists the enrolment.
- **Sensor path**: each reply is recorded as ColdCopy and the scoring record one (the reply, its intent and
  an `intent_decided` engagement event, in one transaction); `engagement_threshold_sensor` (5 s) launches
  the workspace's `workflow_triggers_job`, whose run enrols; timed from the commit until the sandbox lists the
  enrolment.

Replies are sequential. Results go to bench/results/workflows_reply_to_enrollment.json as well.
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

TEXT = "Yes - I'm interested. Can we set up a call next week?"
WORKFLOW_ID = 8181


def _summary(latencies: list[float]) -> dict[str, float]:
    ordered = sorted(latencies)
    return {
        "p50_s": round(statistics.median(ordered), 2),
        "p95_s": round(ordered[max(0, round(len(ordered) * 0.95) - 1)], 2),
        "min_s": round(ordered[0], 2),
        "max_s": round(ordered[-1], 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--replies", type=int, default=10, help="replies per path")
    parser.add_argument("--api-port", type=int, default=8794)
    parser.add_argument("--sandbox-port", type=int, default=8795)
    args = parser.parse_args()

    sys.path.insert(0, str(ROOT))
    from hubspot_pipeline.api import keys
    from hubspot_pipeline.dagster_home import prepare_dagster_home
    from hubspot_pipeline.db import migrate
    from hubspot_pipeline.db.connection import database_url, get_engine
    from hubspot_pipeline.db.tables import (
        email_events,
        email_messages,
        hubspot_integrations,
        hubspot_sync_status,
        leads,
        workspaces,
    )
    from hubspot_pipeline.sandbox.admin_client import SandboxAdmin
    from hubspot_pipeline.scoring.store.events import append_events, intent_decided
    from hubspot_pipeline.settings import get_settings

    database_url()
    migrate.upgrade()
    settings = get_settings()
    prepare_dagster_home(settings)
    sandbox_url = f"http://127.0.0.1:{args.sandbox_port}"
    api_url = f"http://127.0.0.1:{args.api_port}"
    env = {**os.environ, "HUBSPOT_API_BASE_URL": sandbox_url}
    logs = ROOT / "bench" / "results"
    logs.mkdir(parents=True, exist_ok=True)
    children: list[subprocess.Popen] = []
    engine = get_engine()
    workspace = None
    total = args.replies * 2
    try:
        start_sandbox_and_api(children, env, logs, "wf", args.sandbox_port, args.api_port)
        admin = SandboxAdmin(sandbox_url, 1234567)
        hub_id, _ = admin.add_portal(900_000_000 + uuid.uuid4().int % 10_000_000)
        flow = admin.add_flow("Interested replies", workflow_id=WORKFLOW_ID, hub_id=hub_id)

        with engine.begin() as conn:
            workspace = conn.execute(
                sa.insert(workspaces)
                .values(name="bench reply to enrolment", slug=f"bench-{uuid.uuid4().hex[:10]}")
                .returning(workspaces.c.id)
            ).scalar_one()
            key = keys.issue_key(conn, workspace, "bench").key
            lead_ids = list(
                conn.execute(
                    sa.insert(leads).returning(leads.c.id, sort_by_parameter_order=True),
                    [
                        {"workspace_id": workspace, "email": f"reply{i}@example.com", "first_name": f"L{i}"}
                        for i in range(total)
                    ],
                ).scalars()
            )
        headers = {"Authorization": f"Bearer {key}"}
        start = httpx.get(f"{api_url}{PREFIX}/auth", params={"redirect": "false"}, headers=headers).json()
        approved = httpx.get(f"{start['authorize_url']}&hub_id={hub_id}", follow_redirects=False)
        query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(approved.headers["location"]).query))
        httpx.get(f"{api_url}{PREFIX}/callback", params=query).raise_for_status()

        children.append(
            spawn([str(BIN / "dagster-daemon"), "run", "-w", "workspace.yaml"], env, logs / "wf_daemon.log")
        )
        httpx.post(f"{api_url}{PREFIX}/sync/contacts", json={}, headers=headers).raise_for_status()

        def synced() -> int:
            with engine.connect() as conn:
                return conn.execute(
                    sa.select(sa.func.count()).where(
                        hubspot_sync_status.c.workspace_id == workspace,
                        hubspot_sync_status.c.entity_type == "contact",
                        hubspot_sync_status.c.hubspot_id.is_not(None),
                    )
                ).scalar_one()

        first_sync = poll("the first sync", lambda: synced() == total, 300, every=0.05)
        trigger = {
            "name": "Interested replies",
            "event_type": "positive_reply",
            "actions": [{"type": "enroll", "flow_id": flow["id"]}],
        }
        httpx.post(
            f"{api_url}{PREFIX}/workflows", json=trigger, headers=headers, timeout=30
        ).raise_for_status()
        time.sleep(10)  # let the sensor take its first cursor and the first sync's runs finish

        def enrolled(email: str) -> bool:
            return any(
                e["email"] == email and e["workflowId"] == WORKFLOW_ID
                for e in admin.enrollments(hub_id=hub_id)
            )

        api_latencies = []
        for i in range(args.replies):
            email = f"reply{i}@example.com"
            event = {
                "event_id": str(uuid.uuid4()),
                "event_type": "replied",
                "lead_id": str(lead_ids[i]),
                "occurred_at": datetime.now(UTC).isoformat(),
                "message": {
                    "message_id_header": f"<{uuid.uuid4().hex}@bench.example.com>",
                    "subject": "Re: hi",
                    "text": TEXT,
                },
            }
            began = time.monotonic()
            httpx.post(
                f"{api_url}{PREFIX}/workflows/process", json=event, headers=headers, timeout=60
            ).raise_for_status()
            api_latencies.append(
                poll(f"API reply {i}", lambda email=email: enrolled(email), 120, began, every=0.05)
            )
            print(f"api reply {i}: {api_latencies[-1]:.2f} s", flush=True)

        sensor_latencies = []
        for i in range(args.replies, total):
            email = f"reply{i}@example.com"
            now = datetime.now(UTC)
            with engine.begin() as conn:  # as ColdCopy stores a reply and the scoring decides its intent
                message = conn.execute(
                    sa.insert(email_messages)
                    .values(
                        workspace_id=workspace,
                        lead_id=lead_ids[i],
                        direction="received",
                        message_id_header=f"<{uuid.uuid4().hex}@bench.example.com>",
                        from_address=email,
                        to_address="sam@coldcopy.example.com",
                        subject="Re: hi",
                        body_text=TEXT,
                        sent_at=now,
                        intent="interested",
                        intent_confidence=0.9,
                        intent_source="classifier",
                        intent_reason="intent_phrase",
                        intent_classified_at=now,
                    )
                    .returning(email_messages.c.id)
                ).scalar_one()
                conn.execute(
                    sa.insert(email_events).values(
                        workspace_id=workspace,
                        lead_id=lead_ids[i],
                        event_type="replied",
                        occurred_at=now,
                        message_id=message,
                    )
                )
                append_events(conn, [intent_decided(workspace, lead_ids[i], message, "interested", 0.9)])
            began = time.monotonic()
            sensor_latencies.append(
                poll(f"sensor reply {i}", lambda email=email: enrolled(email), 180, began, every=0.05)
            )
            print(f"sensor reply {i}: {sensor_latencies[-1]:.2f} s", flush=True)

        result = {
            "replies_per_path": args.replies,
            "first_sync_s": round(first_sync, 1),
            "api_process": _summary(api_latencies),
            "sensor": _summary(sensor_latencies),
            "cpus": os.cpu_count(),
            "load_average_1m": round(os.getloadavg()[0], 2),
        }
        (logs / "workflows_reply_to_enrollment.json").write_text(json.dumps(result, indent=2))
        print(json.dumps(result, indent=2))
    finally:
        stop(children)
        if workspace is not None:
            with engine.begin() as conn:  # leave nothing syncing behind
                conn.execute(
                    sa.update(hubspot_integrations)
                    .where(hubspot_integrations.c.workspace_id == workspace)
                    .values(access_token=None, refresh_token=None)
                )


if __name__ == "__main__":
    main()
