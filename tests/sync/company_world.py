"""The companies of the stateful test's world (sync_world.World): changed the way people change them, and
observed without API calls that count as writes.

- ColdCopy: a company's name edited with plain SQL (the `company_changes` trigger records it, stamped with
  the world clock); a lead moved to another domain by its website.
- HubSpot: a company's name edited in the UI, a company archived, two companies merged (the API).
- Observations: ColdCopy's companies and their pairs (PostgreSQL), HubSpot's live companies (the sandbox's
  memory) and a contact's company associations.
"""

from __future__ import annotations

import uuid
from typing import Any

import sqlalchemy as sa

from hubspot_pipeline.db.tables import companies, hubspot_sync_status
from hubspot_pipeline.sandbox.object_types import resolve_object_type
from tests.sync.sync_world import World

COMPANY_EVENTS = ["company.creation", "company.deletion", "company.merge"]
DOMAINS = ["alpha.example.org", "beta.example.org", "gamma.example.org"]  # where leads move to


def edit_company_in_coldcopy(world: World, domain: str, name: str) -> int:
    at = world.tick()
    with world.engine.begin() as conn:
        top = conn.execute(sa.text("SELECT coalesce(max(id), 0) FROM company_changes")).scalar_one()
        conn.execute(
            sa.update(companies)
            .where(companies.c.workspace_id == world.workspace_id, companies.c.domain == domain)
            .values(name=name)
        )
        conn.execute(
            sa.text(
                "UPDATE company_changes SET changed_at = to_timestamp(:at / 1000.0) "
                "WHERE workspace_id = :ws AND id > :after"
            ),
            {"at": at, "ws": world.workspace_id, "after": top},
        )
    return at


def edit_company_in_hubspot(world: World, hubspot_id: str, name: str) -> int:
    at = world.tick()
    world.admin.ui_edit(hubspot_id, {"name": name}, "companies", hub_id=world.hub_id)
    return at


def archive_company(world: World, hubspot_id: str) -> None:
    world.tick()
    world.client.archive("companies", hubspot_id)


def merge_companies(world: World, primary: str, other: str) -> tuple[str, int]:
    """HubSpot merges `other` into `primary`; the survivor's id and the merge's time."""
    at = world.tick()
    response = world.client.call(
        "POST",
        "/crm/v3/objects/companies/merge",
        json={"primaryObjectId": primary, "objectIdToMerge": other},
        endpoint="POST /crm/v3/objects/companies/merge",
    ).body
    return str(response["id"]), at


def coldcopy_companies(world: World) -> dict[str, dict[str, Any]]:
    """domain -> id, name, deleted, and the pair: hubspot_id, ended (a tombstone), status."""
    s = hubspot_sync_status
    with world.engine.connect() as conn:
        rows = conn.execute(
            sa.select(
                companies.c.domain,
                sa.cast(companies.c.id, sa.Text),
                companies.c.name,
                companies.c.deleted_at.is_not(None),
                s.c.hubspot_id,
                s.c.agreed,
                s.c.status,
            )
            .select_from(companies)
            .outerjoin(
                s,
                (s.c.entity_type == "company")
                & (s.c.entity_id == companies.c.id)
                & (s.c.workspace_id == companies.c.workspace_id),
            )
            .where(companies.c.workspace_id == world.workspace_id)
        ).all()
    return {
        r[0]: {
            "id": r[1],
            "name": r[2],
            "deleted": r[3],
            "hubspot_id": r[4],
            "ended": "_tombstone" in (r[5] or {}),
            "status": r[6],
        }
        for r in rows
    }


def hubspot_companies(world: World) -> dict[str, dict[str, str]]:
    """Live HubSpot companies by id: domain and name."""
    store = world.sandbox.app.sandbox.portal(world.hub_id).store(resolve_object_type("companies"))
    return {
        str(r.id): {"domain": r.properties.get("domain") or "", "name": r.properties.get("name") or ""}
        for r in list(store.records.values())
        if not r.archived
    }


def lead_companies(world: World) -> dict[str, tuple[str | None, str, str]]:
    """Live lead id -> (its company id, website, email)."""
    with world.engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT id::text, company_id::text, coalesce(website, ''), email FROM leads "
                "WHERE workspace_id = :ws AND deleted_at IS NULL"
            ),
            {"ws": world.workspace_id},
        ).all()
    return {r[0]: (r[1], r[2], r[3]) for r in rows}


def associated(world: World, contact_ids: list[str]) -> dict[str, set[str]]:
    """contact id -> the ids of the companies it is associated with (the sandbox's memory)."""
    found = world.client.batch_read_associations("contacts", "companies", contact_ids) if contact_ids else {}
    return {c: {str(x) for x in found.get(c, [])} for c in contact_ids}


def company_id_of(world: World, domain: str) -> str:
    from hubspot_pipeline.sync.core.companies import company_id

    return str(company_id(uuid.UUID(str(world.workspace_id)), domain))
