"""JSON reaches PostgreSQL one way (db/jsonb.py): every writer of a jsonb column binds the Python value and
the driver encodes it once. Each writer here stores the same awkward value and it is read back equal: an
object, a list, a string that looks like JSON, a float, unicode, an integer beyond 64 bits. And the decision
for float NaN and infinities, which JSON has no words for: stored as null.

Issue #9: two writers encoded twice (`json.dumps` then a jsonb cast SQLAlchemy encoded again), and
leads.custom_fields became an array.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa

from hubspot_pipeline.activities.store.log import LOGGED, LogRow, record_logged
from hubspot_pipeline.api.webhook_ingest import store_events
from hubspot_pipeline.db import audit, jsonb
from hubspot_pipeline.db.connection import sync_writer
from hubspot_pipeline.db.tables import (
    audit_log,
    hubspot_activity_log,
    hubspot_sync_status,
    leads,
    webhook_events,
)
from hubspot_pipeline.sync.core.mapping import compile_mappings
from hubspot_pipeline.sync.store import records
from hubspot_pipeline.sync.store.companies import record_companies
from tests.activities.builders import add_event, add_lead

AWKWARD: dict[str, Any] = {
    "object": {"nested": {"deeper": [1, "two", 3.5, True, None]}},
    "list": ["a", {"b": []}, [], {}],
    "json_text": '{"looks": "like JSON"} [1, 2]',
    "quotes": 'she said "hi" \\ back',
    "float": 0.1,
    "negative": -2.5e-8,
    "unicode": "Zoë Ångström ✓ 日本語 🙂",
    "big": 2**70,
    "empty": "",
}

Writer = Callable[[sa.Engine, uuid.UUID, Any], Any]  # writes the value, returns what PostgreSQL holds


def _lead(engine: sa.Engine, workspace_id: uuid.UUID) -> uuid.UUID:
    return add_lead(engine, workspace_id, f"{uuid.uuid4().hex[:8]}@example.com")


def _custom_fields(engine: sa.Engine, lead_id: uuid.UUID) -> Any:
    with engine.connect() as conn:
        return conn.execute(sa.select(leads.c.custom_fields).where(leads.c.id == lead_id)).scalar_one()


def _agreed(engine: sa.Engine, entity_id: uuid.UUID) -> Any:
    with engine.connect() as conn:
        return conn.execute(
            sa.select(hubspot_sync_status.c.agreed).where(hubspot_sync_status.c.entity_id == entity_id)
        ).scalar_one()


def pulled_custom_field(engine: sa.Engine, workspace_id: uuid.UUID, value: Any) -> Any:
    lead_id = _lead(engine, workspace_id)
    with engine.begin() as conn, sync_writer(conn):
        assert (
            records.apply_lead_updates(conn, workspace_id, [(str(lead_id), {"custom_fields.k": value})]) == {}
        )
    return _custom_fields(engine, lead_id)["k"]


def lead_from_hubspot(engine: sa.Engine, workspace_id: uuid.UUID, value: Any) -> Any:
    email = f"{uuid.uuid4().hex[:8]}@example.com"
    with engine.begin() as conn, sync_writer(conn):
        created = records.insert_leads(
            conn, workspace_id, [("new:1", {"email": email, "custom_fields.k": value})]
        )
    return _custom_fields(engine, uuid.UUID(created["new:1"]))["k"]


def agreed_values(engine: sa.Engine, workspace_id: uuid.UUID, value: Any) -> Any:
    lead_id = _lead(engine, workspace_id)
    row = {"lead_id": str(lead_id), "hubspot_id": "1", "sync_hash": "0" * 16, "agreed": {"k": value}}
    with engine.begin() as conn:
        records.record_synced(conn, workspace_id, [row], compile_mappings(None))
    return _agreed(engine, lead_id)["k"]


def tombstone(engine: sa.Engine, workspace_id: uuid.UUID, value: Any) -> Any:
    lead_id = _lead(engine, workspace_id)
    row = {"lead_id": str(lead_id), "hubspot_id": "1", "sync_hash": "0" * 16, "agreed": {"k": "v"}}
    with engine.begin() as conn:
        records.record_synced(conn, workspace_id, [row], compile_mappings(None))
        records.record_tombstones(conn, workspace_id, [{"lead_id": str(lead_id), "reason": value}])
    agreed = _agreed(engine, lead_id)
    assert agreed["k"] == "v"  # the agreed values stay next to the tombstone
    return agreed["_tombstone"]


def company_state(engine: sa.Engine, workspace_id: uuid.UUID, value: Any) -> Any:
    company_id = uuid.uuid4()
    with engine.begin() as conn:
        record_companies(
            conn,
            workspace_id,
            [{"lead_id": company_id, "hubspot_id": "9", "agreed": {"k": value}, "sync_hash": None}],
        )
    return _agreed(engine, company_id)["k"]


def webhook_payload(engine: sa.Engine, workspace_id: uuid.UUID, value: Any) -> Any:
    event_id = uuid.uuid4().int % 2**62
    event = {
        "portalId": 1,
        "subscriptionId": 1,
        "eventId": event_id,
        "objectId": 1,
        "occurredAt": 1,
        "subscriptionType": "contact.propertyChange",
        "k": value,
    }
    assert store_events(engine, [event], signature_version="v3").stored == 1
    with engine.connect() as conn:
        return conn.execute(
            sa.select(webhook_events.c.payload).where(webhook_events.c.event_id == event_id)
        ).scalar_one()["k"]


def activity_data(engine: sa.Engine, workspace_id: uuid.UUID, value: Any) -> Any:
    lead_id = _lead(engine, workspace_id)
    event_id = add_event(engine, workspace_id, lead_id, "sent", datetime.now(UTC))
    row = LogRow(str(event_id), str(lead_id), "sent", datetime.now(UTC), LOGGED, data={"k": value})
    with engine.begin() as conn:
        record_logged(conn, workspace_id, [row], run_id=None)
    with engine.connect() as conn:
        return conn.execute(
            sa.select(hubspot_activity_log.c.activity_data).where(
                hubspot_activity_log.c.email_event_id == event_id
            )
        ).scalar_one()["k"]


def audit_details(engine: sa.Engine, workspace_id: uuid.UUID, value: Any) -> Any:
    target = uuid.uuid4().hex
    with engine.begin() as conn:
        audit.record(
            conn,
            workspace_id=workspace_id,
            actor="test",
            action="test.jsonb",
            target=target,
            details={"k": value},
        )
    with engine.connect() as conn:
        return conn.execute(sa.select(audit_log.c.details).where(audit_log.c.target == target)).scalar_one()[
            "k"
        ]


WRITERS = [
    pulled_custom_field,
    lead_from_hubspot,
    agreed_values,
    tombstone,
    company_state,
    webhook_payload,
    activity_data,
    audit_details,
]


@pytest.mark.parametrize("writer", WRITERS, ids=lambda w: w.__name__)
@pytest.mark.parametrize("key", sorted(AWKWARD))
def test_each_writer_reads_back_the_value_it_wrote(engine, workspace_id, writer: Writer, key: str) -> None:
    if writer in (lead_from_hubspot,) and AWKWARD[key] == "":
        pytest.skip("a lead created from HubSpot leaves empty custom fields out")
    assert writer(engine, workspace_id, AWKWARD[key]) == AWKWARD[key]


@pytest.mark.parametrize("writer", [w for w in WRITERS if w is not webhook_payload], ids=lambda w: w.__name__)
def test_float_nan_and_infinities_are_stored_as_null(engine, workspace_id, writer: Writer) -> None:
    # JSON has no NaN: json.dumps writes `NaN`, which jsonb refuses, failing the whole transaction. In our
    # frames NaN is pandas' missing value, so it is stored as null (the webhook endpoint refuses NaN itself).
    assert writer(engine, workspace_id, [math.nan, math.inf, -math.inf, 1.5]) == [None, None, None, 1.5]


def test_the_one_encoding_is_the_engine_s_json_serializer(engine) -> None:
    assert engine.dialect._json_serializer is jsonb.dumps
    assert (
        jsonb.dumps({"a": math.nan, "b": 2**70, 3: "x"}) == b'{"a":null,"b":1180591620717411303424,"3":"x"}'
    )
