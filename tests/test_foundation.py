"""Settings errors, the Dagster code location, the CLI and the demo-data generator."""

from __future__ import annotations

import subprocess
import sys

import pytest
import sqlalchemy as sa
from fresh_process import python_output

from hubspot_pipeline.settings import Settings, SettingsError, load_settings


def test_settings_errors_name_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "mysql://root@localhost/app")
    monkeypatch.setenv("HUBSPOT_API_VERSION", "v9")
    with pytest.raises(SettingsError) as error:
        load_settings()
    message = str(error.value)
    assert "DATABASE_URL: Value error, must be a PostgreSQL URL" in message
    assert "HUBSPOT_API_VERSION" in message


def test_a_bad_encryption_key_is_named_but_not_printed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TOKEN_ENCRYPTION_KEYS", "not-a-real-key-but-secret")
    with pytest.raises(SettingsError) as error:
        load_settings()
    assert "TOKEN_ENCRYPTION_KEYS" in str(error.value)
    assert "not-a-real-key-but-secret" not in str(error.value)


def test_defaults_need_no_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DATABASE_URL", "HUBSPOT_API_BASE_URL", "TOKEN_ENCRYPTION_KEYS"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings(_env_file=None)
    assert settings.database_url is None  # embedded PostgreSQL
    assert settings.hubspot_api_version == "v3"


def test_the_cli_reports_bad_settings_and_exits_non_zero() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "hubspot_pipeline.cli", "migrate"],
        env={"PATH": "/usr/bin:/bin", "DATABASE_URL": "sqlite:///x.db"},
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0
    assert "DATABASE_URL" in result.stderr


def test_the_code_location_loads() -> None:
    # In a fresh interpreter, as a code server loads it: Dagster keeps definition-loading state per process.
    script = (
        "import dagster as dg; from hubspot_pipeline.definitions import defs; "
        "d = defs(); dg.Definitions.validate_loadable(d); "
        "print(sorted(j.name for j in d.jobs), sorted(s.name for s in d.sensors), sorted(s.name for s in d.schedules))"
    )
    output = python_output(script)
    assert "contacts_sync_job" in output and "contacts_reconcile_job" in output
    assert "webhook_queue_sensor" in output


def test_demo_data_is_deterministic_from_the_seed() -> None:
    from hubspot_pipeline.demo.generate import lead_rows

    workspaces = ["00000000-0000-4000-8000-000000000001", "00000000-0000-4000-8000-000000000002"]
    first = list(lead_rows(11, workspaces, 50, 0, 50))
    assert first == list(lead_rows(11, workspaces, 50, 0, 50))
    assert first != list(lead_rows(12, workspaces, 50, 0, 50))
    assert len({row[2] for row in first}) == 50  # emails unique


def test_demo_ids_are_version_4_uuids_as_uuid_formats_them() -> None:
    # The generator formats its ids from random bytes itself (uuid.UUID per id was most of its time): the
    # same text as uuid.UUID's, version 4, RFC 4122 variant.
    import uuid

    import numpy as np

    from hubspot_pipeline.demo.generate import _uuids

    ids = _uuids(np.random.default_rng(5), 500)
    parsed = [uuid.UUID(text) for text in ids]
    assert ids == [str(u) for u in parsed]
    assert {u.version for u in parsed} == {4} and {u.variant for u in parsed} == {uuid.RFC_4122}
    assert len(set(ids)) == 500


def test_demo_data_loads_through_copy_without_touching_the_outbox(
    engine: sa.Engine, database_url: str
) -> None:
    from hubspot_pipeline.db.tables import email_events, lead_changes, leads
    from hubspot_pipeline.demo.generate import DemoSize, load

    report = load(database_url, DemoSize(workspaces=2, leads=120), seed=3)
    assert report.leads == 120 and report.workspaces == 2
    with engine.connect() as conn:
        ids = report.workspace_ids
        assert conn.scalar(sa.select(sa.func.count()).where(leads.c.workspace_id.in_(ids))) == 120
        assert (
            conn.scalar(sa.select(sa.func.count()).where(email_events.c.workspace_id.in_(ids)))
            == report.email_events
        )
        assert report.email_events >= 240  # every lead was at least sent and delivered (or bounced)
        assert conn.scalar(sa.select(sa.func.count()).where(lead_changes.c.workspace_id.in_(ids))) == 0
