"""Engagement on HubSpot contacts, through the sandbox over HTTP: the contact sync creates the engagement
properties (coldcopy_engagement_score, ...) and pushes a published score; a score that did not change writes
nothing; a changed one enters the lead outbox and the incremental sync pushes it. Mappings may name the
engagement fields only to HubSpot."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from hubspot_pipeline.db.tables import hubspot_integrations, hubspot_sync_status
from hubspot_pipeline.hubspot import HubSpotClient, PostgresRateLimiter, PrivateAppToken
from hubspot_pipeline.sandbox.pytest_plugin import hubspot_sandbox, hubspot_sandbox_server  # noqa: F401
from hubspot_pipeline.sandbox.testing import SandboxHandle
from hubspot_pipeline.scoring.store import dbt_build
from hubspot_pipeline.scoring.store.publish import publish
from hubspot_pipeline.scoring.store.replies import decide_all_pending_intents
from hubspot_pipeline.sync.core.mapping import FieldMapping, validate_mapping_set
from hubspot_pipeline.sync.writes import SyncReport
from tests.activities.builders import add_event, add_lead, add_message

PROPERTIES = [
    "coldcopy_engagement_score", "coldcopy_last_engaged_at", "coldcopy_last_reply_intent",
    "coldcopy_opens_30d", "coldcopy_clicks_30d", "coldcopy_replies_30d",
]  # fmt: skip


@pytest.fixture
def client(
    engine: sa.Engine,
    hubspot_sandbox: SandboxHandle,  # noqa: F811
    workspace_id: uuid.UUID,
) -> Iterator[HubSpotClient]:
    with engine.begin() as conn:
        conn.execute(
            sa.insert(hubspot_integrations).values(
                workspace_id=workspace_id, hub_id=str(hubspot_sandbox.hub_id)
            )
        )
    client = HubSpotClient(
        hubspot_sandbox.base_url,
        auth=PrivateAppToken(hubspot_sandbox.private_app_token),
        limiter=PostgresRateLimiter(engine, portal_key=f"test-engagement:{workspace_id}"),
    )
    try:
        yield client
    finally:
        client.close()


def _sync(engine: sa.Engine, client: HubSpotClient, workspace_id: uuid.UUID) -> SyncReport:
    from hubspot_pipeline.sync.engine import prepare, run_contact_sync
    from hubspot_pipeline.sync.properties import ensure_hubspot_properties

    ensure_hubspot_properties(prepare(engine, client, workspace_id))
    report = run_contact_sync(engine, client, workspace_id)
    assert report.errors == 0, report.error_samples
    return report


def _contact(engine, client: HubSpotClient, workspace_id, lead: uuid.UUID) -> dict[str, str]:
    with engine.connect() as conn:
        hubspot_id = conn.execute(
            sa.select(hubspot_sync_status.c.hubspot_id).where(
                hubspot_sync_status.c.workspace_id == workspace_id, hubspot_sync_status.c.entity_id == lead
            )
        ).scalar_one()
    contact = client.get("contacts", hubspot_id, PROPERTIES)
    assert contact is not None
    return {name: contact["properties"].get(name) for name in PROPERTIES}


def test_scores_reach_hubspot_once_and_a_change_follows(
    engine: sa.Engine, database_url: str, workspace_id: uuid.UUID, client: HubSpotClient, tmp_path
) -> None:
    midnight = datetime.combine(date.today(), datetime.min.time(), tzinfo=UTC)
    email = f"keen-{uuid.uuid4().hex[:6]}@example.com"
    lead = add_lead(engine, workspace_id, email)
    reply, _ = add_message(
        engine,
        workspace_id,
        lead,
        email,
        direction="received",
        sent_at=midnight,
        text="Interested!",
        html=None,
    )
    add_event(engine, workspace_id, lead, "opened", midnight - timedelta(days=1))
    add_event(engine, workspace_id, lead, "replied", midnight - timedelta(hours=20), message_id=reply)
    decide_all_pending_intents(engine, workspace_id=workspace_id)

    def score_and_publish() -> int:
        dbt_build.build(database_url=database_url, workspace_id=workspace_id, target_path=tmp_path)
        with engine.begin() as conn:
            return publish(conn, workspace_id).changed

    assert score_and_publish() == 1
    _sync(engine, client, workspace_id)
    properties = client.list_properties("contacts")
    created = {p["name"]: p for p in properties if p["name"] in PROPERTIES}
    assert set(created) == set(PROPERTIES)
    assert created["coldcopy_engagement_score"]["type"] == "number"
    on_contact = _contact(engine, client, workspace_id, lead)
    assert int(on_contact["coldcopy_engagement_score"]) > 30
    assert on_contact["coldcopy_last_reply_intent"] == "interested"
    assert on_contact["coldcopy_opens_30d"] == "1" and on_contact["coldcopy_replies_30d"] == "1"
    # A HubSpot datetime, not text: HubSpot keeps ISO 8601 UTC with milliseconds, as the sync pushes it.
    assert created["coldcopy_last_engaged_at"]["type"] == "datetime"
    assert on_contact["coldcopy_last_engaged_at"] == (midnight - timedelta(hours=20)).strftime(
        "%Y-%m-%dT%H:%M:%S.000Z"
    )

    # Unchanged: nothing published, nothing pushed.
    assert score_and_publish() == 0
    assert _sync(engine, client, workspace_id).counts.get("push", 0) == 0

    add_event(engine, workspace_id, lead, "clicked", midnight - timedelta(hours=1))
    assert score_and_publish() == 1
    report = _sync(engine, client, workspace_id)
    assert report.counts.get("push", 0) == 1, report.counts
    assert _contact(engine, client, workspace_id, lead)["coldcopy_clicks_30d"] == "1"


def test_a_mapping_may_push_engagement_fields_but_never_pull_them() -> None:
    ok = validate_mapping_set(
        [FieldMapping("email", "email", "bidirectional", "trim | lowercase"),
         FieldMapping("engagement.score", "lead_score_x", "to_hubspot", "number")],
        None,
    )  # fmt: skip
    assert ok == []
    problems = validate_mapping_set(
        [FieldMapping("email", "email", "bidirectional", "trim | lowercase"),
         FieldMapping("engagement.last_reply_intent", "reply_intent_x", "bidirectional")],
        None,
    )  # fmt: skip
    assert any("set direction to to_hubspot" in str(p) for p in problems)
    unknown = validate_mapping_set([FieldMapping("engagement.mood", "mood_x", "to_hubspot")], None)
    assert any("engagement.score" in str(p) for p in unknown)  # the message lists the fields there are
