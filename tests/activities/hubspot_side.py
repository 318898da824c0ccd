"""What the sandbox holds, read the way a HubSpot user's tools would: emails and notes with their contact
associations, timeline events by portal; and the activity log rows of a workspace."""

from __future__ import annotations

import uuid
from collections import Counter
from typing import Any

import httpx
import sqlalchemy as sa

from hubspot_pipeline.activities.core.ids import headers_message_id, note_event_id
from hubspot_pipeline.db.tables import hubspot_activity_log, hubspot_sync_status
from hubspot_pipeline.hubspot import HubSpotClient
from hubspot_pipeline.sandbox.testing import SandboxHandle


def all_records(client: HubSpotClient, object_type: str, properties: list[str]) -> list[dict[str, Any]]:
    return [record for page, _ in client.list_pages(object_type, properties) for record in page]


def emails_by_message_id(client: HubSpotClient) -> Counter[str]:
    emails = all_records(client, "emails", ["hs_email_headers"])
    return Counter(headers_message_id(e["properties"].get("hs_email_headers")) or "?" for e in emails)


def notes_by_event(client: HubSpotClient) -> Counter[str]:
    notes = all_records(client, "notes", ["hs_note_body"])
    return Counter(note_event_id(n["properties"].get("hs_note_body")) or "?" for n in notes)


def association_types(
    sandbox: SandboxHandle, token: str, from_type: str, object_id: str, to_type: str
) -> dict:
    """to id -> [type ids], from HubSpot's v4 record-level read."""
    response = httpx.get(
        f"{sandbox.base_url}/crm/v4/objects/{from_type}/{object_id}/associations/{to_type}",
        headers={"Authorization": f"Bearer {token}"},
    )
    response.raise_for_status()
    return {
        r["toObjectId"]: sorted(t["typeId"] for t in r["associationTypes"])
        for r in response.json()["results"]
    }


def log_rows(engine: sa.Engine, workspace_id: uuid.UUID) -> list[sa.Row]:
    with engine.connect() as conn:
        return list(
            conn.execute(
                sa.select(hubspot_activity_log).where(hubspot_activity_log.c.workspace_id == workspace_id)
            )
        )


def activity_status(engine: sa.Engine, workspace_id: uuid.UUID) -> dict[str, sa.Row]:
    """email event id -> its retry-index row."""
    s = hubspot_sync_status
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(s).where(s.c.workspace_id == workspace_id, s.c.entity_type == "activity")
        )
        return {str(row.entity_id): row for row in rows}


def write_calls(sandbox: SandboxHandle) -> int:
    """HubSpot API calls that could have written something (any POST, PUT, PATCH, DELETE)."""
    counters = sandbox.admin.counters()
    return sum(
        sum(by_status.values())
        for endpoint, by_status in counters["byEndpoint"].items()
        if endpoint.split(" ", 1)[0] in ("POST", "PUT", "PATCH", "DELETE")
        and not endpoint.endswith("/batch/read")
    )
