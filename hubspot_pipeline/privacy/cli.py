"""`hubspot-pipeline privacy erase|purge`: GDPR erasure of one person, and the retention purge, from the shell
(the same code as POST /privacy/erasures and `retention_job`)."""

from __future__ import annotations

import json
import uuid

import click


@click.group()
def privacy() -> None:
    """GDPR erasure and the retention of personal data."""


@privacy.command()
@click.argument("workspace_id", type=click.UUID)
@click.option("--lead-id", type=click.UUID, default=None, help="The lead to erase.")
@click.option("--email", default=None, help="The person's email (case-insensitive).")
@click.option(
    "--private-app-token",
    default=None,
    help="Reach HubSpot with this private-app token instead of the workspace's OAuth connection "
    "(default: HUBSPOT_PRIVATE_APP_TOKEN, else OAuth).",
)
@click.option(
    "--hubspot-url", default=None, help="HubSpot API base URL (e.g. the sandbox's); default: settings."
)
def erase(
    workspace_id: uuid.UUID,
    lead_id: uuid.UUID | None,
    email: str | None,
    private_app_token: str | None,
    hubspot_url: str | None,
) -> None:
    """Erase a person of WORKSPACE_ID (GDPR): HubSpot's GDPR delete of their contact, then every local copy
    of their data; a keyed hash of the email stays so the sync never re-creates them. A repeat is a no-op."""
    from hubspot_pipeline.db.connection import get_engine
    from hubspot_pipeline.privacy.erasure import PersonNotFound, erase_person, workspace_hubspot
    from hubspot_pipeline.settings import SettingsError, get_settings

    if (lead_id is None) == (email is None):
        raise click.UsageError("name the person with exactly one of --lead-id or --email")
    settings = get_settings()
    if private_app_token is None and settings.hubspot_private_app_token is not None:
        private_app_token = settings.hubspot_private_app_token.get_secret_value()
    engine = get_engine()
    hubspot = workspace_hubspot(
        engine, workspace_id, base_url=hubspot_url, private_app_token=private_app_token
    )
    try:
        outcome = erase_person(
            engine, workspace_id, lead_id=lead_id, email=email, hubspot=hubspot, actor="cli"
        )
    except (PersonNotFound, SettingsError) as error:
        raise click.ClickException(str(error)) from None
    click.echo(
        json.dumps({**outcome.__dict__, "erasure_ids": [str(i) for i in outcome.erasure_ids]}, indent=2)
    )
    if outcome.hubspot == "failed":
        raise click.ClickException(
            outcome.hubspot_error or "HubSpot's GDPR delete failed; run the command again"
        )


@privacy.command()
@click.option("--dry-run", is_flag=True, help="Count what is past its retention age; change nothing.")
def purge(dry_run: bool) -> None:
    """Purge personal data past its retention age (RETENTION_* settings), in small batches."""
    from hubspot_pipeline.db.connection import get_engine
    from hubspot_pipeline.privacy.retention import RetentionPolicy, purge_expired

    report = purge_expired(
        get_engine(),
        RetentionPolicy.from_settings(),
        dry_run=dry_run,
        log=lambda line: click.echo(line, err=True),
    )
    click.echo(json.dumps(report, indent=2))
