"""`hubspot-pipeline engagement build|top`: the engagement scoring from the shell, without Dagster (what one
run of `engagement_job` does, for one workspace or all): decide pending reply intents, `dbt build`, publish the
changed scores; and the most engaged leads."""

from __future__ import annotations

import datetime as dt

import click
import sqlalchemy as sa


@click.group()
def engagement() -> None:
    """Engagement scores and reply intents."""


def _workspace_id(engine: sa.Engine, slug: str | None):  # type: ignore[no-untyped-def]
    if slug is None:
        return None
    from hubspot_pipeline.sync.store.workspaces import workspace_by_slug

    with engine.connect() as conn:
        workspace = workspace_by_slug(conn, slug)
    if workspace is None:
        raise click.ClickException(f"No workspace has the slug {slug!r}: see `hubspot-pipeline sync --help`.")
    return workspace.id


@engagement.command("build")
@click.option("--workspace", "slug", default=None, help="A workspace's slug (default: every workspace).")
@click.option("--full-refresh", is_flag=True, help="Rebuild the incremental models from scratch.")
@click.option("--reference-date", type=click.DateTime(["%Y-%m-%d"]), help="Score as of this UTC day.")
def build(slug: str | None, full_refresh: bool, reference_date: dt.datetime | None) -> None:
    """Decide pending reply intents, dbt build (models and tests), publish the changed scores."""
    from hubspot_pipeline.db.connection import get_engine
    from hubspot_pipeline.scoring.store import dbt_build
    from hubspot_pipeline.scoring.store.publish import publish
    from hubspot_pipeline.scoring.store.replies import decide_all_pending_intents

    engine = get_engine()
    workspace_id = _workspace_id(engine, slug)
    decided = decide_all_pending_intents(engine, workspace_id=workspace_id)
    dbt_build.build(
        workspace_id=workspace_id,
        full_refresh=full_refresh,
        reference_date=reference_date.date() if reference_date else None,
    )
    with engine.begin() as conn:
        done = publish(conn, workspace_id)
    click.echo(
        f"intents decided: {decided}; dbt build passed; scores published: {done.changed} changed, "
        f"{done.score_changes} score changes, {done.crossings} threshold crossings"
    )


@engagement.command("top")
@click.option("--workspace", "slug", default=None, help="A workspace's slug (default: every workspace).")
@click.option("--limit", default=10, show_default=True)
def top(slug: str | None, limit: int) -> None:
    """The most engaged leads: score, last reply's intent, 30-day counts, last engaged time."""
    from hubspot_pipeline.db.connection import get_engine
    from hubspot_pipeline.scoring.store.leaders import top_engaged

    engine = get_engine()
    for row in top_engaged(engine, _workspace_id(engine, slug), limit):
        click.echo(row)
