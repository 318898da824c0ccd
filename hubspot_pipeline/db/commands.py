"""`hubspot-pipeline migrate` and `hubspot-pipeline db ...`."""

from __future__ import annotations

import click

from hubspot_pipeline.settings import SettingsError, get_settings


def _settings_or_exit():
    try:
        return get_settings()
    except SettingsError as error:
        raise click.ClickException(str(error)) from None


@click.command()
@click.option("--revision", default="head", show_default=True, help="Alembic revision to upgrade to.")
def migrate(revision: str) -> None:
    """Create or upgrade the schema (starts the embedded PostgreSQL when DATABASE_URL is unset)."""
    _settings_or_exit()
    from hubspot_pipeline.db import migrate as migrations

    migrations.upgrade(revision)
    click.echo(f"schema at revision {migrations.current_revision()}")


@click.group()
def db() -> None:
    """The embedded PostgreSQL."""


@db.command()
def url() -> None:
    """Print the database URL (starting the embedded server if needed)."""
    _settings_or_exit()
    from hubspot_pipeline.db.connection import database_url

    click.echo(database_url())


@db.command()
def stop() -> None:
    """Stop the embedded PostgreSQL server."""
    settings = _settings_or_exit()
    from hubspot_pipeline.db.embedded import stop_embedded

    click.echo("stopped" if stop_embedded(settings.data_dir) else "not running")
