"""`hubspot_activity_log`: one row per email event that reached HubSpot (or was skipped by choice), and the
`in_flight` rows committed before an engagement is created, which find it again after a crash.

A row's `synced_at` is when it reached its status: for an in-flight row, when its create was sent. Rows hold
ids and the event type, never content (`activity_data` keeps what recovery matches on: a Message-ID or a note
marker, and the template of a timeline event).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

from hubspot_pipeline import monitoring
from hubspot_pipeline.activities.store.events import any_of
from hubspot_pipeline.db.tables import hubspot_activity_log
from hubspot_pipeline.monitoring.catalogue import EMAIL_EVENT_TO_HUBSPOT, LATENCY, RECORDS_SYNCED

IN_FLIGHT, LOGGED, SKIPPED = "in_flight", "logged", "skipped"


@dataclass(frozen=True)
class LogRow:
    event_id: str
    lead_id: str
    activity_type: str  # the email event type
    occurred_at: datetime
    status: str
    object_type: str | None = None  # email | note | timeline_event
    object_id: str | None = None
    contact_id: str | None = None
    data: dict[str, Any] | None = None


@dataclass(frozen=True)
class InFlight:
    event_id: str
    contact_id: str
    object_type: str  # email | note
    match_key: str


_INSERT = """
INSERT INTO hubspot_activity_log (workspace_id, email_event_id, lead_id, hubspot_contact_id, activity_type,
  activity_data, status, hubspot_object_type, hubspot_object_id, occurred_at, run_id, synced_at)
SELECT :workspace_id, r.event_id, r.lead_id, r.contact_id, r.activity_type, r.data, r.status, r.object_type,
  r.object_id, r.occurred_at, :run_id, now()
FROM unnest(CAST(:event_ids AS uuid[]), CAST(:lead_ids AS uuid[]), CAST(:contact_ids AS text[]),
  CAST(:activity_types AS text[]), :data, CAST(:statuses AS text[]), CAST(:object_types AS text[]),
  CAST(:object_ids AS text[]), CAST(:occurred_at AS timestamptz[]))
  AS r(event_id, lead_id, contact_id, activity_type, data, status, object_type, object_id, occurred_at)
"""


def _statement(conflict_clause: str) -> sa.TextClause:
    return sa.text(_INSERT + conflict_clause).bindparams(sa.bindparam("data", type_=ARRAY(JSONB)))


def _arrays(workspace_id: uuid.UUID, rows: Sequence[LogRow], run_id: str | None) -> dict[str, Any]:
    """The rows as one array per column: a statement of a dozen parameters whatever the batch size, cheap to
    build and parse where a 100-row VALUES list has 1,200."""
    return {
        "workspace_id": workspace_id,
        "run_id": run_id,
        "event_ids": [uuid.UUID(r.event_id) for r in rows],
        "lead_ids": [uuid.UUID(r.lead_id) for r in rows],
        "contact_ids": [r.contact_id for r in rows],
        "activity_types": [r.activity_type for r in rows],
        "data": [r.data or {} for r in rows],  # a jsonb[] parameter (_statement): encoded once, by the driver
        "statuses": [r.status for r in rows],
        "object_types": [r.object_type for r in rows],
        "object_ids": [r.object_id for r in rows],
        "occurred_at": [r.occurred_at for r in rows],
    }


def claim_in_flight(
    conn: sa.Connection, workspace_id: uuid.UUID, rows: Sequence[LogRow], run_id: str | None
) -> set[str]:
    """Insert in-flight rows; returns the events claimed (an event that has a row already is not sent)."""
    if not rows:
        return set()
    claimed = conn.execute(
        _statement(" ON CONFLICT (email_event_id) DO NOTHING RETURNING email_event_id"),
        _arrays(workspace_id, rows, run_id),
    ).scalars()
    return {str(event_id) for event_id in claimed}


def record_logged(
    conn: sa.Connection, workspace_id: uuid.UUID, rows: Sequence[LogRow], run_id: str | None
) -> None:
    """Logged (or skipped) rows: new ones inserted, in-flight ones completed; a logged row never changes.
    The events that reached HubSpot by this call are counted for monitoring in the same transaction."""
    if not rows:
        return
    written = conn.execute(
        _statement(
            " ON CONFLICT (email_event_id) DO UPDATE SET status = excluded.status, "
            "hubspot_object_type = excluded.hubspot_object_type, hubspot_object_id = excluded.hubspot_object_id, "
            "activity_data = excluded.activity_data, run_id = excluded.run_id, synced_at = excluded.synced_at "
            "WHERE hubspot_activity_log.status = 'in_flight' "
            "RETURNING status, extract(epoch FROM synced_at - occurred_at)"
        ),
        _arrays(workspace_id, rows, run_id),
    ).all()
    monitoring.record(conn, activity_figures([float(s) for status, s in written if status == LOGGED]))


def activity_figures(seconds_to_hubspot: Sequence[float]) -> monitoring.Figures:
    """Email events logged to HubSpot, and how long each took from its occurrence (email_event_to_hubspot)."""
    figures = monitoring.Figures()
    figures.count(RECORDS_SYNCED, len(seconds_to_hubspot), object_type="activity", direction="to_hubspot")
    figures.observe_many(LATENCY, seconds_to_hubspot, path=EMAIL_EVENT_TO_HUBSPOT)
    return figures


def release_in_flight(conn: sa.Connection, event_ids: Sequence[str]) -> None:
    """In-flight rows of creates known not to have happened: the events are pending again."""
    if event_ids:
        log = hubspot_activity_log
        conn.execute(
            sa.delete(log).where(
                any_of(log.c.email_event_id, [uuid.UUID(i) for i in event_ids]), log.c.status == IN_FLIGHT
            )
        )


def in_flight_rows(conn: sa.Connection, workspace_id: uuid.UUID, *, settled_seconds: float) -> list[InFlight]:
    """In-flight rows whose create was sent at least `settled_seconds` ago (a request HubSpot was still
    working on when its sender died may land a little later)."""
    log = hubspot_activity_log
    rows = conn.execute(
        sa.select(
            log.c.email_event_id, log.c.hubspot_contact_id, log.c.hubspot_object_type, log.c.activity_data
        ).where(
            log.c.workspace_id == workspace_id,
            log.c.status == IN_FLIGHT,
            log.c.email_event_id.is_not(None),
            log.c.synced_at <= sa.func.now() - sa.func.make_interval(0, 0, 0, 0, 0, 0, settled_seconds),
        )
    )
    return [
        InFlight(
            str(r.email_event_id), str(r.hubspot_contact_id), r.hubspot_object_type, r.activity_data["match"]
        )
        for r in rows
    ]
