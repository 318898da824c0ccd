"""ColdCopy's companies (table `companies`) as the sync reads and writes them, which company each lead
belongs to (`leads.company_id`), and the companies' pair state: `hubspot_sync_status` rows of entity_type
`company` (entity_id the company's id), holding the HubSpot id and the agreed values with their hash.
Writes run under the caller's `sync_writer`, so neither outbox echoes them."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

from hubspot_pipeline.sync.core.companies import company_id, domain_of, new_companies
from hubspot_pipeline.sync.core.mapping import CUSTOM_PREFIX

ENTITY = "company"
COLUMNS = ["id", "domain", "name", "custom_fields", "deleted"]


def read_companies(
    conn: sa.Connection,
    workspace_id: uuid.UUID,
    *,
    ids: Iterable[str] = (),
    domains: Iterable[str] = (),
    every: bool = False,
) -> pd.DataFrame:
    """Companies by id or domain (or every one), deleted ones too: COLUMNS, values as text ("" for none)."""
    rows = conn.execute(
        sa.text(
            "SELECT id::text, domain, coalesce(name, ''), custom_fields, deleted_at IS NOT NULL FROM companies "
            "WHERE workspace_id = :ws AND (:every OR id = ANY(CAST(:ids AS uuid[])) "
            "OR domain = ANY(CAST(:domains AS text[])))"
        ),
        {"ws": workspace_id, "every": every, "ids": sorted(set(ids)), "domains": sorted(set(domains))},
    ).all()
    frame = pd.DataFrame([tuple(r) for r in rows], columns=COLUMNS, dtype=object)
    frame["deleted"] = frame["deleted"].astype(bool)
    return frame


@dataclass
class Assignment:
    """What assigning leads to their companies did: the leads that moved (lead id -> (old company id or
    None, new company id or None)) and the companies made for domains ColdCopy did not have."""

    moved: dict[str, tuple[str | None, str | None]] = field(default_factory=dict)
    created: list[str] = field(default_factory=list)


def assign_companies(
    conn: sa.Connection, workspace_id: uuid.UUID, lead_ids: Iterable[str], keys: Iterable[str]
) -> Assignment:
    """Point each of these live leads at the company of its domain (none without one), adding the
    companies ColdCopy does not have yet (core.companies.new_companies; `keys`: the custom fields the
    company mappings read). A deleted company keeps its domain: its leads point at it, it is not re-made."""
    ids = sorted(set(lead_ids))
    if not ids:
        return Assignment()
    leads = (
        conn.execute(
            sa.text(
                "SELECT id::text AS id, email, website, company, custom_fields, company_id::text AS company_id "
                "FROM leads WHERE workspace_id = :ws AND deleted_at IS NULL AND id = ANY(CAST(:ids AS uuid[])) "
                "ORDER BY created_at, id"
            ),
            {"ws": workspace_id, "ids": ids},
        )
        .mappings()
        .all()
    )
    wanted = {str(r["id"]): domain_of(str(r["website"] or ""), str(r["email"] or "")) for r in leads}
    existing = read_companies(conn, workspace_id, domains=set(wanted.values()) - {""})
    known = dict(zip(existing["domain"], existing["id"], strict=True))
    out = Assignment()
    for domain, company in new_companies([dict(r) for r in leads], keys).items():
        if domain in known:
            continue
        new_id = str(company_id(workspace_id, domain))
        conn.execute(
            sa.text(
                "INSERT INTO companies (id, workspace_id, domain, name, custom_fields) "
                "VALUES (:id, :ws, :domain, :name, :custom) ON CONFLICT DO NOTHING"
            ).bindparams(sa.bindparam("custom", type_=JSONB)),
            {
                "id": new_id,
                "ws": workspace_id,
                "domain": domain,
                "name": company.name,
                "custom": company.custom_fields,
            },
        )
        # A pending pair, so that every run reads the company until it is in HubSpot (a run killed before
        # it created it included).
        conn.execute(
            sa.text(
                "INSERT INTO hubspot_sync_status (workspace_id, entity_type, entity_id, status) "
                f"VALUES (:ws, '{ENTITY}', :id, 'pending') ON CONFLICT DO NOTHING"
            ),
            {"ws": workspace_id, "id": new_id},
        )
        known[domain] = new_id
        out.created.append(new_id)
    for lead in leads:
        new = known.get(wanted[str(lead["id"])]) if wanted[str(lead["id"])] else None
        if new != lead["company_id"]:
            out.moved[str(lead["id"])] = (lead["company_id"], new)
    if out.moved:
        conn.execute(
            sa.text(
                "UPDATE leads AS l SET company_id = t.company_id FROM jsonb_to_recordset(:rows) "
                "AS t(id uuid, company_id uuid) WHERE l.id = t.id AND l.workspace_id = :ws"
            ).bindparams(sa.bindparam("rows", type_=JSONB)),
            {"ws": workspace_id, "rows": [{"id": i, "company_id": n} for i, (_, n) in out.moved.items()]},
        )
    return out


def update_companies(
    conn: sa.Connection, workspace_id: uuid.UUID, updates: Iterable[tuple[str, dict[str, str]]]
) -> None:
    """Values pulled from HubSpot: company id -> {company field (`name`, `custom_fields.<key>`): value}."""
    rows = []
    for company, fields in updates:
        custom = {k[len(CUSTOM_PREFIX) :]: v for k, v in fields.items() if k.startswith(CUSTOM_PREFIX)}
        rows.append(
            {"id": company, "has_name": "name" in fields, "name": fields.get("name"), "custom": custom}
        )
    if rows:
        conn.execute(
            sa.text(
                "UPDATE companies AS c SET name = CASE WHEN t.has_name THEN t.name ELSE c.name END, "
                "custom_fields = c.custom_fields || t.custom, updated_at = now() "
                "FROM jsonb_to_recordset(:rows) AS t(id uuid, has_name boolean, name text, custom jsonb) "
                "WHERE c.id = t.id AND c.workspace_id = :ws"
            ).bindparams(sa.bindparam("rows", type_=JSONB)),
            {"ws": workspace_id, "rows": rows},
        )


def soft_delete_companies(conn: sa.Connection, workspace_id: uuid.UUID, ids: Iterable[str]) -> None:
    """Companies HubSpot archived, under the `delete_lead` archive policy: marked deleted, leads kept."""
    if ids := sorted(set(ids)):
        conn.execute(
            sa.text(
                "UPDATE companies SET deleted_at = now() WHERE workspace_id = :ws "
                "AND id = ANY(CAST(:ids AS uuid[])) AND deleted_at IS NULL"
            ),
            {"ws": workspace_id, "ids": ids},
        )


def record_companies(conn: sa.Connection, workspace_id: uuid.UUID, rows: list[dict[str, Any]]) -> None:
    """Synced pairs (lead_id: the company id, hubspot_id, agreed, sync_hash): paired, out of the retry index."""
    for row in rows:
        conn.execute(
            sa.text(
                "INSERT INTO hubspot_sync_status (workspace_id, entity_type, entity_id, hubspot_id, agreed, sync_hash, "
                f"status, attempts, last_synced_at) VALUES (:ws, '{ENTITY}', :id, :hid, :agreed, :hash, 'synced', 0, "
                "now() AT TIME ZONE 'UTC') ON CONFLICT (workspace_id, entity_type, entity_id) DO UPDATE SET "
                "hubspot_id = excluded.hubspot_id, agreed = excluded.agreed, sync_hash = excluded.sync_hash, "
                "status = 'synced', attempts = 0, error_message = NULL, dead_at = NULL, "
                "last_synced_at = excluded.last_synced_at, updated_at = now()"
            ).bindparams(sa.bindparam("agreed", type_=JSONB)),
            {
                "ws": workspace_id,
                "id": row["lead_id"],
                "hid": row["hubspot_id"],
                "agreed": row["agreed"],
                "hash": row["sync_hash"],
            },
        )


def contacts_of_leads(
    conn: sa.Connection, workspace_id: uuid.UUID, lead_ids: Iterable[str]
) -> dict[str, str]:
    """lead id -> the HubSpot id of its live contact pair."""
    rows = conn.execute(
        sa.text(
            "SELECT entity_id::text, hubspot_id FROM hubspot_sync_status WHERE workspace_id = :ws "
            "AND entity_type = 'contact' AND hubspot_id IS NOT NULL AND NOT coalesce(agreed ? '_tombstone', false) "
            "AND entity_id = ANY(CAST(:ids AS uuid[]))"
        ),
        {"ws": workspace_id, "ids": sorted(set(lead_ids))},
    ).all()
    return {str(i): str(h) for i, h in rows}


def leads_of_contacts(conn: sa.Connection, workspace_id: uuid.UUID, hubspot_ids: Iterable[str]) -> list[str]:
    """The lead ids paired with these contacts (leads the contact sync just created included)."""
    rows = conn.execute(
        sa.text(
            "SELECT entity_id::text FROM hubspot_sync_status WHERE workspace_id = :ws AND entity_type = 'contact' "
            "AND hubspot_id = ANY(CAST(:ids AS text[]))"
        ),
        {"ws": workspace_id, "ids": sorted(set(hubspot_ids))},
    ).scalars()
    return list(rows)


def leads_of_companies(conn: sa.Connection, workspace_id: uuid.UUID, ids: Iterable[str]) -> list[str]:
    """The live leads pointing at these companies."""
    rows = conn.execute(
        sa.text(
            "SELECT id::text FROM leads WHERE workspace_id = :ws AND deleted_at IS NULL "
            "AND company_id = ANY(CAST(:ids AS uuid[]))"
        ),
        {"ws": workspace_id, "ids": sorted(set(ids))},
    ).scalars()
    return list(rows)


def companies_of_leads(
    conn: sa.Connection, workspace_id: uuid.UUID, lead_ids: Iterable[str]
) -> dict[str, str]:
    """lead id -> its company's id, for the live leads that have a live company."""
    rows = conn.execute(
        sa.text(
            "SELECT l.id::text, l.company_id::text FROM leads l JOIN companies c ON c.id = l.company_id "
            "WHERE l.workspace_id = :ws AND l.deleted_at IS NULL AND c.deleted_at IS NULL "
            "AND l.id = ANY(CAST(:ids AS uuid[]))"
        ),
        {"ws": workspace_id, "ids": sorted(set(lead_ids))},
    ).all()
    return {str(i): str(c) for i, c in rows}


def pending_companies(conn: sa.Connection, workspace_id: uuid.UUID) -> list[str]:
    """Companies made from leads that are not in HubSpot yet (pair status `pending`)."""
    rows = conn.execute(
        sa.text(
            "SELECT entity_id::text FROM hubspot_sync_status WHERE workspace_id = :ws "
            f"AND entity_type = '{ENTITY}' AND status = 'pending'"
        ),
        {"ws": workspace_id},
    ).scalars()
    return list(rows)
