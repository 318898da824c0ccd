"""Migration 0013 on a database with leads and company pairs made before ColdCopy kept companies: a company
per domain of the live leads (named by the `company` most of them give, custom fields the company mappings
read likewise), every such lead pointed at it, free-mail and deleted leads left without one, and the ids the
company pairs were kept under unchanged, so existing pairs carry over. A database of its own, migrated to
0012, given rows, then upgraded."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from hubspot_pipeline.db import migrate
from hubspot_pipeline.db.connection import get_engine
from hubspot_pipeline.db.embedded import create_database, drop_database
from hubspot_pipeline.sync.core.companies import company_id
from tests.databases import on_database


@pytest.fixture
def old_database(database_url: str) -> Iterator[sa.Engine]:
    admin_url = on_database(database_url, "postgres")
    name = f"hp_companies_{uuid.uuid4().hex[:8]}"
    create_database(admin_url, name)
    engine = get_engine(on_database(database_url, name))
    try:
        migrate.upgrade("0012", engine=engine)
        yield engine
    finally:
        engine.dispose()
        drop_database(admin_url, name)


def test_companies_are_backfilled_from_the_leads_domains_and_the_leads_point_at_them(
    old_database: sa.Engine,
) -> None:
    with old_database.begin() as conn:
        ws = conn.execute(
            sa.text("INSERT INTO workspaces (name, slug) VALUES ('Old', 'old') RETURNING id")
        ).scalar_one()
        conn.execute(
            sa.text(
                "INSERT INTO hubspot_field_mappings (workspace_id, coldcopy_field, hubspot_property, direction, "
                "object_type) VALUES (:ws, 'custom_fields.industry', 'industry', 'to_hubspot', 'company')"
            ),
            {"ws": ws},
        )
        for email, website, company, custom, deleted in [
            ("a@acme.com", None, "Acme", '{"industry": "Tools"}', False),
            ("b@acme.com", "https://www.acme.com", "Acme Corp", '{"industry": "Tools"}', False),
            ("c@acme.com", None, "Acme Corp", "{}", False),
            ("solo@gmail.com", None, "Solo", "{}", False),
            ("gone@initech.io", None, "Initech", "{}", True),
        ]:
            conn.execute(
                sa.text(
                    "INSERT INTO leads (workspace_id, email, website, company, custom_fields, deleted_at) VALUES "
                    "(:ws, :email, :website, :company, CAST(:custom AS jsonb), CASE WHEN :deleted THEN now() END)"
                ),
                {
                    "ws": ws,
                    "email": email,
                    "website": website,
                    "company": company,
                    "custom": custom,
                    "deleted": deleted,
                },
            )
    migrate.upgrade(engine=old_database)
    with old_database.connect() as conn:
        rows = conn.execute(sa.text("SELECT id, domain, name, custom_fields FROM companies")).all()
        leads = dict(conn.execute(sa.text("SELECT email, company_id FROM leads")).all())
        outbox = conn.execute(sa.text("SELECT count(*) FROM company_changes")).scalar_one()
    assert [tuple(r) for r in rows] == [
        (company_id(ws, "acme.com"), "acme.com", "Acme Corp", {"industry": "Tools"})
    ]
    assert leads == {
        "a@acme.com": company_id(ws, "acme.com"),
        "b@acme.com": company_id(ws, "acme.com"),
        "c@acme.com": company_id(ws, "acme.com"),
        "solo@gmail.com": None,
        "gone@initech.io": None,
    }
    assert outbox == 0  # the backfill is not a change for the sync to push again
