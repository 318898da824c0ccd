"""Publishing the dbt model's engagement: `engagement.lead_engagement_scores` -> `lead_engagement`, only where
something a reader sees changed, in one transaction that also records

- a `score_changed` engagement event per changed score (a lead's first score of 0 is not a change), and a
  `threshold_crossed` event per threshold crossed (`scoring.thresholds`), for the workflow-trigger sensor;
- a row in the lead outbox (`lead_changes`, operation `update`, the engagement fields that changed) per lead
  whose published fields changed, so the incremental contact sync pushes them to HubSpot like any lead edit
  (echo suppression, retry index and batching are the sync's own).

A second publication of the same model writes nothing.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass

import sqlalchemy as sa

from hubspot_pipeline.db.tables import hubspot_sync_config, hubspot_workflow_triggers, lead_changes
from hubspot_pipeline.scoring.store.dbt_build import DBT_SCHEMA, SCORES_MODEL
from hubspot_pipeline.scoring.store.events import (
    EngagementEvent,
    append_events,
    score_changed,
    threshold_crossed,
)
from hubspot_pipeline.scoring.thresholds import crossings, workspace_thresholds
from hubspot_pipeline.scoring.weights import DEFAULT_HIGH_THRESHOLD

# The published fields, as the lead outbox names them (`engagement.<field>`) and mappings use them as sources.
PUBLISHED_FIELDS = ("score", "last_engaged_at", "last_reply_intent", "opens_30d", "clicks_30d", "replies_30d")


@dataclass(frozen=True)
class Publication:
    changed: int  # leads whose published fields changed (each entered the lead outbox)
    score_changes: int
    crossings: int


def _upsert(scope: str) -> str:
    fields = ", ".join(PUBLISHED_FIELDS)
    excluded = ", ".join(f"EXCLUDED.{f}" for f in PUBLISHED_FIELDS)
    current = ", ".join(f"le.{f}" for f in PUBLISHED_FIELDS)
    changed = " || ".join(
        f"CASE WHEN o.lead_id IS NULL OR o.{f} IS DISTINCT FROM u.{f} THEN ARRAY['engagement.{f}'] "
        "ELSE ARRAY[]::text[] END"
        for f in PUBLISHED_FIELDS
    )
    return f"""
WITH fresh AS (
  SELECT s.lead_id, s.workspace_id, {", ".join("s." + f for f in PUBLISHED_FIELDS)}, s.reference_date
  FROM {DBT_SCHEMA}.{SCORES_MODEL} AS s
  JOIN leads AS l ON l.id = s.lead_id AND l.deleted_at IS NULL
  WHERE {scope}
),
old AS (
  SELECT le.* FROM lead_engagement AS le JOIN fresh USING (lead_id)
),
upserted AS (
  INSERT INTO lead_engagement AS le (lead_id, workspace_id, {fields}, reference_date, updated_at)
  SELECT lead_id, workspace_id, {fields}, reference_date, now() FROM fresh
  ON CONFLICT (lead_id) DO UPDATE SET ({fields}, reference_date, updated_at) = ({excluded}, EXCLUDED.reference_date, now())
  WHERE ({current}) IS DISTINCT FROM ({excluded})
  RETURNING le.*
)
SELECT u.lead_id, u.workspace_id, o.score AS old_score, u.score AS new_score, {changed} AS changed_fields
FROM upserted AS u LEFT JOIN old AS o USING (lead_id)
"""


def _thresholds(conn: sa.Connection, workspace_ids: set[uuid.UUID]) -> dict[uuid.UUID, list[int]]:
    t, c = hubspot_workflow_triggers, hubspot_sync_config
    triggers = defaultdict(list)
    for row in conn.execute(
        sa.select(t.c.workspace_id, t.c.enabled, t.c.event_type, t.c.conditions, t.c.threshold).where(
            t.c.workspace_id.in_(workspace_ids), t.c.deleted_at.is_(None)
        )
    ).mappings():
        triggers[row["workspace_id"]].append(dict(row))
    defaults: dict[uuid.UUID, int] = {
        row.workspace_id: row.engagement_high_threshold
        for row in conn.execute(
            sa.select(c.c.workspace_id, c.c.engagement_high_threshold).where(
                c.c.workspace_id.in_(workspace_ids)
            )
        )
    }
    return {
        w: workspace_thresholds(triggers[w], defaults.get(w, DEFAULT_HIGH_THRESHOLD)) for w in workspace_ids
    }


def publish(conn: sa.Connection, workspace_id: uuid.UUID | None = None) -> Publication:
    """Publish the model's rows of one workspace (or all) in the caller's transaction."""
    scope = "s.workspace_id = :workspace" if workspace_id else "true"
    params = {"workspace": workspace_id} if workspace_id else {}
    rows = conn.execute(sa.text(_upsert(scope)), params).mappings().all()
    if not rows:
        return Publication(0, 0, 0)
    conn.execute(
        sa.insert(lead_changes),
        [
            {
                "workspace_id": r["workspace_id"],
                "lead_id": r["lead_id"],
                "operation": "update",
                "changed_fields": list(r["changed_fields"]),
            }
            for r in rows
        ],
    )
    thresholds = _thresholds(conn, {r["workspace_id"] for r in rows})
    events: list[EngagementEvent] = []
    changes = crossed = 0
    for r in rows:
        old, new = r["old_score"], r["new_score"]
        if old == new or (old is None and new == 0):
            continue
        changes += 1
        events.append(score_changed(r["workspace_id"], r["lead_id"], old, new))
        for threshold, _direction in crossings(old, new, thresholds[r["workspace_id"]]):
            crossed += 1
            events.append(threshold_crossed(r["workspace_id"], r["lead_id"], old, new, threshold))
    append_events(conn, events)
    return Publication(len(rows), changes, crossed)
