"""Which PostgreSQL to use, and engines for it.

`database_url()` returns `DATABASE_URL` when it is set and otherwise starts the embedded server. Both the
SQLAlchemy engine (psycopg 3) and Dagster's storage (dagster-postgres) use the same database; Dagster keeps
its tables in their own schema, `dagster`, so the two never collide.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from hubspot_pipeline.db import jsonb
from hubspot_pipeline.settings import export_settings, get_settings

DAGSTER_SCHEMA = "dagster"
# Writes the sync makes to `leads` set this session variable; the outbox trigger skips them (no echo).
WRITER_SETTING = "hubspot_pipeline.writer"
SYNC_WRITER = "hubspot_sync"
BULK_LOAD_WRITER = "bulk_load"


@functools.cache
def database_url() -> str:
    """libpq URL (postgresql://...) of the project database, starting the embedded server if needed."""
    settings = get_settings()
    if settings.database_url:
        return libpq_url(settings.database_url)
    from hubspot_pipeline.db.embedded import start_embedded

    url = start_embedded(settings.data_dir)
    # Child processes (Dagster runs, the API, sensors) attach to the same server without starting one.
    export_settings(DATABASE_URL=url)
    return url


def libpq_url(url: str) -> str:
    for prefix in ("postgresql+psycopg://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql://" + url[len(prefix) :]
    return url


def sqlalchemy_url(url: str | None = None) -> str:
    return "postgresql+psycopg://" + libpq_url(url or database_url())[len("postgresql://") :]


def dagster_storage_url(url: str | None = None) -> str:
    """The same database for Dagster, with its tables kept in the `dagster` schema."""
    base = libpq_url(url or database_url())
    separator = "&" if "?" in base else "?"
    return f"{base}{separator}options=-csearch_path%3D{DAGSTER_SCHEMA}"


@functools.cache
def _engine_for(url: str) -> Engine:
    return sa.create_engine(
        sqlalchemy_url(url),
        pool_pre_ping=True,
        pool_size=5,
        max_overflow=10,
        connect_args={"options": "-c timezone=UTC"},
        json_serializer=jsonb.dumps,  # the one encoding of every JSONB value (db/jsonb.py)
    )


def get_engine(url: str | None = None) -> Engine:
    return _engine_for(libpq_url(url or database_url()))


@contextmanager
def sync_writer(conn: Connection) -> Iterator[Connection]:
    """Mark writes on this connection's transaction as the sync's own, so the lead outbox ignores them."""
    conn.execute(
        sa.text("SELECT set_config(:name, :value, true)"), {"name": WRITER_SETTING, "value": SYNC_WRITER}
    )
    yield conn
