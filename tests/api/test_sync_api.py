"""POST /sync/contacts, GET /sync/requests/{id} and GET /sync/status: requests are queued with their options
and ids; the status gathers recent runs, rows in error, the retry index, cursor lag and queue depths for the
caller's workspace only. The sensor that launches the runs is tested in test_sensors.py."""

from __future__ import annotations

import time
import uuid

import sqlalchemy as sa
from api_support import Tenant, make_tenant, url
from fastapi.testclient import TestClient

from hubspot_pipeline.db.tables import hubspot_sync_status, lead_changes, leads, sync_cursors, sync_requests


def test_a_sync_request_is_queued_with_its_options(client: TestClient, tenant: Tenant, engine) -> None:
    response = client.post(url("/sync/contacts"), json={"dry_run": True}, headers=tenant.headers)
    assert response.status_code == 202
    body = response.json()
    assert (body["status"], body["dry_run"], body["full_resync"], body["kind"]) == (
        "queued",
        True,
        False,
        "contacts",
    )
    with engine.connect() as conn:
        row = conn.execute(sa.select(sync_requests).where(sync_requests.c.id == uuid.UUID(body["id"]))).one()
    assert row.workspace_id == tenant.workspace_id and row.requested_by.startswith("api-key:")
    assert client.get(url(f"/sync/requests/{body['id']}"), headers=tenant.headers).json() == body


def test_a_request_without_a_body_is_an_ordinary_sync(client: TestClient, tenant: Tenant) -> None:
    body = client.post(url("/sync/contacts"), headers=tenant.headers).json()
    assert (body["dry_run"], body["full_resync"]) == (False, False)


def test_an_unknown_option_is_refused_by_name(client: TestClient, tenant: Tenant) -> None:
    response = client.post(url("/sync/contacts"), json={"dryrun": True}, headers=tenant.headers)
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == "dryrun"


def test_the_status_reports_errors_retry_index_cursors_and_queues(client, tenant: Tenant, engine) -> None:
    now_ms = int(time.time() * 1000)
    with engine.begin() as conn:
        lead_ids = [
            conn.execute(
                sa.insert(leads)
                .values(workspace_id=tenant.workspace_id, email=f"l{i}@example.com")
                .returning(leads.c.id)
            ).scalar_one()
            for i in range(3)
        ]
        last_change = conn.execute(
            sa.select(sa.func.max(lead_changes.c.id)).where(
                lead_changes.c.workspace_id == tenant.workspace_id
            )
        ).scalar_one()
        for lead_id, status, message, attempts, dead_at in (
            (lead_ids[0], "synced", None, 0, None),
            (lead_ids[1], "error", "Property values were not valid: phone", 2, None),
            (lead_ids[2], "error", "gave up", 10, sa.func.now()),
        ):
            conn.execute(
                sa.insert(hubspot_sync_status).values(
                    workspace_id=tenant.workspace_id,
                    entity_type="contact",
                    entity_id=lead_id,
                    status=status,
                    error_message=message,
                    attempts=attempts,
                    dead_at=dead_at,
                )
            )
        conn.execute(
            sa.insert(sync_cursors),
            [
                {"workspace_id": tenant.workspace_id, "stream": "lead_outbox", "cursor": last_change - 1},
                {
                    "workspace_id": tenant.workspace_id,
                    "stream": "hubspot_contacts_search",
                    "cursor": {"modified_ms": now_ms - 60_000, "object_id": 7},
                },
            ],
        )
    client.post(url("/sync/contacts"), json={}, headers=tenant.headers)
    status = client.get(url("/sync/status"), headers=tenant.headers).json()
    assert status["entities"] == {"contact": {"synced": 1, "error": 2}}
    assert status["retry_index"] == {"size": 1, "dead": 1}
    assert {row["error_message"] for row in status["errors"]} == {
        "Property values were not valid: phone",
        "gave up",
    }
    cursors = {cursor["stream"]: cursor for cursor in status["cursors"]}
    assert 59 <= cursors["hubspot_contacts_search"]["data_lag_seconds"] < 120
    assert cursors["lead_outbox"]["position"] == last_change - 1
    assert status["queues"]["lead_changes_pending"] == 1
    assert status["queues"]["sync_requests_pending"] == 1
    assert status["recent_runs"][0]["status"] == "queued"


def test_a_workspace_not_connected_to_hubspot_cannot_queue_a_sync(client: TestClient, engine) -> None:
    lonely = make_tenant(engine, connected=False)
    response = client.post(url("/sync/contacts"), json={}, headers=lonely.headers)
    assert response.status_code == 409
    assert "GET /api/integrations/hubspot/auth" in response.json()["error"]["message"]
