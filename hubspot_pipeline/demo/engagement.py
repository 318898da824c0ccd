"""The demo's engagement scores: reply intents decided, the dbt project built (models and tests), changed
scores published into the lead outbox, and the incremental contact sync pushing them to the sandbox's
contacts; twice: the second run publishes and writes nothing. Prints the most engaged leads."""

from __future__ import annotations

import time
import uuid
from typing import Any

import click
import sqlalchemy as sa

TOP = 5


def score_demo_engagement(engine: sa.Engine, slugs: dict[uuid.UUID, str], sandbox: Any) -> None:
    """`slugs`: id -> slug of the demo's workspaces."""
    from hubspot_pipeline.demo.run import write_calls
    from hubspot_pipeline.scoring.store import dbt_build
    from hubspot_pipeline.scoring.store.leaders import top_engaged
    from hubspot_pipeline.scoring.store.publish import publish
    from hubspot_pipeline.scoring.store.replies import decide_all_pending_intents
    from hubspot_pipeline.sync.connection import workspace_client
    from hubspot_pipeline.sync.engine import run_contact_sync

    for title in (
        "run 5: engagement: reply intents, dbt build, changed scores published and pushed to HubSpot",
        "run 6: engagement again, with nothing new",
    ):
        sandbox.admin.reset_counters()
        started = time.perf_counter()
        click.echo(f"\n{title}")
        decided = sum(decide_all_pending_intents(engine, workspace_id=w) for w in slugs)
        dbt_build.build()  # every workspace at once: one dbt invocation (startup and parsing are its cost)
        published = changes = crossings = pushed = 0
        for workspace_id in slugs:
            with engine.begin() as conn:
                done = publish(conn, workspace_id)
            published, changes, crossings = (
                published + done.changed, changes + done.score_changes, crossings + done.crossings
            )  # fmt: skip
            with workspace_client(engine, workspace_id) as client:
                pushed += run_contact_sync(engine, client, workspace_id).counts.get("push", 0)
        counters = sandbox.admin.counters()
        click.echo(
            f"  reply intents decided: {decided}; dbt build passed (models and tests); scores published: "
            f"{published} leads ({changes} score changes, {crossings} threshold crossings)"
        )
        click.echo(
            f"  contact sync: {pushed} contacts pushed; HubSpot API calls: {counters['total']} "
            f"({write_calls(counters)} writes)   time: {time.perf_counter() - started:.1f} s"
        )
        if title.startswith("run 5"):
            click.echo("  top engaged leads (score, last reply's intent, 30-day counts):")
            for line in top_engaged(engine, None, TOP, among=list(slugs)):
                click.echo(f"    {line}")
            click.echo(f"  on HubSpot: {_top_contact_on_hubspot(engine, list(slugs))}")


def _top_contact_on_hubspot(engine: sa.Engine, workspace_ids: list[uuid.UUID]) -> str:
    """The most engaged lead's contact as the sandbox holds it: its engagement properties."""
    from hubspot_pipeline.db.tables import hubspot_sync_status, lead_engagement
    from hubspot_pipeline.sync.connection import workspace_client

    e, s = lead_engagement, hubspot_sync_status
    with engine.connect() as conn:
        top = conn.execute(
            sa.select(e.c.workspace_id, s.c.hubspot_id)
            .join(s, (s.c.entity_id == e.c.lead_id) & (s.c.workspace_id == e.c.workspace_id))
            .where(e.c.workspace_id.in_(workspace_ids), s.c.hubspot_id.is_not(None))
            .order_by(e.c.score.desc(), e.c.lead_id)
            .limit(1)
        ).first()
    if top is None:
        return "no engaged lead has a contact yet"
    names = [
        "coldcopy_engagement_score",
        "coldcopy_last_reply_intent",
        "coldcopy_opens_30d",
        "coldcopy_replies_30d",
    ]
    with workspace_client(engine, top.workspace_id) as client:
        contact = client.get("contacts", str(top.hubspot_id), names) or {}
    values = contact.get("properties") or {}
    return f"contact {top.hubspot_id}: " + ", ".join(f"{n}={values.get(n)}" for n in names)
