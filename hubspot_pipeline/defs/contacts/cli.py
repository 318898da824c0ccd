"""`hubspot-pipeline sync`: run the contact sync of a workspace from the shell and print its counts, without
Dagster (the same stages the `contacts_sync_job` assets run)."""

from __future__ import annotations

import json
import uuid

import click


@click.command()
@click.argument("workspace_id", type=click.UUID)
@click.option(
    "--full",
    is_flag=True,
    help="Full resync: the leads whose mapped fields changed since their last sync (found by digest in "
    "PostgreSQL, even without an outbox row), and every HubSpot contact read through the list and search "
    "budgets at once, each compared with its pair; only what differs is planned and written.",
)
@click.option("--dry-run", is_flag=True, help="Compute and print the plan; write nothing anywhere.")
@click.option(
    "--hubspot-url", default=None, help="HubSpot API base URL (e.g. the sandbox's); default: settings."
)
@click.option(
    "--private-app-token",
    default=None,
    help="Use this private-app token instead of the workspace's OAuth connection "
    "(default: HUBSPOT_PRIVATE_APP_TOKEN, else OAuth).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
def sync(
    workspace_id: uuid.UUID,
    full: bool,
    dry_run: bool,
    hubspot_url: str | None,
    private_app_token: str | None,
    as_json: bool,
) -> None:
    """Sync WORKSPACE_ID's leads and HubSpot contacts once and print pushed, pulled, conflicts and errors."""
    from hubspot_pipeline.db.connection import get_engine
    from hubspot_pipeline.hubspot import HubSpotError
    from hubspot_pipeline.settings import get_settings
    from hubspot_pipeline.sync.connection import workspace_client
    from hubspot_pipeline.sync.engine import prepare, run_contact_sync
    from hubspot_pipeline.sync.properties import MappingError, ensure_hubspot_properties

    settings = get_settings()
    if private_app_token is None and settings.hubspot_private_app_token is not None:
        private_app_token = settings.hubspot_private_app_token.get_secret_value()
    engine = get_engine()
    try:
        client = workspace_client(
            engine, workspace_id, base_url=hubspot_url, private_app_token=private_app_token
        )
    except HubSpotError as error:
        raise click.ClickException(error.message) from None
    report = None
    try:
        if not dry_run:
            ensure_hubspot_properties(prepare(engine, client, workspace_id))
        report = run_contact_sync(engine, client, workspace_id, full=full, dry_run=dry_run)
    except (HubSpotError, MappingError) as error:
        if isinstance(error, HubSpotError) and error.category == "NETWORK":
            raise  # the command line says which URL did not answer, and from which setting
        raise click.ClickException(str(error)) from None
    finally:
        client.close()
        _record(engine, workspace_id, client, report, dry_run=dry_run)
    if as_json:
        click.echo(json.dumps(report.as_dict(), indent=2, default=str))
        return
    counts = report.counts
    mode = ("dry run, " if dry_run else "") + ("full" if full else "incremental")
    click.echo(
        f"workspace {workspace_id} ({mode}) in {report.seconds:.1f}s, {report.api_calls} HubSpot calls"
    )
    click.echo(f"  pushed   {counts['push']} ({counts['push_new']} new contacts)")
    click.echo(f"  pulled   {counts['pull']} ({counts['pull_new']} new leads)")
    click.echo(
        f"  conflicts {counts['conflicts']}"
        + "".join(f"\n    {c['field']}: {c['winner']} won ({c['policy']})" for c in report.conflicts[:5])
    )
    click.echo(
        f"  unchanged {counts['unchanged']}, tombstoned {counts['tombstones']}, errors {report.errors}"
    )
    for sample in report.error_samples:
        click.echo(f"    error: {sample}")


def _record(engine, workspace_id: uuid.UUID, client, report, *, dry_run: bool) -> None:
    """The run's outcome and figures for monitoring, as a Dagster run records them (job `cli`)."""
    from hubspot_pipeline.monitoring.runs import FinishedRun, record_run
    from hubspot_pipeline.sync.figures import run_records

    counts = report.counts if report is not None else {}
    synced, failed, figures = run_records(counts)
    record_run(
        engine,
        FinishedRun(
            run_id=f"cli-{uuid.uuid4()}",
            job="cli",
            workspace_id=workspace_id,
            outcome="succeeded" if report is not None else "failed",
            trigger="cli",
            dry_run=dry_run,
            client=client.metrics,
            records_synced=synced,
            records_failed=failed,
            counts=counts,
            figures=figures,
        ),
    )
