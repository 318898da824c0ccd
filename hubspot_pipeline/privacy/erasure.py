"""An erasure asked by ColdCopy (the API, the command line): the person's HubSpot contact is erased with
HubSpot's GDPR delete, then every local copy of their data is deleted, leaving a keyed hash of the email.

    outcome = erase_person(engine, workspace_id, email="ada@example.com", hubspot=lambda: client_cm, actor="cli")
    outcome.status       # "erased", or "already_erased" when nothing of the person is left (a no-op)

Order: the erasure row (the hash) is committed first, so a sync run from then on neither pushes the email
nor pulls it back; then HubSpot; then the local purge with its audit entry, in one transaction. A HubSpot
failure does not stop the local purge: the row says `failed` and keeps the HubSpot ids, and the same
request again retries the HubSpot side only.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field

import sqlalchemy as sa

from hubspot_pipeline.db import audit
from hubspot_pipeline.hubspot import HubSpotClient, HubSpotError
from hubspot_pipeline.privacy import store
from hubspot_pipeline.privacy.keys import email_key, hash_secret, lead_key, normalise_email

HubSpotAccess = Callable[[], AbstractContextManager[HubSpotClient]]
RETRYABLE = ("pending", "failed")


class PersonNotFound(LookupError):
    """The workspace holds no lead under this id or email, and has erased none."""


@dataclass
class ErasureOutcome:
    status: str  # erased | already_erased
    erasure_ids: list[uuid.UUID]
    hubspot: str  # deleted | not_found | not_connected | failed | deleted_by_hubspot (privacyDeletion)
    deleted: dict[str, int] = field(default_factory=dict)
    hubspot_error: str | None = None


def erase_person(
    engine: sa.Engine,
    workspace_id: uuid.UUID,
    *,
    lead_id: uuid.UUID | None = None,
    email: str | None = None,
    hubspot: HubSpotAccess | None,
    actor: str,
    secret: bytes | None = None,
) -> ErasureOutcome:
    """Erase one person, named by lead id or by email. `hubspot`: opens a client on the workspace's portal
    (None: the workspace is not connected). Raises PersonNotFound when there is nobody to erase."""
    if (lead_id is None) == (email is None):
        raise ValueError("name the person by lead_id or by email, not both")
    secret = secret if secret is not None else hash_secret()
    with engine.connect() as conn:
        if lead_id is not None:
            person = store.find_by_lead(conn, workspace_id, lead_id) or store.Person()
            earlier = store.find_erasure(conn, workspace_id, lead_key=lead_key(secret, lead_id))
        else:
            assert email is not None
            person = store.find_by_email(conn, workspace_id, email)
            earlier = store.find_erasure(conn, workspace_id, email_keys=[email_key(secret, email)])
    if not person.holds_anything():
        if earlier is None:
            raise PersonNotFound(
                f"workspace {workspace_id} has no lead {'with that email' if email else lead_id} and has "
                "erased none: check the id or the address (emails compare case-insensitively)"
            )
        return _repeat(engine, workspace_id, earlier, email, hubspot, actor)
    keys = [email_key(secret, e) for e in person.emails]
    with engine.begin() as conn:
        erasure_ids = store.record_erasures(
            conn,
            workspace_id,
            email_keys=keys,
            lead_keys=[lead_key(secret, i) for i in person.lead_ids],
            hubspot_ids=person.hubspot_ids,
            source="coldcopy",
            hubspot_status="pending",
            requested_by=actor,
        )
    status, error = _delete_in_hubspot(hubspot, sorted(person.hubspot_ids), sorted(person.emails))
    with engine.begin() as conn:
        deleted = store.erase_local(conn, workspace_id, person)
        store.set_hubspot_status(conn, erasure_ids, status)
        audit_erasure(conn, workspace_id, actor, erasure_ids, "erased", status, deleted, error)
    return ErasureOutcome("erased", erasure_ids, status, deleted, _message(error))


def _repeat(
    engine: sa.Engine,
    workspace_id: uuid.UUID,
    earlier: store.Erasure,
    email: str | None,
    hubspot: HubSpotAccess | None,
    actor: str,
) -> ErasureOutcome:
    """Nothing of the person is left: a no-op, except that a HubSpot side that failed is tried again."""
    status: str = earlier.hubspot_status
    error: HubSpotError | None = None
    if status in RETRYABLE and hubspot is not None:
        emails = [normalise_email(email)] if email else []
        status, error = _delete_in_hubspot(hubspot, earlier.hubspot_ids, emails)
    with engine.begin() as conn:
        store.record_repeat(conn, earlier.id, status)
        audit_erasure(conn, workspace_id, actor, [earlier.id], "already_erased", status, {}, error)
    return ErasureOutcome("already_erased", [earlier.id], status, {}, _message(error))


def _message(error: HubSpotError | None) -> str | None:
    if error is None:
        return None
    return f"{error.message}; the local data is erased: send the same request again to retry HubSpot"


def _delete_in_hubspot(
    hubspot: HubSpotAccess | None, hubspot_ids: list[str], emails: list[str]
) -> tuple[str, HubSpotError | None]:
    """GDPR delete of the person's contacts: by id where the pair knew it, else by email (which HubSpot
    also blocklists when no contact holds it). Returns (status, the error or None)."""
    if hubspot is None:
        return "not_connected", None
    try:
        with hubspot() as client:
            deleted = [h for h in hubspot_ids if client.gdpr_delete(h)]
            if not deleted:
                for address in emails:
                    client.gdpr_delete(address, id_property="email")
                return ("deleted" if emails else "not_found"), None
            return "deleted", None
    except HubSpotError as error:
        return "failed", error


def audit_erasure(
    conn: sa.Connection,
    workspace_id: uuid.UUID,
    actor: str,
    erasure_ids: list[uuid.UUID],
    status: str,
    hubspot: str,
    deleted: dict[str, int],
    error: HubSpotError | None,
) -> None:
    """No personal data: the erasure's id, what happened, counts per table, HubSpot's outcome (a failure by
    its type and status only: HubSpot's message may quote the address)."""
    audit.record(
        conn,
        workspace_id=workspace_id,
        actor=actor,
        action="privacy.erase",
        target=str(erasure_ids[0]) if erasure_ids else None,
        details={
            "status": status,
            "source": "hubspot" if actor == HUBSPOT_ACTOR else "coldcopy",
            "hubspot": hubspot,
            "deleted": deleted,
            **({"hubspot_error": f"{type(error).__name__} {error.status}"} if error else {}),
        },
    )


HUBSPOT_ACTOR = "hubspot:privacyDeletion"


def workspace_hubspot(
    engine: sa.Engine,
    workspace_id: uuid.UUID,
    *,
    base_url: str | None = None,
    private_app_token: str | None = None,
) -> HubSpotAccess | None:
    """How an erasure reaches the workspace's portal: its OAuth connection (or a private-app token); None
    when it has neither. The client is opened only if HubSpot is called, and its calls count in /metrics."""
    from hubspot_pipeline.sync.connection import workspace_client, workspace_hub_id

    if private_app_token is None and workspace_hub_id(engine, workspace_id) is None:
        return None

    @contextmanager
    def open_client() -> Iterator[HubSpotClient]:
        client = workspace_client(
            engine, workspace_id, base_url=base_url, private_app_token=private_app_token
        )
        try:
            yield client
        finally:
            client.close()
            from hubspot_pipeline.monitoring.runs import record_client_calls

            record_client_calls(engine, client.metrics)

    return open_client
