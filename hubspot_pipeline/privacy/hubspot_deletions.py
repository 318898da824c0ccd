"""HubSpot's `contact.privacyDeletion`: the person was erased in HubSpot (a GDPR delete there), so they are
erased in ColdCopy the same way: the lead paired with the contact and every local copy, leaving the keyed
hash of the email. HubSpot fires a `contact.deletion` for the same object with it, in any order and
possibly in another batch, and either may be delivered twice: they are one erasure.

- privacyDeletion first (or both in one batch): the contact sync run calls `erase_privacy_deletions` before
  it reads its queue, so the erasure deletes the contact's queued events, the `deletion` among them; a
  `deletion` arriving later names a contact no pair knows, and the sync ignores it.
- deletion first: the sync ends the pair as for any deleted contact (per `on_hubspot_archive`), keeping the
  pair's HubSpot id (a tombstone), and the privacyDeletion then finds the lead through it. With the policy
  `keep`, which forgets the pair, a privacyDeletion processed after its deletion finds no lead (see
  docs/architecture.md, "Privacy").
- A repeat: the contact id is in an erasure's `hubspot_ids`, or no pair names it: a no-op, not audited again.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

import sqlalchemy as sa

from hubspot_pipeline.privacy import store
from hubspot_pipeline.privacy.erasure import HUBSPOT_ACTOR, audit_erasure
from hubspot_pipeline.privacy.keys import email_key, hash_secret, lead_key

PRIVACY_EVENTS = ("contact.privacyDeletion",)


@dataclass
class PrivacyDeletions:
    erased: int = 0  # people erased
    repeats: int = 0  # privacyDeletions of contacts already erased, or paired with no lead
    deleted: dict[str, int] = field(default_factory=dict)


def erase_privacy_deletions(
    engine: sa.Engine, workspace_id: uuid.UUID, *, secret: bytes | None = None
) -> PrivacyDeletions:
    """Erase the people of the workspace's queued `contact.privacyDeletion` events, one transaction each."""
    with engine.connect() as conn:
        object_ids = sorted(
            {
                str(row[0])
                for row in conn.execute(
                    sa.text(
                        "SELECT object_id FROM webhook_events WHERE workspace_id = :w AND processed_at IS NULL "
                        "AND subscription_type = ANY(:kinds) ORDER BY 1"
                    ).bindparams(sa.bindparam("kinds", type_=sa.ARRAY(sa.Text))),
                    {"w": workspace_id, "kinds": list(PRIVACY_EVENTS)},
                )
            }
        )
    result = PrivacyDeletions()
    for object_id in object_ids:
        _erase_contact(engine, workspace_id, object_id, result, secret)
    return result


def _erase_contact(
    engine: sa.Engine, workspace_id: uuid.UUID, object_id: str, result: PrivacyDeletions, secret: bytes | None
) -> None:
    with engine.begin() as conn:
        person = store.find_by_hubspot_ids(conn, workspace_id, [object_id])
        if not person.lead_ids:
            # Nobody here (a repeat, or a contact never paired): its events still go, as they may carry
            # property values.
            store.erase_local(conn, workspace_id, store.Person(hubspot_ids={object_id}))
            result.repeats += 1
            return
        key = secret if secret is not None else hash_secret()
        erasure_ids = store.record_erasures(
            conn,
            workspace_id,
            email_keys=[email_key(key, e) for e in person.emails],
            lead_keys=[lead_key(key, i) for i in person.lead_ids],
            hubspot_ids=person.hubspot_ids,
            source="hubspot",
            hubspot_status="deleted_by_hubspot",
            requested_by=HUBSPOT_ACTOR,
        )
        deleted = store.erase_local(conn, workspace_id, person)
        audit_erasure(
            conn, workspace_id, HUBSPOT_ACTOR, erasure_ids, "erased", "deleted_by_hubspot", deleted, None
        )
    result.erased += 1
    for table, count in deleted.items():
        result.deleted[table] = result.deleted.get(table, 0) + count
