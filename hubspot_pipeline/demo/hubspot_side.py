"""The HubSpot side of the demo: each demo workspace connected to its own sandbox portal through the real
OAuth flow, and each portal seeded with contacts, some of them the same people as the workspace's leads
with different values, some known to HubSpot only."""

from __future__ import annotations

import dataclasses
import uuid
from urllib.parse import parse_qs, urlsplit

import httpx
import sqlalchemy as sa

from hubspot_pipeline.db.tables import leads
from hubspot_pipeline.hubspot import (
    HubSpotClient,
    OAuthApp,
    issue_state,
)

# Of each workspace's leads, every OVERLAP_EVERY-th is already a HubSpot contact; of those, every
# DIFFER_EVERY-th has a job title and phone edited in HubSpot since (a conflict for the first sync).
OVERLAP_EVERY = 3
DIFFER_EVERY = 2
HUBSPOT_ONLY = 20
# Of each workspace's company domains, every COMPANY_EVERY-th is already a HubSpot company, named there by a
# person (HubSpot's name is newer than the one ColdCopy derives from its leads: the first sync pulls it).
COMPANY_EVERY = 4


@dataclasses.dataclass
class SeededPortal:
    hub_id: int
    matching: int = 0
    differing: int = 0
    hubspot_only: int = 0
    companies: int = 0


def connect_workspace(engine: sa.Engine, app: OAuthApp, workspace_id: uuid.UUID, hub_id: int) -> str:
    """Approve the app for `hub_id` as a user would, then finish as the API's OAuth callback does."""
    from hubspot_pipeline.api.routes.oauth import complete_connection

    state = issue_state(engine, workspace_id)
    # /oauth/{portalId}/authorize pins the install to one account, as HubSpot allows.
    url = app.authorize_url(state).replace("/oauth/authorize", f"/oauth/{hub_id}/authorize", 1)
    redirect = httpx.get(url, follow_redirects=False, timeout=30)
    query = parse_qs(urlsplit(redirect.headers["location"]).query)
    if "code" not in query:
        raise RuntimeError(f"the sandbox refused the authorization: {query.get('error_description')}")
    return str(complete_connection(engine, query["code"][0], query["state"][0]).hub_id)


def seed_portal(
    engine: sa.Engine, client: HubSpotClient, workspace_id: uuid.UUID, hub_id: int
) -> SeededPortal:
    seeded = SeededPortal(hub_id)
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(leads.c.email, leads.c.first_name, leads.c.last_name, leads.c.company, leads.c.title)
            .where(leads.c.workspace_id == workspace_id)
            .order_by(leads.c.email)
        ).all()
    inputs = []
    for index, row in enumerate(rows[::OVERLAP_EVERY]):
        properties = {
            "email": row.email,
            "firstname": row.first_name or "",
            "lastname": row.last_name or "",
            "company": row.company or "",
            "jobtitle": row.title or "",
        }
        if index % DIFFER_EVERY == 0:
            properties["jobtitle"] = f"Head of {['Sales', 'Growth', 'Partnerships'][index % 3]}"
            properties["phone"] = f"+44 20 7946 {index:04d}"
            seeded.differing += 1
        seeded.matching += 1
        inputs.append(properties)
    for n in range(HUBSPOT_ONLY):
        email = f"inbound{n}.{hub_id}@hubspot-only.example.com"
        properties = {
            "email": email,
            "firstname": f"Inbound{n}",
            "lastname": "Prospect",
            "company": "Web Signup",
        }
        inputs.append(properties)
        seeded.hubspot_only += 1
    result = client.batch_upsert("contacts", inputs, id_property="email")
    if result.errors:
        raise RuntimeError(f"seeding HubSpot failed for {len(result.errors)} contacts: {result.errors[0]}")
    seeded.companies = _seed_companies(engine, client, workspace_id)
    return seeded


def _seed_companies(engine: sa.Engine, client: HubSpotClient, workspace_id: uuid.UUID) -> int:
    """HubSpot companies for every COMPANY_EVERY-th domain of the workspace's leads, with their own name."""
    from hubspot_pipeline.sync.core.companies import domain_of

    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(leads.c.email, leads.c.website).where(leads.c.workspace_id == workspace_id)
        ).all()
    domains = sorted({domain_of(r.website or "", r.email) for r in rows} - {""})[::COMPANY_EVERY]
    inputs = [{"domain": d, "name": f"{d.split('.')[0].title()} (named in HubSpot)"} for d in domains]
    if inputs:
        created = client.batch_create("companies", inputs, key_property="domain")
        if created.errors:
            raise RuntimeError(
                f"seeding HubSpot failed for {len(created.errors)} companies: {created.errors[0]}"
            )
    return len(inputs)
