"""The demo's email activity in HubSpot: each workspace's events logged by the activity batch (what each
`activities/activity_batches` run does for its day, here over the demo's whole history, which is older than
the 90 days a newly connected workspace starts from), twice: the first logs everything, the second nothing."""

from __future__ import annotations

import time
import uuid
from collections import Counter
from typing import Any

import click
import sqlalchemy as sa

from hubspot_pipeline.activities.core.events import EVENT_TYPES

SHOWN_TYPES = ("sent", "opened", "clicked", "replied", "bounced", "unsubscribed")


def log_demo_activity(engine: sa.Engine, slugs: dict[uuid.UUID, str], sandbox: Any) -> None:
    """Log each workspace's email activity twice, printing counts per event type; `slugs`: id -> slug."""
    from hubspot_pipeline.activities.engine import log_activities
    from hubspot_pipeline.activities.store.templates import forget_templates
    from hubspot_pipeline.activities.templates import DeveloperCredentials
    from hubspot_pipeline.sync.connection import workspace_client

    developer = DeveloperCredentials.from_settings(sandbox.base_url)
    with (
        engine.begin() as conn
    ):  # a new sandbox is a new HubSpot app: templates made for an earlier one are gone
        forget_templates(conn, developer.app_id)
    for title in (
        "run 3: email activity, each workspace's events logged to HubSpot",
        "run 4: email activity again, with nothing new",
    ):
        sandbox.admin.reset_counters()
        started = time.perf_counter()
        click.echo(f"\n{title}")
        click.echo(
            f"  {'workspace':<14}"
            + "".join(f"{kind:>13}" for kind in SHOWN_TYPES)
            + f"{'emails':>8}{'timeline':>10}{'waiting':>9}{'errors':>8}"
        )
        totals: Counter[str] = Counter()
        for workspace_id, slug in slugs.items():
            with workspace_client(engine, workspace_id) as client:
                report = log_activities(engine, client, workspace_id, developer=developer)
            counts = report.counts
            totals.update(report.logged_by_type)
            click.echo(
                f"  {slug:<14}"
                + "".join(f"{report.logged_by_type.get(kind, 0):>13}" for kind in SHOWN_TYPES)
                + f"{counts['emails']:>8}{counts['timeline_events']:>10}{counts['waiting_for_contact']:>9}"
                f"{counts['failed']:>8}"
            )
            for sample in report.error_samples[:3]:
                click.echo(f"      error: {sample}")
        counters = sandbox.admin.counters()
        logged = ", ".join(f"{kind} {totals[kind]}" for kind in EVENT_TYPES if totals[kind])
        click.echo(
            f"  logged: {logged or 'nothing'}; HubSpot API calls: {counters['total']}   "
            f"time: {time.perf_counter() - started:.1f} s"
        )
