"""The Dagster instance of local runs (`dev`, `demo`): its home under the data folder, its storage in the
project database's `dagster` schema."""

from __future__ import annotations

import shutil
from pathlib import Path

import psycopg

from hubspot_pipeline.db.connection import DAGSTER_SCHEMA, dagster_storage_url, database_url
from hubspot_pipeline.settings import PROJECT_ROOT, Settings, export_settings


def prepare_dagster_home(settings: Settings) -> Path:
    """Create $DAGSTER_HOME with the project's dagster.yaml and point Dagster's storage at our database.

    Sets DAGSTER_HOME, DAGSTER_PG_URL and DAGSTER_COMPUTE_LOGS_DIR in this process's environment, so child
    processes inherit them.
    """
    url = database_url()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA IF NOT EXISTS {DAGSTER_SCHEMA}")
    home = (settings.data_dir / "dagster").resolve()
    home.mkdir(parents=True, exist_ok=True)
    # Dagster's filesystem IO manager once pickled every stage's output here (changed leads, the plan:
    # emails and names). Stage results now stay in a run's memory and nothing reads these files.
    shutil.rmtree(home / "storage" / "contacts", ignore_errors=True)
    shutil.copyfile(PROJECT_ROOT / "dagster.yaml", home / "dagster.yaml")
    export_settings(
        DAGSTER_HOME=str(home),
        DAGSTER_PG_URL=dagster_storage_url(url),
        # Where dagster.yaml's compute logs go: Dagster's former default, so earlier runs' logs still show.
        DAGSTER_COMPUTE_LOGS_DIR=str(home / "storage"),
    )
    return home
