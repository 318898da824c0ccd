"""After a sync with changes both ways, or an activity batch, neither Dagster's storage folder (where its
default IO manager would pickle outputs, and where compute logs go) nor its tables in the `dagster` schema hold
a lead's email (nor, for activity, a subject or a body): stage results stay in memory, and metadata names
records by id. Runs are materialized as the daemon runs them, with Dagster's default filesystem IO manager, on
an instance stored in PostgreSQL like the project's."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import psycopg
import sqlalchemy as sa

from hubspot_pipeline.db.connection import DAGSTER_SCHEMA, dagster_storage_url, libpq_url
from hubspot_pipeline.db.tables import leads
from hubspot_pipeline.defs.contacts.assets import contacts_sync
from hubspot_pipeline.hubspot import HubSpotClient, PrivateAppToken, UnlimitedRateLimiter

from .conftest import add_leads


def _dagster_rows_mentioning(database_url: str, needles: list[str]) -> list[str]:
    found = []
    with psycopg.connect(libpq_url(database_url)) as conn:
        tables = conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s", (DAGSTER_SCHEMA,)
        ).fetchall()
        for (table,) in tables:
            rows = conn.execute(f'SELECT CAST(t AS text) FROM {DAGSTER_SCHEMA}."{table}" AS t').fetchall()
            found += [f"{table}: {needle}" for (row,) in rows for needle in needles if needle in row]
    return found


def _files_mentioning(folder: Path, needles: list[str]) -> list[str]:
    found = []
    for path in folder.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            found += [f"{path}: {n}" for n in needles if n.encode() in data]
    return found


def test_no_lead_email_reaches_dagster_storage_or_its_event_log(
    database_url, engine, workspace_id, slug, resources, hubspot_sandbox, tmp_path
):
    emails = add_leads(engine, workspace_id, 8, prefix="private")
    # HubSpot's side changes too: a contact only HubSpot knows becomes a lead (a pull).
    with HubSpotClient(
        hubspot_sandbox.base_url,
        auth=PrivateAppToken(hubspot_sandbox.private_app_token),
        limiter=UnlimitedRateLimiter(),
    ) as client:
        client.batch_upsert(
            "contacts",
            [{"email": "hubspot-only-7f3a@example.com", "firstname": "Hidden"}],
            id_property="email",
        )
    with psycopg.connect(libpq_url(database_url), autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA IF NOT EXISTS {DAGSTER_SCHEMA}")
    storage = {"postgres": {"postgres_url": dagster_storage_url(libpq_url(database_url))}}
    with dg.instance_for_test(overrides={"storage": storage}, temp_dir=str(tmp_path)) as instance:
        instance.add_dynamic_partitions("workspace", [slug])
        result = dg.materialize([contacts_sync], partition_key=slug, instance=instance, resources=resources)
        assert result.success
        shown = {
            e.asset_key.path[-1]: e.materialization.metadata
            for e in result.get_asset_materialization_events()
        }
        assert shown["hashed_diffs"]["push_new"].value == 8 and shown["hashed_diffs"]["pull_new"].value == 1
    with engine.connect() as conn:
        all_emails = list(conn.scalars(sa.select(leads.c.email).where(leads.c.workspace_id == workspace_id)))
    assert set(emails) | {"hubspot-only-7f3a@example.com"} <= set(all_emails)
    assert any(path.is_file() for path in tmp_path.rglob("*"))  # compute logs, at least
    assert _files_mentioning(tmp_path, all_emails) == []
    assert _dagster_rows_mentioning(database_url, all_emails) == []
    # The search did look: the instance's storage folder exists and the event log holds this run.
    assert _dagster_rows_mentioning(database_url, [result.run_id])


def test_no_address_subject_or_body_of_an_email_reaches_dagster_storage(
    database_url, engine, workspace_id, slug, resources, hubspot_sandbox, tmp_path
):
    from datetime import UTC, datetime

    from hubspot_pipeline.db.tables import hubspot_event_templates
    from hubspot_pipeline.defs.activities.assets import activity_batches
    from hubspot_pipeline.defs.activities.partitions import activity_key
    from hubspot_pipeline.defs.activities.resources import ActivityBatchRun
    from tests.activities.builders import add_sequence, sync_contacts

    with engine.begin() as conn:  # this test's sandbox is a new HubSpot app
        conn.execute(sa.delete(hubspot_event_templates))
    secret_subject, today = "Quick question", datetime.now(UTC)
    add_sequence(engine, workspace_id, "private-activity-5c1e@example.com", today.replace(hour=0, minute=1))
    with HubSpotClient(
        hubspot_sandbox.base_url,
        auth=PrivateAppToken(hubspot_sandbox.private_app_token),
        limiter=UnlimitedRateLimiter(),
    ) as client:
        sync_contacts(engine, client, workspace_id)
    with psycopg.connect(libpq_url(database_url), autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA IF NOT EXISTS {DAGSTER_SCHEMA}")
    storage = {"postgres": {"postgres_url": dagster_storage_url(libpq_url(database_url))}}
    run_resource = ActivityBatchRun(settings=resources["sync_settings"])
    with dg.instance_for_test(overrides={"storage": storage}, temp_dir=str(tmp_path)) as instance:
        instance.add_dynamic_partitions("workspace", [slug])
        result = dg.materialize(
            [activity_batches],
            partition_key=activity_key(today.date().isoformat(), slug),
            instance=instance,
            resources={**resources, "activity_batch_run": run_resource},
        )
        assert result.success
        [shown] = result.get_asset_materialization_events()
        assert shown.materialization.metadata["notes"].value == 4  # a private app: timeline types as notes
    needles = ["private-activity-5c1e@example.com", secret_subject, "Worth a call", "sam@coldcopy-test"]
    assert _files_mentioning(tmp_path, needles) == []
    assert _dagster_rows_mentioning(database_url, needles) == []
    assert _dagster_rows_mentioning(database_url, [result.run_id])
