"""The local Dagster home (`dev`, `demo`): the personal data that older versions pickled there goes."""

from __future__ import annotations

from pathlib import Path

from hubspot_pipeline.dagster_home import prepare_dagster_home
from hubspot_pipeline.settings import Settings


def test_stage_outputs_pickled_by_older_versions_are_removed(
    database_url: str, tmp_path: Path, monkeypatch
) -> None:
    for name in ("DAGSTER_HOME", "DAGSTER_PG_URL", "DAGSTER_COMPUTE_LOGS_DIR"):  # restored after the test
        monkeypatch.setenv(name, "unset-by-the-test")
    pickled = tmp_path / "dagster" / "storage" / "contacts" / "changed_leads" / "some-workspace"
    pickled.parent.mkdir(parents=True)
    pickled.write_bytes(b"pickle with ada@example.com")
    compute_log = tmp_path / "dagster" / "storage" / "run-id" / "compute_logs" / "step.out"
    compute_log.parent.mkdir(parents=True)
    compute_log.write_text("")
    home = prepare_dagster_home(Settings(HUBSPOT_PIPELINE_DATA_DIR=tmp_path))
    assert not (home / "storage" / "contacts").exists()
    assert compute_log.exists() and (home / "dagster.yaml").exists()
