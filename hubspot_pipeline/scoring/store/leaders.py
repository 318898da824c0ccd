"""The most engaged leads, as published (`lead_engagement`), for the demo and the CLI."""

from __future__ import annotations

import uuid

import sqlalchemy as sa

from hubspot_pipeline.db.tables import lead_engagement, leads


def top_engaged(
    engine: sa.Engine,
    workspace_id: uuid.UUID | None,
    limit: int = 10,
    *,
    among: list[uuid.UUID] | None = None,
) -> list[str]:
    """One line per lead, highest score first: score, last reply's intent, 30-day counts, last engaged time."""
    e, lead = lead_engagement, leads
    query = (
        sa.select(
            lead.c.email,
            e.c.score,
            e.c.last_reply_intent,
            e.c.opens_30d,
            e.c.clicks_30d,
            e.c.replies_30d,
            e.c.last_engaged_at,
        )
        .join(lead, lead.c.id == e.c.lead_id)
        .order_by(e.c.score.desc(), e.c.last_engaged_at.desc().nulls_last(), lead.c.email)
        .limit(limit)
    )
    if workspace_id is not None:
        query = query.where(e.c.workspace_id == workspace_id)
    if among is not None:
        query = query.where(e.c.workspace_id.in_(among))
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    return [
        f"{r.score:>3}  {(r.last_reply_intent or '-'):<19} opens {r.opens_30d:>2} clicks {r.clicks_30d:>2} "
        f"replies {r.replies_30d:>2}  last engaged {r.last_engaged_at:%Y-%m-%d %H:%M} UTC  {r.email}"
        if r.last_engaged_at
        else f"{r.score:>3}  {(r.last_reply_intent or '-'):<19} (never engaged)  {r.email}"
        for r in rows
    ]
