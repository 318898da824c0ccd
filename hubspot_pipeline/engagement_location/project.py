"""The dbt project for dagster-dbt: its manifest, made by `dbt parse` when missing or older than the project's
files (a fresh checkout, an edited model), so the location loads with no manual step."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from hubspot_pipeline.scoring.store.dbt_build import DBT_PROJECT_DIR, run_dbt

TARGET = DBT_PROJECT_DIR / "target"


def _newest_source() -> float:
    files = [DBT_PROJECT_DIR / "dbt_project.yml", DBT_PROJECT_DIR / "profiles.yml"]
    for folder in ("models", "macros", "tests"):
        files += list((DBT_PROJECT_DIR / folder).rglob("*"))
    return max(f.stat().st_mtime for f in files if f.is_file())


def manifest_path(target: Path = TARGET) -> Path:
    """dbt's manifest of the project, parsed first if it is missing or stale. Parsing connects to nothing.
    Each parse has a folder of its own and its manifest is renamed into place, so processes loading the
    location at once never read a manifest another is still writing."""
    manifest = target / "manifest.json"
    if not manifest.exists() or manifest.stat().st_mtime < _newest_source():
        target.mkdir(parents=True, exist_ok=True)
        parse = Path(tempfile.mkdtemp(prefix=".parse-", dir=target))
        try:
            run_dbt(["parse"], target_path=parse, database_url="postgresql://parse@localhost/parse")
            os.replace(parse / "manifest.json", manifest)
        finally:
            shutil.rmtree(parse, ignore_errors=True)
    return manifest
