"""Settling in-flight rows: creates whose outcome nobody saw (the process was killed mid-push, or HubSpot
answered 5xx or dropped the connection after writing). For each, the contact's emails (or notes) are read
through its associations and the objects themselves, both direct reads that see a write at once (search
lags by seconds, and trusting it would create duplicates), and matched on the Message-ID in
`hs_email_headers` (or the note's marker line). Found: logged with that object. Not found: the create never
happened, so the event is pending again and this run sends it.

Only rows whose create was sent at least `settled_seconds` ago are looked at: a request HubSpot was still
working on when its sender died may land a little after. Run under the workspace's activity lock, so no
live batch owns the rows.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

import sqlalchemy as sa

from hubspot_pipeline.activities.core.ids import headers_message_id, note_event_id, note_marker
from hubspot_pipeline.activities.store.events import any_of
from hubspot_pipeline.activities.store.log import (
    LOGGED,
    InFlight,
    LogRow,
    in_flight_rows,
    record_logged,
    release_in_flight,
)
from hubspot_pipeline.activities.store.retry import record_successes
from hubspot_pipeline.db.tables import email_events
from hubspot_pipeline.hubspot import HubSpotClient

READS = {"email": ("emails", "hs_email_headers"), "note": ("notes", "hs_note_body")}


@dataclass
class Recovery:
    found: dict[str, str] = field(default_factory=dict)  # event id -> the object HubSpot has
    absent: list[str] = field(default_factory=list)  # events whose create never happened: pending again


def _match_key(object_type: str, value: str | None) -> str | None:
    if object_type == "email":
        return headers_message_id(value)
    event_id = note_event_id(value)
    return note_marker(event_id) if event_id else None


def _find(client: HubSpotClient, object_type: str, rows: list[InFlight]) -> dict[str, str]:
    """event id -> object id, for the rows whose object the contact has."""
    plural, property_name = READS[object_type]
    linked = client.associated_ids("contacts", plural, sorted({row.contact_id for row in rows}))
    ids = sorted({object_id for objects in linked.values() for object_id in objects})
    if not ids:
        return {}
    objects = client.batch_read(plural, ids, [property_name]).results
    key_of = {
        str(o["id"]): _match_key(object_type, (o.get("properties") or {}).get(property_name)) for o in objects
    }
    by_contact_key: dict[tuple[str, str], str] = {}
    for contact_id, object_ids in linked.items():
        for object_id in object_ids:
            key = key_of.get(object_id)
            if key:
                by_contact_key.setdefault((contact_id, key), object_id)
    return {
        row.event_id: by_contact_key[(row.contact_id, row.match_key)]
        for row in rows
        if (row.contact_id, row.match_key) in by_contact_key
    }


def recover_in_flight(
    engine: sa.Engine, client: HubSpotClient, workspace_id: uuid.UUID, run_id: str, *, settled_seconds: float
) -> Recovery:
    with engine.connect() as conn:
        rows = in_flight_rows(conn, workspace_id, settled_seconds=settled_seconds)
    recovery = Recovery()
    if not rows:
        return recovery
    for object_type in READS:
        group = [row for row in rows if row.object_type == object_type]
        if group:
            recovery.found.update(_find(client, object_type, group))
    recovery.absent = [row.event_id for row in rows if row.event_id not in recovery.found]
    with engine.begin() as conn:
        events = {
            str(r.id): r
            for r in conn.execute(
                sa.select(
                    email_events.c.id,
                    email_events.c.lead_id,
                    email_events.c.event_type,
                    email_events.c.occurred_at,
                ).where(any_of(email_events.c.id, [uuid.UUID(i) for i in recovery.found]))
            )
        }
        by_event = {row.event_id: row for row in rows}
        logged = [
            LogRow(
                event_id,
                str(events[event_id].lead_id),
                events[event_id].event_type,
                events[event_id].occurred_at,
                LOGGED,
                by_event[event_id].object_type,
                object_id,
                by_event[event_id].contact_id,
                {"match": by_event[event_id].match_key, "recovered": True},
            )
            for event_id, object_id in recovery.found.items()
            if event_id in events
        ]
        record_logged(conn, workspace_id, logged, run_id)
        record_successes(conn, workspace_id, recovery.found)
        release_in_flight(conn, recovery.absent)
    return recovery
