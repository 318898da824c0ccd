"""The keyed hash an erasure keeps (its secret: required with a real HubSpot app, derived for the sandbox's),
and `hubspot-pipeline privacy erase|purge` on PostgreSQL (a workspace without HubSpot: nothing is sent)."""

from __future__ import annotations

import json
import uuid

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from hubspot_pipeline.cli import main
from hubspot_pipeline.db.tables import audit_log, leads, privacy_erasures
from hubspot_pipeline.privacy.keys import email_key, hash_secret, lead_key
from hubspot_pipeline.settings import Settings, SettingsError
from tests.activities.builders import add_lead


def test_the_hash_is_keyed_case_blind_and_says_nothing_without_the_secret() -> None:
    assert email_key(b"k1", " Ada@Example.COM ") == email_key(b"k1", "ada@example.com")
    assert email_key(b"k1", "ada@example.com") != email_key(b"k2", "ada@example.com")
    assert "ada" not in email_key(b"k1", "ada@example.com")
    assert email_key(b"k1", "x") != lead_key(b"k1", "x")  # one key, separate domains


def test_a_real_hubspot_app_needs_its_own_secret_and_the_sandbox_derives_one(tmp_path) -> None:
    real = Settings(HUBSPOT_CLIENT_ID="real-app", HUBSPOT_PIPELINE_DATA_DIR=str(tmp_path))
    with pytest.raises(SettingsError, match="PRIVACY_HASH_SECRET"):
        hash_secret(real)
    given = Settings(
        HUBSPOT_CLIENT_ID="real-app", PRIVACY_HASH_SECRET="s" * 40, HUBSPOT_PIPELINE_DATA_DIR=str(tmp_path)
    )
    assert hash_secret(given) == b"s" * 40
    local = Settings(HUBSPOT_PIPELINE_DATA_DIR=str(tmp_path), STATE_SIGNING_SECRET="dev-signing-secret")
    assert hash_secret(local) == hash_secret(local) and hash_secret(local) != b"dev-signing-secret"


def test_the_command_erases_a_person_once_and_says_so_the_second_time(
    engine: sa.Engine, workspace_id: uuid.UUID
) -> None:
    email = f"cli.{uuid.uuid4().hex[:8]}@privacy-test.example.com"
    add_lead(engine, workspace_id, email)
    runner = CliRunner()
    first = runner.invoke(main, ["privacy", "erase", str(workspace_id), "--email", email.upper()])
    assert first.exit_code == 0, first.output
    assert (
        json.loads(first.stdout)["status"] == "erased"
        and json.loads(first.stdout)["hubspot"] == "not_connected"
    )
    second = runner.invoke(main, ["privacy", "erase", str(workspace_id), "--email", email])
    assert json.loads(second.stdout)["status"] == "already_erased"
    # ColdCopy stores the person again: a new request by email erases the new lead, on the same erasure row.
    lead_id = add_lead(engine, workspace_id, email)
    third = runner.invoke(main, ["privacy", "erase", str(workspace_id), "--lead-id", str(lead_id)])
    assert json.loads(third.stdout)["status"] == "erased"
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(privacy_erasures).where(privacy_erasures.c.workspace_id == workspace_id)
        ).all()
        left = conn.execute(
            sa.select(sa.func.count()).select_from(leads).where(leads.c.workspace_id == workspace_id)
        ).scalar_one()
        actions = conn.execute(
            sa.select(audit_log.c.actor, audit_log.c.details)
            .where(audit_log.c.workspace_id == workspace_id, audit_log.c.action == "privacy.erase")
            .order_by(audit_log.c.id)
        ).all()
    assert left == 0 and len(rows) == 1 and rows[0].requests == 3 and len(rows[0].lead_keys) == 2
    assert [(a.actor, a.details["status"]) for a in actions] == [
        ("cli", "erased"),
        ("cli", "already_erased"),
        ("cli", "erased"),
    ]
    assert email not in str(actions) and email not in str(rows)


def test_the_command_needs_one_way_to_name_the_person_and_an_unknown_one_is_an_error(
    workspace_id: uuid.UUID,
) -> None:
    runner = CliRunner()
    neither = runner.invoke(main, ["privacy", "erase", str(workspace_id)])
    assert neither.exit_code != 0 and "exactly one of --lead-id or --email" in neither.output
    unknown = runner.invoke(main, ["privacy", "erase", str(workspace_id), "--email", "nobody@example.com"])
    assert unknown.exit_code != 0 and "has erased none" in unknown.output


def test_purge_dry_run_prints_counts(database_url: str) -> None:
    result = CliRunner().invoke(main, ["privacy", "purge", "--dry-run"])
    assert result.exit_code == 0, result.output
    counts = json.loads(result.stdout)
    assert set(counts) == {"webhook_events", "lead_changes", "sync_conflicts", "email_messages", "audit_log"}
