"""Alembic environment: runs against the connection handed in by db.migrate (or the configured database)."""

from alembic import context

from hubspot_pipeline.db.tables import metadata

VERSION_TABLE = "hubspot_pipeline_alembic_version"  # Dagster's own storage uses `alembic_version`


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is None:
        from hubspot_pipeline.db.connection import get_engine

        with get_engine().connect() as connection:
            _run(connection)
    else:
        _run(connection)


def _run(connection) -> None:
    context.configure(connection=connection, target_metadata=metadata, version_table=VERSION_TABLE)
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
