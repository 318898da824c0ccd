"""The sync engine on PostgreSQL and the sandbox over HTTP: first sync both ways, echo-free second run,
changes on either side, conflicts recorded, faults (5xx, dropped connections, 429s) and a run killed
mid-push, deletions and archives. No mocks: the real client, the real schema and trigger.

Dagster is not involved here (see test_contacts_defs.py).
"""

from __future__ import annotations

import time
import uuid

import sqlalchemy as sa

from hubspot_pipeline.db.tables import leads
from hubspot_pipeline.hubspot import HubSpotClient
from hubspot_pipeline.sandbox.testing import SandboxHandle
from hubspot_pipeline.sync.engine import ensure_hubspot_properties, prepare, run_contact_sync

WRITE_ENDPOINTS = ("batch/upsert", "batch/update", "batch/create")


def sync(engine: sa.Engine, client: HubSpotClient, workspace_id: uuid.UUID, **options):
    # Search horizons come from the HTTP Date header (whole seconds): let the last writes fall behind it.
    time.sleep(1.1)
    ensure_hubspot_properties(prepare(engine, client, workspace_id))
    return run_contact_sync(engine, client, workspace_id, search_lag_seconds=0, **options)


def add_leads(engine: sa.Engine, workspace_id: uuid.UUID, rows: list[dict]) -> None:
    with engine.begin() as conn:
        conn.execute(sa.insert(leads), [{"workspace_id": workspace_id, **row} for row in rows])


def lead_rows(engine: sa.Engine, workspace_id: uuid.UUID) -> dict[str, dict]:
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(leads).where(leads.c.workspace_id == workspace_id, leads.c.deleted_at.is_(None))
        )
        return {row.email.lower(): dict(row._mapping) for row in rows}


def contacts(client: HubSpotClient) -> dict[str, dict]:
    out: dict[str, dict] = {}
    for page, _ in client.list_pages(
        "contacts", ["email", "firstname", "lastname", "jobtitle", "coldcopy_lead_status"]
    ):
        for record in page:
            email = (record["properties"].get("email") or "").lower()
            assert email not in out, f"{email} is in HubSpot twice"
            out[email] = record["properties"] | {"id": record["id"]}
    return out


def write_calls(sandbox: SandboxHandle) -> int:
    calls = sandbox.admin.counters()
    by_endpoint = calls.get("calls") or calls.get("byEndpoint") or calls
    return sum(int(n) for name, n in _flatten(by_endpoint) if any(w in name for w in WRITE_ENDPOINTS))


def _flatten(value, prefix=""):
    if isinstance(value, dict):
        for key, inner in value.items():
            yield from _flatten(inner, f"{prefix} {key}")
    elif isinstance(value, int | float):
        yield prefix, value


def test_first_sync_pushes_leads_pulls_contacts_and_a_second_run_writes_nothing(
    engine, workspace_id, hubspot_client, hubspot_sandbox
):
    add_leads(
        engine,
        workspace_id,
        [{"email": f"lead{i}@example.com", "first_name": f"Lead{i}", "title": "CTO"} for i in range(230)],
    )
    hubspot_client.batch_upsert(
        "contacts",
        [
            {"email": "hub1@example.com", "firstname": "Hub", "jobtitle": "CEO"},
            {"email": "lead1@example.com", "firstname": "", "lastname": "Known"},
        ],
    )
    report = sync(engine, hubspot_client, workspace_id)
    assert report.errors == 0, report.error_samples
    in_hubspot = contacts(hubspot_client)
    assert len(in_hubspot) == 231
    assert in_hubspot["lead7@example.com"]["firstname"] == "Lead7"
    assert in_hubspot["lead1@example.com"]["lastname"] == "Known"  # HubSpot's value kept, not cleared
    assert in_hubspot["hub1@example.com"]["coldcopy_lead_status"] == "new"
    in_coldcopy = lead_rows(engine, workspace_id)
    assert in_coldcopy["hub1@example.com"]["first_name"] == "Hub"
    assert in_coldcopy["lead1@example.com"]["last_name"] == "Known"

    before = write_calls(hubspot_sandbox)
    again = sync(engine, hubspot_client, workspace_id)
    assert write_calls(hubspot_sandbox) == before
    assert again.counts["push"] == 0 and again.counts["pull"] == 0
