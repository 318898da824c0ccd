"""`hubspot-pipeline demo-data` (load demo rows) and `hubspot-pipeline demo` (the end-to-end demo)."""

from __future__ import annotations

import time

import click
import sqlalchemy as sa

from hubspot_pipeline.db.commands import _settings_or_exit

DEMO_SLUG_PREFIX = "demo-"


def _progress(done: int, total: int) -> None:
    click.echo(f"  loaded {done:,}/{total:,} leads", err=True)


def remove_demo_workspaces(engine: sa.Engine) -> int:
    """Delete earlier demo workspaces and everything hanging off them (the seed tables do not cascade)."""
    from hubspot_pipeline.db.tables import metadata, workspaces

    with engine.begin() as conn:
        ids = [
            row.id
            for row in conn.execute(
                sa.select(workspaces.c.id).where(workspaces.c.slug.startswith(DEMO_SLUG_PREFIX))
            )
        ]
        if not ids:
            return 0
        # Children before parents: the seed's foreign keys have no ON DELETE CASCADE.
        for table in reversed(metadata.sorted_tables):
            if table.name != "workspaces" and "workspace_id" in table.c:
                conn.execute(sa.delete(table).where(table.c.workspace_id.in_(ids)))
        conn.execute(sa.delete(workspaces).where(workspaces.c.id.in_(ids)))
    return len(ids)


def load_demo_data(leads: int, workspaces: int, seed: int, events: bool = True):
    from hubspot_pipeline.db import migrate
    from hubspot_pipeline.db.connection import database_url, get_engine
    from hubspot_pipeline.demo.generate import DemoSize, load

    migrate.upgrade()
    removed = remove_demo_workspaces(get_engine())
    if removed:
        click.echo(f"removed {removed} earlier demo workspace(s)")
    show = _progress if leads >= 100_000 else None
    return load(
        database_url(), DemoSize(workspaces=workspaces, leads=leads, events=events), seed=seed, progress=show
    )


@click.command("demo-data")
@click.option("--leads", default=300, show_default=True, help="Number of leads, over all workspaces.")
@click.option("--workspaces", default=3, show_default=True)
@click.option("--seed", default=7, show_default=True, help="Same seed, same rows.")
@click.option("--no-events", is_flag=True, help="Leads only, no email events.")
def demo_data(leads: int, workspaces: int, seed: int, no_events: bool) -> None:
    """Replace the demo workspaces with freshly generated ones (deterministic from --seed)."""
    _settings_or_exit()
    started = time.perf_counter()
    report = load_demo_data(leads, workspaces, seed, events=not no_events)
    click.echo(
        f"loaded {report.workspaces} workspaces, {report.campaigns} campaigns, {report.leads:,} leads and "
        f"{report.email_events:,} email events in {time.perf_counter() - started:.1f} s"
    )


@click.command()
@click.option("--leads", default=300, show_default=True)
@click.option("--workspaces", default=3, show_default=True)
@click.option("--seed", default=7, show_default=True)
def demo(leads: int, workspaces: int, seed: int) -> None:
    """The end-to-end demo on the embedded defaults: what each stage did, per workspace. Dagster's run logs go
    to a file in the data folder (`--verbose` prints them too)."""
    _settings_or_exit()
    from hubspot_pipeline.db.connection import database_url

    click.echo(f"database: {'DATABASE_URL' if _settings_or_exit().database_url else 'embedded PostgreSQL'}")
    database_url()
    started = time.perf_counter()
    report = load_demo_data(leads, workspaces, seed)
    click.echo(
        f"demo data: {report.workspaces} workspaces, {report.campaigns} campaigns, {report.leads:,} leads, "
        f"{report.email_events:,} email events ({time.perf_counter() - started:.1f} s)"
    )
    import uuid

    from hubspot_pipeline.cli import verbose
    from hubspot_pipeline.db.connection import get_engine
    from hubspot_pipeline.demo.run import run_demo

    run_demo(get_engine(), [uuid.UUID(w) for w in report.workspace_ids], click.echo, verbose=verbose())
    click.echo(
        f"\ndemo finished in {time.perf_counter() - started:.1f} s; `make dev` opens the Dagster UI on these runs"
    )
