"""`hubspot-pipeline activities log WORKSPACE_ID`: log a workspace's pending email activity to HubSpot from the
shell, without Dagster (what one `activities/activity_batches` run does, for any date range), and print the
counts."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, time, timedelta

import click

from hubspot_pipeline.activities.core.events import EVENT_TYPES


def _day_start(value: date) -> datetime:
    return datetime.combine(value, time.min, tzinfo=UTC)


@click.group()
def activities() -> None:
    """Email activity in HubSpot."""


@activities.command("log")
@click.argument("workspace_id", type=click.UUID)
@click.option(
    "--since", type=click.DateTime(["%Y-%m-%d"]), help="First UTC day (default: every pending event)."
)
@click.option("--until", type=click.DateTime(["%Y-%m-%d"]), help="Last UTC day, included (default: today).")
@click.option(
    "--type",
    "event_types",
    multiple=True,
    type=click.Choice(EVENT_TYPES),
    help="Only these event types (of those the workspace logs); repeat for several.",
)
@click.option(
    "--hubspot-url", default=None, help="HubSpot API base URL (e.g. the sandbox's); default: settings."
)
@click.option(
    "--private-app-token",
    default=None,
    envvar="HUBSPOT_PRIVATE_APP_TOKEN",
    help="Use this private-app token instead of the workspace's OAuth connection.",
)
@click.option("--max-concurrency", default=8, show_default=True, help="HubSpot calls in flight at once.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def log(
    workspace_id: uuid.UUID,
    since: datetime | None,
    until: datetime | None,
    event_types: tuple[str, ...],
    hubspot_url: str | None,
    private_app_token: str | None,
    max_concurrency: int,
    as_json: bool,
) -> None:
    """Log WORKSPACE_ID's pending email events to HubSpot, each exactly once, and print what was logged."""
    from hubspot_pipeline.activities.engine import log_activities
    from hubspot_pipeline.db.connection import get_engine
    from hubspot_pipeline.hubspot import HubSpotError
    from hubspot_pipeline.sync.connection import workspace_client

    window = None
    if since or until:
        start = _day_start(since.date()) if since else datetime(1970, 1, 1, tzinfo=UTC)
        end = _day_start((until or datetime.now(UTC)).date()) + timedelta(days=1)
        window = (start, end)
    engine = get_engine()
    try:
        client = workspace_client(
            engine,
            workspace_id,
            base_url=hubspot_url,
            private_app_token=private_app_token,
            max_concurrency=max_concurrency,
        )
    except HubSpotError as error:
        raise click.ClickException(error.message) from None
    try:
        report = log_activities(engine, client, workspace_id, window=window, event_types=event_types or None)
    except HubSpotError as error:
        raise click.ClickException(str(error)) from None
    finally:
        client.close()
    if as_json:
        click.echo(json.dumps(report.as_dict(), indent=2))
        return
    if not report.enabled:
        click.echo(f"workspace {workspace_id}: activity sync is off (sync_activities=false); nothing sent")
        return
    counts = report.counts
    click.echo(f"workspace {workspace_id} in {report.seconds:.1f}s, {report.api_calls} HubSpot calls")
    by_type = ", ".join(f"{kind} {count}" for kind, count in sorted(report.logged_by_type.items()))
    click.echo(f"  logged   {by_type or 'nothing'}")
    click.echo(
        f"  as       {counts['emails']} emails, {counts['timeline_events']} timeline events, {counts['notes']} notes, "
        f"{counts['skipped']} skipped"
    )
    click.echo(
        f"  waiting for a contact {counts['waiting_for_contact']}, failed {counts['failed']}, "
        f"outcome unknown {counts['unknown_outcome']}"
    )
    for sample in report.error_samples:
        click.echo(f"    error: {sample}")
