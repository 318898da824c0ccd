"""A person's rows in PostgreSQL: finding them (by lead id, email or HubSpot id) and deleting every local
copy in one transaction, and the `privacy_erasures` rows that remember, without personal data, who was
erased. Every statement binds its values (emails are never spliced into SQL, and are compared with `=` on
`lower(...)`, never with LIKE)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, UUID, insert

from hubspot_pipeline.db.connection import sync_writer
from hubspot_pipeline.db.tables import privacy_erasures
from hubspot_pipeline.privacy.keys import normalise_email

CONTACT_EVENT = "(subscription_type LIKE 'contact.%' OR (subscription_type LIKE 'object.%' AND payload->>'objectTypeId' = '0-1'))"
# The dbt model that keeps one row per lead (engagement schema); views hold nothing of their own.
DBT_LEAD_TABLES = ("engagement.lead_engagement_scores",)


@dataclass
class Person:
    """Every lead row, email and HubSpot contact id found for one person in one workspace."""

    lead_ids: set[uuid.UUID] = field(default_factory=set)
    emails: set[str] = field(default_factory=set)
    hubspot_ids: set[str] = field(default_factory=set)

    def holds_anything(self) -> bool:
        return bool(self.lead_ids or self.hubspot_ids)


def _uuids(values: Iterable[Any]) -> list[uuid.UUID]:
    return sorted({v if isinstance(v, uuid.UUID) else uuid.UUID(str(v)) for v in values if v is not None})


def _complete(conn: sa.Connection, workspace_id: uuid.UUID, person: Person) -> Person:
    """Adds the leads' emails (current and last agreed) and their contacts' ids."""
    ids = _uuids(person.lead_ids)
    if ids:
        params = {"w": workspace_id, "ids": ids}
        for (email,) in conn.execute(
            sa.text("SELECT email FROM leads WHERE workspace_id = :w AND id = ANY(:ids)").bindparams(
                sa.bindparam("ids", type_=ARRAY(UUID))
            ),
            params,
        ):
            person.emails.add(normalise_email(email))
        rows = conn.execute(
            sa.text(
                "SELECT hubspot_id, agreed->>'email' FROM hubspot_sync_status WHERE workspace_id = :w "
                "AND entity_type = 'contact' AND entity_id = ANY(:ids)"
            ).bindparams(sa.bindparam("ids", type_=ARRAY(UUID))),
            params,
        )
        for hubspot_id, email in rows:
            if hubspot_id:
                person.hubspot_ids.add(str(hubspot_id))
            if email:
                person.emails.add(normalise_email(email))
    return person


def find_by_lead(conn: sa.Connection, workspace_id: uuid.UUID, lead_id: uuid.UUID) -> Person | None:
    """The person of a lead of this workspace (deleted or not); None when the workspace has no such lead
    and no pair state names it."""
    found = conn.execute(
        sa.text(
            "SELECT id FROM leads WHERE workspace_id = :w AND id = :id UNION "
            "SELECT entity_id FROM hubspot_sync_status WHERE workspace_id = :w AND entity_type = 'contact' "
            "AND entity_id = :id"
        ),
        {"w": workspace_id, "id": lead_id},
    ).first()
    if found is None:
        return None
    return _complete(conn, workspace_id, Person(lead_ids={lead_id}))


def find_by_email(conn: sa.Connection, workspace_id: uuid.UUID, email: str) -> Person:
    """Leads holding the email, and leads whose pair last agreed on it (a lead deleted or whose email
    changed since); empty when the workspace holds nothing under it."""
    normalised = normalise_email(email)
    rows = conn.execute(
        sa.text(
            "SELECT id FROM leads WHERE workspace_id = :w AND lower(email) = :e UNION "
            "SELECT entity_id FROM hubspot_sync_status WHERE workspace_id = :w AND entity_type = 'contact' "
            "AND lower(agreed->>'email') = :e AND entity_id IS NOT NULL"
        ),
        {"w": workspace_id, "e": normalised},
    )
    person = Person(lead_ids={row[0] for row in rows}, emails={normalised})
    return _complete(conn, workspace_id, person)


def find_by_hubspot_ids(conn: sa.Connection, workspace_id: uuid.UUID, hubspot_ids: Iterable[str]) -> Person:
    """The leads paired with these HubSpot contacts (a tombstoned pair too)."""
    wanted = sorted({str(h) for h in hubspot_ids})
    rows = conn.execute(
        sa.text(
            "SELECT entity_id FROM hubspot_sync_status WHERE workspace_id = :w AND entity_type = 'contact' "
            "AND hubspot_id = ANY(:h) AND entity_id IS NOT NULL"
        ).bindparams(sa.bindparam("h", type_=ARRAY(sa.Text))),
        {"w": workspace_id, "h": wanted},
    )
    person = Person(lead_ids={row[0] for row in rows})
    person = _complete(conn, workspace_id, person)
    person.hubspot_ids |= set(wanted) if person.lead_ids else set()
    return person


def _run(conn: sa.Connection, sql: str, params: dict[str, Any], **types: Any) -> int:
    used = {name: kind for name, kind in types.items() if re.search(rf":{name}\b", sql)}
    statement = sa.text(sql).bindparams(*(sa.bindparam(name, type_=kind) for name, kind in used.items()))
    return conn.execute(statement, params).rowcount or 0


def erase_local(conn: sa.Connection, workspace_id: uuid.UUID, person: Person) -> dict[str, int]:
    """Deletes every local copy of the person's data, in the caller's transaction, as the sync's writer (so
    the lead outbox records nothing of it). Returns rows touched per table (those with any)."""
    params: dict[str, Any] = {
        "w": workspace_id,
        "l": _uuids(person.lead_ids),
        "h": sorted(person.hubspot_ids),
        "e": sorted(person.emails),
    }
    types: dict[str, Any] = {"l": ARRAY(UUID), "h": ARRAY(sa.Text), "e": ARRAY(sa.Text), "ev": ARRAY(UUID)}
    events = conn.execute(
        sa.text("SELECT id FROM email_events WHERE workspace_id = :w AND lead_id = ANY(:l)").bindparams(
            sa.bindparam("l", type_=ARRAY(UUID))
        ),
        params,
    ).scalars()
    params["ev"] = list(events)
    lock_workspace(conn, workspace_id)
    with sync_writer(conn):
        counts = {table: _run(conn, sql, params, **types) for table, sql in PAIR_DELETES.items()}
        for table in DBT_LEAD_TABLES:
            if conn.execute(sa.text("SELECT to_regclass(:t)"), {"t": table}).scalar() is not None:
                counts[table] = _run(conn, f"DELETE FROM {table} WHERE lead_id = ANY(:l)", params, **types)
        counts["email_events"] = len(params["ev"])
        counts["email_messages"] = conn.execute(
            sa.text(
                "SELECT count(*) FROM email_messages WHERE workspace_id = :w AND lead_id = ANY(:l)"
            ).bindparams(sa.bindparam("l", type_=ARRAY(UUID))),
            params,
        ).scalar_one()
        # The lead row last: its messages, events, engagement and trigger state go with it (ON DELETE CASCADE).
        counts["leads"] = _run(
            conn, "DELETE FROM leads WHERE workspace_id = :w AND id = ANY(:l)", params, **types
        )
        for table in ("audit_log", "alerts"):
            counts[table] = _run(
                conn,
                f"UPDATE {table} SET details = '{{\"erased\": true}}' WHERE workspace_id = :w AND EXISTS "
                "(SELECT 1 FROM unnest(:e) AS e WHERE strpos(lower(details::text), e) > 0)",
                params,
                e=ARRAY(sa.Text),
            )
    return {table: count for table, count in counts.items() if count}


# What erasing a person deletes besides the lead row and what cascades from it. `:l` lead ids, `:h` HubSpot
# contact ids, `:e` emails, `:ev` the lead's email event ids.
PAIR_DELETES = {
    "hubspot_sync_status": (
        "DELETE FROM hubspot_sync_status WHERE workspace_id = :w AND ("
        "(entity_type = 'contact' AND (entity_id = ANY(:l) OR hubspot_id = ANY(:h))) "
        "OR (entity_type = 'activity' AND entity_id = ANY(:ev)))"
    ),
    "hubspot_activity_log": (
        "DELETE FROM hubspot_activity_log WHERE workspace_id = :w AND (lead_id = ANY(:l) "
        "OR email_event_id = ANY(:ev) OR hubspot_contact_id = ANY(:h))"
    ),
    # Executions stay (their (trigger, event) key keeps an event from acting twice), scrubbed: no lead, no
    # contact, no event or action details; one still pending is skipped.
    "hubspot_workflow_executions": (
        "UPDATE hubspot_workflow_executions SET lead_id = NULL, hubspot_contact_id = NULL, "
        "metadata = '{\"erased\": true}', response = '{}', error_message = 'erased (GDPR)', "
        "status = CASE WHEN status = 'pending' THEN 'skipped' ELSE status END, claimed_until = NULL, "
        "next_attempt_at = NULL, finished_at = coalesce(finished_at, now()) "
        "WHERE workspace_id = :w AND (lead_id = ANY(:l) OR hubspot_contact_id = ANY(:h))"
    ),
    "sync_conflicts": (
        "DELETE FROM sync_conflicts WHERE workspace_id = :w AND (lead_id = ANY(:l) OR hubspot_id = ANY(:h))"
    ),
    "lead_changes": "DELETE FROM lead_changes WHERE workspace_id = :w AND lead_id = ANY(:l)",
    "lead_digests": "DELETE FROM lead_digests WHERE lead_id = ANY(:l)",
    # Queued and processed alike: a contact's events, and any event whose property value is the email.
    "webhook_events": (
        "DELETE FROM webhook_events WHERE workspace_id = :w AND ((object_id::text = ANY(:h) AND "
        f"{CONTACT_EVENT}) OR lower(property_value) = ANY(:e))"
    ),
}


@dataclass
class Erasure:
    id: uuid.UUID
    hubspot_status: str
    hubspot_ids: list[str]


def find_erasure(
    conn: sa.Connection,
    workspace_id: uuid.UUID,
    *,
    email_keys: Iterable[str] = (),
    lead_key: str | None = None,
    hubspot_id: str | None = None,
) -> Erasure | None:
    e = privacy_erasures
    conditions: list[sa.ColumnElement[bool]] = [e.c.email_key.in_(sorted(set(email_keys)))]
    if lead_key is not None:
        conditions.append(e.c.lead_keys.contains([lead_key]))
    if hubspot_id is not None:
        conditions.append(e.c.hubspot_ids.contains([hubspot_id]))
    row = conn.execute(
        sa.select(e.c.id, e.c.hubspot_status, e.c.hubspot_ids)
        .where(e.c.workspace_id == workspace_id, sa.or_(*conditions))
        .order_by(e.c.erased_at)
        .limit(1)
    ).first()
    return None if row is None else Erasure(row.id, row.hubspot_status, list(row.hubspot_ids))


def record_erasures(
    conn: sa.Connection,
    workspace_id: uuid.UUID,
    *,
    email_keys: Iterable[str],
    lead_keys: Iterable[str],
    hubspot_ids: Iterable[str],
    source: str,
    hubspot_status: str,
    requested_by: str,
) -> list[uuid.UUID]:
    """One row per email key (a person whose email changed has several); a key already erased gains the
    new lead keys and HubSpot ids and counts the request."""
    e = privacy_erasures
    rows = [
        {
            "workspace_id": workspace_id,
            "email_key": key,
            "lead_keys": sorted(set(lead_keys)),
            "hubspot_ids": sorted(set(hubspot_ids)),
            "source": source,
            "hubspot_status": hubspot_status,
            "requested_by": requested_by,
        }
        for key in sorted(set(email_keys))
    ]
    if not rows:
        return []
    lock_workspace(conn, workspace_id)
    statement = insert(e).values(rows)

    def merged(column: str) -> sa.ColumnElement[Any]:
        return sa.literal_column(
            f"ARRAY(SELECT DISTINCT unnest(privacy_erasures.{column} || EXCLUDED.{column}) ORDER BY 1)",
            ARRAY(sa.Text),
        )

    statement = statement.on_conflict_do_update(
        index_elements=[e.c.workspace_id, e.c.email_key],
        set_={
            "lead_keys": merged("lead_keys"),
            "hubspot_ids": merged("hubspot_ids"),
            "hubspot_status": statement.excluded.hubspot_status,
            "requests": e.c.requests + 1,
            "updated_at": sa.func.now(),
        },
    )
    return list(conn.execute(statement.returning(e.c.id)).scalars())


def set_hubspot_status(conn: sa.Connection, erasure_ids: Iterable[uuid.UUID], status: str) -> None:
    ids = list(erasure_ids)
    if ids:
        conn.execute(
            sa.update(privacy_erasures)
            .where(privacy_erasures.c.id.in_(ids))
            .values(hubspot_status=status, updated_at=sa.func.now())
        )


def erased_email_keys(conn: sa.Connection, workspace_id: uuid.UUID) -> set[str]:
    return set(
        conn.execute(
            sa.select(privacy_erasures.c.email_key).where(privacy_erasures.c.workspace_id == workspace_id)
        ).scalars()
    )


def erased_among(conn: sa.Connection, workspace_id: uuid.UUID, emails: Iterable[str]) -> set[str]:
    """Which of these emails (as given) belong to people erased from the workspace. Reads the workspace's
    keys once and hashes only when there are any, so a workspace that never erased anyone needs no secret."""
    keys = erased_email_keys(conn, workspace_id)
    if not keys:
        return set()
    from hubspot_pipeline.privacy.keys import email_key, hash_secret

    secret = hash_secret()
    return {e for e in set(emails) if e and email_key(secret, e) in keys}


def record_repeat(conn: sa.Connection, erasure_id: uuid.UUID, hubspot_status: str) -> None:
    """A request for a person already erased: counted, with the HubSpot side's latest outcome."""
    conn.execute(
        sa.update(privacy_erasures)
        .where(privacy_erasures.c.id == erasure_id)
        .values(
            hubspot_status=hubspot_status,
            requests=privacy_erasures.c.requests + 1,
            updated_at=sa.func.now(),
        )
    )


def lock_workspace(conn: sa.Connection, workspace_id: uuid.UUID) -> None:
    """Serialises, per workspace, what an erasure writes with the sync's record of a run (to the end of the
    caller's transaction): a run that records after an erasure is committed sees it and records nothing of
    the person; one that records before is undone by the erasure's purge, which comes after."""
    conn.execute(
        sa.text("SELECT pg_advisory_xact_lock(hashtextextended('privacy:' || CAST(:w AS text), 0))"),
        {"w": workspace_id},
    )
