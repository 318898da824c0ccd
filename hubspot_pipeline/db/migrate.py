"""Apply or roll back the schema with Alembic (`hubspot-pipeline migrate`)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Engine

from hubspot_pipeline.db.connection import get_engine

MIGRATIONS = Path(__file__).parent / "migrations"


def _config(engine: Engine):
    config = Config(str(MIGRATIONS / "alembic.ini"))
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def upgrade(revision: str = "head", engine: Engine | None = None) -> None:
    engine = engine or get_engine()
    config = _config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


def downgrade(revision: str = "base", engine: Engine | None = None) -> None:
    engine = engine or get_engine()
    config = _config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)


def current_revision(engine: Engine | None = None) -> str | None:
    from alembic.runtime.migration import MigrationContext

    engine = engine or get_engine()
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"version_table": "hubspot_pipeline_alembic_version"}
        )
        return context.get_current_revision()
