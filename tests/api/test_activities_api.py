"""POST /sync/activities queues an activity request (date range and event types checked, as POST /sync/contacts
queues its own); GET /sync/status reports the email activity's backlog, logged counts, last logged time and
errors, for the caller's workspace only; PUT /config sets the activity choices. The sensor that turns requests
into runs is tested with the Dagster definitions."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from api_support import Tenant, make_tenant, url
from fastapi.testclient import TestClient

from hubspot_pipeline.db.tables import (
    email_events,
    hubspot_activity_log,
    hubspot_sync_config,
    hubspot_sync_status,
    leads,
    sync_requests,
)

TODAY = datetime.now(UTC).date()


def test_an_activity_request_is_queued_with_its_range_and_types(
    client: TestClient, tenant: Tenant, engine
) -> None:
    start = str(TODAY - timedelta(days=30))
    response = client.post(
        url("/sync/activities"),
        json={"date_from": start, "date_to": str(TODAY), "event_types": ["opened", "sent", "opened"]},
        headers=tenant.headers,
    )
    assert response.status_code == 202, response.text
    body = response.json()
    assert (body["kind"], body["status"], body["date_from"], body["date_to"]) == (
        "activities",
        "queued",
        start,
        str(TODAY),
    )
    with engine.connect() as conn:
        row = conn.execute(sa.select(sync_requests).where(sync_requests.c.id == uuid.UUID(body["id"]))).one()
    assert row.kind == "activities" and sorted(row.event_types) == ["opened", "opened", "sent"]
    assert client.get(url(f"/sync/requests/{body['id']}"), headers=tenant.headers).json() == body


def test_without_a_body_every_pending_day_is_requested(client: TestClient, tenant: Tenant) -> None:
    body = client.post(url("/sync/activities"), headers=tenant.headers).json()
    assert (body["date_from"], body["date_to"], body["event_types"]) == (None, None, None)
    only_from = client.post(
        url("/sync/activities"), json={"date_from": str(TODAY - timedelta(days=2))}, headers=tenant.headers
    ).json()
    assert only_from["date_to"] == str(TODAY)


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ({"date_to": str(TODAY)}, "date_to needs date_from"),
        ({"date_from": str(TODAY), "date_to": str(TODAY - timedelta(days=1))}, "is before date_from"),
        ({"date_from": str(TODAY + timedelta(days=1))}, "is in the future"),
        ({"date_from": str(TODAY - timedelta(days=400)), "date_to": str(TODAY)}, "at most 366 days"),
        ({"date_from": "2023-12-31", "date_to": "2024-01-02"}, "before 2024-01-01"),
        ({"event_types": []}, "name at least one"),
        ({"event_types": ["forwarded"]}, "event_types"),
        ({"date_from": "yesterday"}, "date_from"),
        ({"days": 3}, "days"),
    ],
)
def test_a_bad_activity_request_says_what_to_fix(
    client: TestClient, tenant: Tenant, payload: dict, expected: str
) -> None:
    response = client.post(url("/sync/activities"), json=payload, headers=tenant.headers)
    assert response.status_code == 422
    assert expected in str(response.json())


def test_a_workspace_with_activity_sync_off_or_unconnected_is_refused(client: TestClient, engine) -> None:
    off = make_tenant(engine)
    with engine.begin() as conn:
        conn.execute(
            sa.insert(hubspot_sync_config).values(workspace_id=off.workspace_id, sync_activities=False)
        )
    refused = client.post(url("/sync/activities"), headers=off.headers)
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "activities_off"
    lonely = make_tenant(engine, connected=False)
    assert (
        client.post(url("/sync/activities"), headers=lonely.headers).json()["error"]["code"]
        == "not_connected"
    )


def _lead(conn: sa.Connection, workspace_id: uuid.UUID, email: str) -> uuid.UUID:
    return conn.execute(
        sa.insert(leads).values(workspace_id=workspace_id, email=email).returning(leads.c.id)
    ).scalar_one()


def test_the_status_reports_the_activity_backlog_counts_and_errors(
    client: TestClient, tenant: Tenant, engine
) -> None:
    now = datetime.now(UTC)
    with engine.begin() as conn:
        with_contact, without = (
            _lead(conn, tenant.workspace_id, "c@x.com"),
            _lead(conn, tenant.workspace_id, "n@x.com"),
        )
        conn.execute(
            sa.insert(hubspot_sync_status).values(
                workspace_id=tenant.workspace_id, entity_type="contact", entity_id=with_contact, hubspot_id="601",
                status="synced",
            )
        )  # fmt: skip

        def event(lead: uuid.UUID, kind: str, hours_ago: float) -> uuid.UUID:
            return conn.execute(
                sa.insert(email_events)
                .values(
                    workspace_id=tenant.workspace_id,
                    lead_id=lead,
                    event_type=kind,
                    occurred_at=now - timedelta(hours=hours_ago),
                )
                .returning(email_events.c.id)
            ).scalar_one()

        logged = [event(with_contact, "sent", 5), event(with_contact, "opened", 4)]
        ready, failed = event(with_contact, "clicked", 3), event(with_contact, "replied", 2)
        event(without, "sent", 1)
        event(with_contact, "delivered", 1)  # not a type the workspace logs: not backlog
        for event_id, kind in zip(logged, ("sent", "opened"), strict=True):
            conn.execute(
                sa.insert(hubspot_activity_log).values(
                    workspace_id=tenant.workspace_id, lead_id=with_contact, email_event_id=event_id,
                    activity_type=kind, status="logged", hubspot_object_type="email", hubspot_object_id="9",
                    occurred_at=now,
                )
            )  # fmt: skip
        conn.execute(
            sa.insert(hubspot_sync_status).values(
                workspace_id=tenant.workspace_id, entity_type="activity", entity_id=failed, status="error",
                error_message="replied event x has no message", attempts=2,
            )
        )  # fmt: skip

    activities = client.get(url("/sync/status"), headers=tenant.headers).json()["activities"]

    assert activities["enabled"] is True and "delivered" not in activities["event_types"]
    assert activities["backlog"]["ready"] == 2 and activities["backlog"]["waiting_for_contact"] == 1
    assert activities["logged"] == {"sent": 1, "opened": 1} and activities["last_logged_at"] is not None
    assert (activities["errors"], activities["dead"], activities["in_flight"]) == (1, 0, 0)
    status = client.get(url("/sync/status"), headers=tenant.headers).json()
    assert any(
        e["entity_type"] == "activity" and "has no message" in e["error_message"] for e in status["errors"]
    )
    assert str(ready) not in str(status)  # counts, not rows
    other = make_tenant(engine)
    theirs = client.get(url("/sync/status"), headers=other.headers).json()["activities"]
    assert (
        theirs["backlog"] == {"ready": 0, "waiting_for_contact": 0, "oldest": None} and theirs["logged"] == {}
    )


def test_the_activity_choices_are_set_and_checked_through_config(client: TestClient, tenant: Tenant) -> None:
    defaults = client.get(url("/config"), headers=tenant.headers).json()
    assert defaults["activity_event_types"] == [
        "sent",
        "opened",
        "clicked",
        "replied",
        "bounced",
        "unsubscribed",
    ]
    assert (defaults["activity_content"], defaults["activity_timeline_fallback"]) == ("full", "notes")
    changed = client.put(
        url("/config"),
        json={
            "activity_event_types": ["opened", "sent", "sent"],
            "activity_content": "subject",
            "activity_timeline_fallback": "skip",
        },
        headers=tenant.headers,
    ).json()
    assert changed["activity_event_types"] == ["sent", "opened"]
    assert (changed["activity_content"], changed["activity_timeline_fallback"]) == ("subject", "skip")
    for bad in (
        {"activity_event_types": []},
        {"activity_event_types": ["seen"]},
        {"activity_content": "body"},
    ):
        assert client.put(url("/config"), json=bad, headers=tenant.headers).status_code == 422
