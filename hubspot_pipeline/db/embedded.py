"""The embedded PostgreSQL used when `DATABASE_URL` is unset.

A real PostgreSQL server from the `pgserver` package, with its files in the project's data folder. It listens
on a Unix socket only. The first process that needs it starts it; later ones reuse it; it stops when the last
process that asked for it exits (or at once with `hubspot-pipeline db stop`). As root, pgserver runs the
server as a dedicated system user, since PostgreSQL refuses to run as root.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import warnings
from pathlib import Path

import psycopg

from hubspot_pipeline.settings import export_settings

DATABASE_NAME = "hubspot_pipeline"

# pgserver keeps its lock file under the user's runtime dir; containers often lack XDG_RUNTIME_DIR.
export_settings(XDG_RUNTIME_DIR=str(Path("/tmp") / f"runtime-{os.getuid()}"), keep_existing=True)
_servers: dict[Path, object] = {}


def _pgdata(data_dir: Path) -> Path:
    return (data_dir / "postgres").resolve()


def start_embedded(data_dir: Path, *, keep_running: bool = False) -> str:
    """Start (or attach to) the embedded server and return a libpq URL of the project database."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import pgserver

    pgdata = _pgdata(data_dir)
    pgdata.mkdir(parents=True, exist_ok=True)
    server = pgserver.get_server(pgdata, cleanup_mode=None if keep_running else "stop")
    _servers[pgdata] = server
    admin_url = server.get_uri("postgres")
    create_database(admin_url, DATABASE_NAME)
    return server.get_uri(DATABASE_NAME)


def stop_embedded(data_dir: Path) -> bool:
    """Stop the embedded server if it runs; True when a server was stopped."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from pgserver._commands import pg_ctl  # type: ignore[attr-defined]  # generated at import
    from pgserver.utils import PostmasterInfo

    pgdata = _pgdata(data_dir)
    info = PostmasterInfo.read_from_pgdata(pgdata) if pgdata.exists() else None
    if info is None or not info.is_running():
        return False
    user = "pgserver" if os.geteuid() == 0 else None
    try:
        pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pgdata, user=user)
    except subprocess.CalledProcessError:
        return False
    return True


def create_database(admin_url: str, name: str) -> None:
    """CREATE DATABASE unless it exists (CREATE DATABASE cannot run inside a transaction). Processes starting
    at once may both find it missing: the one that loses the race finds it made."""
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            with contextlib.suppress(psycopg.errors.DuplicateDatabase, psycopg.errors.UniqueViolation):
                conn.execute(f'CREATE DATABASE "{name}"')


def drop_database(admin_url: str, name: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
