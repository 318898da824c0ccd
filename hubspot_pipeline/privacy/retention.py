"""Retention: personal data kept only for its purpose. What is past its age (RETENTION_* settings) is purged
by `retention_job` (defs/privacy, daily) or `hubspot-pipeline privacy purge`:

| what | kept for (default) | why then | purged how |
|---|---|---|---|
| processed webhook events | 30 days | the sync applied them; the row de-duplicates a redelivery (HubSpot retries for 24 h) | deleted |
| lead outbox rows the sync has read | 30 days | the sync read them (below its cursor); `latest` dates conflicts by them | deleted |
| conflicts' values | 90 days | to look into a conflict; the row (field, times, policy, winner) stays | values set to NULL |
| message bodies | 365 days | the activity log sends them (90 days back at most); intents are decided on arrival | text and HTML set to NULL |
| audit details | 365 days | the entry (who, what, when) stays | details emptied |

Never blocks the sync: each batch (RETENTION_BATCH_SIZE rows) is its own short transaction, takes its rows
`FOR UPDATE SKIP LOCKED` (a row a run holds is left for the next pass) and walks the table by key from where
the previous batch stopped, so no batch rescans what it kept. Queued webhook events and outbox rows the sync
has not read are never touched.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import UUID

from hubspot_pipeline.settings import Settings, get_settings


@dataclass(frozen=True)
class RetentionPolicy:
    webhook_events: timedelta
    outbox: timedelta
    conflict_values: timedelta
    message_bodies: timedelta
    audit_details: timedelta
    batch_size: int = 1000

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> RetentionPolicy:
        s = settings or get_settings()
        return cls(
            webhook_events=timedelta(days=s.retention_webhook_events_days),
            outbox=timedelta(days=s.retention_outbox_days),
            conflict_values=timedelta(days=s.retention_conflict_values_days),
            message_bodies=timedelta(days=s.retention_message_bodies_days),
            audit_details=timedelta(days=s.retention_audit_details_days),
            batch_size=s.retention_batch_size,
        )


@dataclass(frozen=True)
class Target:
    """One kind of expired data: `candidates` selects up to :n keys past :cutoff after :after, in key order;
    `action` deletes or scrubs the rows whose keys are :keys."""

    name: str
    age: str  # the RetentionPolicy field
    candidates: str
    action: str
    key_type: Any = sa.BigInteger  # of the key, `id`
    first_key: Any = 0


_OUTBOX_READ = (
    "EXISTS (SELECT 1 FROM sync_cursors s WHERE s.workspace_id = t.workspace_id AND s.stream = 'lead_outbox' "
    "AND jsonb_typeof(s.cursor) = 'number' AND t.id <= (s.cursor)::text::numeric)"
)

TARGETS = (
    Target(
        "webhook_events",
        "webhook_events",
        "SELECT id FROM webhook_events t WHERE id > :after AND processed_at < :cutoff",
        "DELETE FROM webhook_events WHERE id = ANY(:keys)",
    ),
    Target(
        "lead_changes",
        "outbox",
        f"SELECT id FROM lead_changes t WHERE id > :after AND changed_at < :cutoff AND {_OUTBOX_READ}",
        "DELETE FROM lead_changes WHERE id = ANY(:keys)",
    ),
    Target(
        "sync_conflicts",
        "conflict_values",
        "SELECT id FROM sync_conflicts t WHERE id > :after AND created_at < :cutoff AND "
        "(coldcopy_value IS NOT NULL OR hubspot_value IS NOT NULL OR resolved_value IS NOT NULL)",
        "UPDATE sync_conflicts SET coldcopy_value = NULL, hubspot_value = NULL, resolved_value = NULL "
        "WHERE id = ANY(:keys)",
    ),
    Target(
        "email_messages",
        "message_bodies",
        "SELECT id FROM email_messages t WHERE id > :after AND sent_at < :cutoff AND "
        "(body_text IS NOT NULL OR body_html IS NOT NULL)",
        "UPDATE email_messages SET body_text = NULL, body_html = NULL WHERE id = ANY(:keys)",
        UUID(as_uuid=True),
        uuid.UUID(int=0),
    ),
    Target(
        "audit_log",
        "audit_details",
        "SELECT id FROM audit_log t WHERE id > :after AND occurred_at < :cutoff AND details <> '{}'::jsonb",
        "UPDATE audit_log SET details = '{}'::jsonb WHERE id = ANY(:keys)",
    ),
)

Log = Callable[[str], Any]


def purge_expired(
    engine: sa.Engine,
    policy: RetentionPolicy,
    *,
    dry_run: bool = False,
    now: datetime | None = None,
    log: Log = lambda _message: None,
) -> dict[str, int]:
    """Purge (or, dry, count) each target's expired rows; returns rows purged per target."""
    now = now or datetime.now(UTC)
    report = {}
    for target in TARGETS:
        cutoff = now - getattr(policy, target.age)
        report[target.name] = (
            _count(engine, target, cutoff)
            if dry_run
            else _purge(engine, target, cutoff, policy.batch_size, log)
        )
    log(f"retention: {'would purge' if dry_run else 'purged'} {report}")
    return report


def _count(engine: sa.Engine, target: Target, cutoff: datetime) -> int:
    with engine.connect() as conn:
        sql = f"SELECT count(*) FROM ({target.candidates}) AS expired"
        return int(conn.execute(sa.text(sql), {"after": target.first_key, "cutoff": cutoff}).scalar_one())


def _purge(engine: sa.Engine, target: Target, cutoff: datetime, batch_size: int, log: Log) -> int:
    """Batches until one comes back short; each in its own transaction, its rows locked SKIP LOCKED."""
    select = sa.text(f"{target.candidates} ORDER BY id LIMIT :n FOR UPDATE OF t SKIP LOCKED")
    action = sa.text(target.action).bindparams(sa.bindparam("keys", type_=sa.ARRAY(target.key_type)))
    after, done, started = target.first_key, 0, time.monotonic()
    while True:
        with engine.begin() as conn:
            conn.execute(sa.text("SET LOCAL lock_timeout = '2s'"))
            keys = list(conn.execute(select, {"after": after, "cutoff": cutoff, "n": batch_size}).scalars())
            if keys:
                conn.execute(action, {"keys": keys})
        done += len(keys)
        if keys:
            after = keys[-1]
            log(f"retention: {target.name}: {done} rows purged so far ({time.monotonic() - started:.1f}s)")
        if len(keys) < batch_size:
            return done
