"""A contact sync run records its figures with its writes: contacts synced and failed each way, the lead
change -> HubSpot latency of every pushed lead and the HubSpot edit -> lead latency of every lead written
from a webhook event. On PostgreSQL and the sandbox over HTTP; the /metrics side is in tests/monitoring."""

from __future__ import annotations

import time
import uuid

import sqlalchemy as sa

from hubspot_pipeline.db.tables import metric_counters, webhook_events
from tests.sync.test_engine_sandbox import add_leads, sync


def _counters(engine: sa.Engine) -> dict[tuple[str, tuple], float]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(metric_counters.c.series, metric_counters.c.labels, metric_counters.c.value)
        )
        return {(series, tuple(sorted(labels.items()))): value for series, labels, value in rows}


def _delta(before: dict, after: dict, series: str, **labels: str) -> float:
    key = (series, tuple(sorted(labels.items())))
    return after.get(key, 0.0) - before.get(key, 0.0)


def test_a_run_records_contacts_each_way_and_both_latencies(
    engine, workspace_id, hubspot_client, hubspot_sandbox
):
    add_leads(
        engine, workspace_id, [{"email": f"fig{i}@example.com", "first_name": f"F{i}"} for i in range(12)]
    )
    created = hubspot_client.batch_upsert(
        "contacts", [{"email": f"hubfig{i}@example.com", "firstname": "Hub"} for i in range(3)]
    )
    # A HubSpot edit announced by a webhook 40 seconds ago, still waiting in the queue.
    edited = str(created.by_key["hubfig0@example.com"]["id"])
    hubspot_client.update("contacts", edited, {"firstname": "Edited"})
    occurred_ms = int((time.time() - 40) * 1000)
    with engine.begin() as conn:
        conn.execute(
            sa.insert(webhook_events).values(
                portal_id=hubspot_sandbox.hub_id,
                workspace_id=workspace_id,
                subscription_id=1,
                event_id=uuid.uuid4().int % 10**9,
                object_id=int(edited),
                occurred_at=occurred_ms,
                subscription_type="contact.propertyChange",
                property_name="firstname",
                property_value="Edited",
                payload={},
            )
        )
    before = _counters(engine)
    report = sync(engine, hubspot_client, workspace_id)
    after = _counters(engine)
    # The 12 leads are pushed, and the 3 contacts pulled get the new leads' status pushed back.
    assert report.errors == 0 and report.counts["push"] == 15 and report.counts["pull"] == 3
    records = "hubspot_pipeline_records_synced"
    assert _delta(before, after, records, object_type="contact", direction="to_hubspot") == 15
    assert _delta(before, after, records, object_type="contact", direction="from_hubspot") == 3
    assert (
        _delta(
            before, after, "hubspot_pipeline_records_failed", object_type="contact", direction="to_hubspot"
        )
        == 0
    )
    latency = "hubspot_pipeline_latency_seconds"
    # Only the 12 leads changed in ColdCopy have an outbox time; leads created by the sync have none.
    assert _delta(before, after, latency + "_count", path="lead_change_to_hubspot") == 12
    # One lead was written from a webhook event; the two others were read by search alone.
    assert _delta(before, after, latency + "_count", path="hubspot_edit_to_lead") == 1
    waited = _delta(before, after, latency + "_sum", path="hubspot_edit_to_lead")
    assert 40 <= waited < 40 + report.seconds + 5
    assert _delta(before, after, latency + "_bucket", path="hubspot_edit_to_lead", le="60.0") == 1
