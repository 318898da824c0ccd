"""The dbt project for dagster-dbt: its manifest, made by `dbt parse` when missing or older than the project's
files (a fresh checkout, an edited model), so the location loads with no manual step."""

from __future__ import annotations

from pathlib import Path

from hubspot_pipeline.scoring.store.dbt_build import DBT_PROJECT_DIR, run_dbt

TARGET = DBT_PROJECT_DIR / "target"
MANIFEST = TARGET / "manifest.json"


def _newest_source() -> float:
    files = [DBT_PROJECT_DIR / "dbt_project.yml", DBT_PROJECT_DIR / "profiles.yml"]
    for folder in ("models", "macros", "tests"):
        files += list((DBT_PROJECT_DIR / folder).rglob("*"))
    return max(f.stat().st_mtime for f in files if f.is_file())


def manifest_path() -> Path:
    """dbt's manifest of the project, parsed first if it is missing or stale. Parsing connects to nothing."""
    if not MANIFEST.exists() or MANIFEST.stat().st_mtime < _newest_source():
        run_dbt(["parse"], target_path=TARGET, database_url="postgresql://parse@localhost/parse")
    return MANIFEST
