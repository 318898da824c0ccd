"""What the privacy tests look at: the whole database as text, by pg_dump (the embedded server's own, which
the `pgserver` package ships, or the system's, whichever is recent enough: pg_dump refuses a newer server),
and a workspace's erasure rows and their audit entries."""

from __future__ import annotations

import re
import shutil
import subprocess
import uuid
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from hubspot_pipeline.db.tables import audit_log, privacy_erasures


def _candidates() -> list[str]:
    found = []
    try:
        import pgserver

        bundled = Path(pgserver.__file__).parent / "pginstall" / "bin" / "pg_dump"
        if bundled.exists():
            found.append(str(bundled))
    except ImportError:
        pass
    system = shutil.which("pg_dump")
    if system:
        found.append(system)
    return found


def _major(binary: str) -> int:
    out = subprocess.run([binary, "--version"], capture_output=True, text=True, check=True).stdout
    match = re.search(r"(\d+)\.", out)
    return int(match.group(1)) if match else 0


def pg_dump(engine: sa.Engine, database_url: str) -> str:
    with engine.connect() as conn:
        server = int(conn.execute(sa.text("SHOW server_version_num")).scalar_one()) // 10000
    usable = [b for b in _candidates() if _major(b) >= server]
    assert usable, f"no pg_dump of version {server} or newer: install postgresql-client-{server}"
    result = subprocess.run(
        [usable[0], "--no-owner", "--no-privileges", f"--dbname={database_url}"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "CREATE TABLE public.leads" in result.stdout  # a real dump, not an empty one
    return result.stdout


def erasures(engine: sa.Engine, workspace_id: uuid.UUID) -> tuple[list[Any], list[dict[str, Any]]]:
    """The workspace's `privacy_erasures` rows, and the details of its `privacy.erase` audit entries in order."""
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(privacy_erasures).where(privacy_erasures.c.workspace_id == workspace_id)
        ).all()
        audited = conn.execute(
            sa.select(audit_log.c.details)
            .where(audit_log.c.workspace_id == workspace_id, audit_log.c.action == "privacy.erase")
            .order_by(audit_log.c.id)
        ).scalars()
        return list(rows), list(audited)
