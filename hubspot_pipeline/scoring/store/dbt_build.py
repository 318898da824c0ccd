"""Running the dbt project (`dbt/` at the top of the repository) on the project's database.

dbt's profile (`dbt/profiles.yml`) reads its connection from variables that `dbt_env` fills from settings.py
(DATABASE_URL, or the embedded PostgreSQL, started if needed), so the embedded database needs no setup and
the password reaches dbt only as a DBT_ENV_SECRET_ variable, which dbt never logs. Used by tests, the demo
and the benchmarks; the Dagster code location `engagement` runs the same project through dagster-dbt with
the same variables.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

from psycopg.conninfo import conninfo_to_dict

from hubspot_pipeline.scoring.weights import DEFAULT_HALF_LIFE_DAYS, DEFAULT_WEIGHTS
from hubspot_pipeline.settings import PROJECT_ROOT

DBT_PROJECT_DIR = PROJECT_ROOT / "dbt"
DBT_SCHEMA = "engagement"
SCORES_MODEL = "lead_engagement_scores"


class DbtBuildError(RuntimeError):
    """dbt failed: the message carries dbt's own summary of what failed."""


def dbt_env(database_url: str | None = None, schema: str = DBT_SCHEMA) -> dict[str, str]:
    """The variables dbt/profiles.yml reads, for the project's database (or `database_url`)."""
    from hubspot_pipeline.db.connection import database_url as project_database_url

    params = conninfo_to_dict(database_url or project_database_url())
    return {
        "HP_DBT_HOST": str(params.get("host") or "localhost"),
        "HP_DBT_PORT": str(params.get("port") or 5432),
        "HP_DBT_USER": str(params.get("user") or "postgres"),
        "HP_DBT_DBNAME": str(params.get("dbname") or "hubspot_pipeline"),
        "HP_DBT_SCHEMA": schema,
        "DBT_ENV_SECRET_HP_DBT_PASSWORD": str(params.get("password") or ""),
        "DBT_PROFILES_DIR": str(DBT_PROJECT_DIR),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }


def dbt_vars(workspace_id: uuid.UUID | None = None, reference_date: dt.date | None = None) -> dict[str, Any]:
    """The project's vars: the scope (one workspace, or all), the reference day, the scoring defaults."""
    return {
        "workspace_id": str(workspace_id) if workspace_id else None,
        "reference_date": reference_date.isoformat() if reference_date else None,
        "default_weights": dict(DEFAULT_WEIGHTS),
        "default_half_life_days": DEFAULT_HALF_LIFE_DAYS,
    }


def dbt_executable() -> str:
    return str(Path(sys.executable).with_name("dbt"))


def run_dbt(
    command: list[str],
    *,
    database_url: str | None = None,
    workspace_id: uuid.UUID | None = None,
    reference_date: dt.date | None = None,
    target_path: Path | None = None,
) -> str:
    """Run `dbt <command>` on the project; returns dbt's output, raises DbtBuildError with it on failure.
    `target_path` keeps this invocation's artifacts apart (parallel test sessions, Dagster runs)."""
    args = [dbt_executable(), "--no-use-colors", *command, "--project-dir", str(DBT_PROJECT_DIR)]
    args += ["--vars", json.dumps(dbt_vars(workspace_id, reference_date))]
    if target_path is not None:
        args += ["--target-path", str(target_path)]
    env = {**os.environ, **dbt_env(database_url)}
    if target_path is not None:
        env["DBT_LOG_PATH"] = str(target_path / "logs")
    done = subprocess.run(args, env=env, cwd=DBT_PROJECT_DIR, capture_output=True, text=True, check=False)
    output = done.stdout + done.stderr
    if done.returncode != 0:
        failures = [line for line in output.splitlines() if "ERROR" in line or "FAIL" in line]
        raise DbtBuildError(
            f"dbt {' '.join(command)} failed (exit {done.returncode}):\n"
            + "\n".join(failures[-30:] or [output[-3000:]])
        )
    return output


# The staging views' tests scan every source row of the scope: left out of scheduled and incremental builds.
WITHOUT_SOURCE_SCANS = ("--exclude", "tag:source_scan")


def build(
    *,
    database_url: str | None = None,
    workspace_id: uuid.UUID | None = None,
    reference_date: dt.date | None = None,
    full_refresh: bool = False,
    target_path: Path | None = None,
    source_checks: bool = False,
) -> str:
    """`dbt build`: every model and its tests, incremental unless `full_refresh`. The staging views' tests,
    which read every source row of the scope, run only with `source_checks` (tests/dbt does)."""
    command = ["build"] + (["--full-refresh"] if full_refresh else [])
    if not source_checks:
        command += list(WITHOUT_SOURCE_SCANS)
    return run_dbt(
        command,
        database_url=database_url,
        workspace_id=workspace_id,
        reference_date=reference_date,
        target_path=target_path,
    )
