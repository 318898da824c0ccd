"""The end-to-end demo: ColdCopy's demo workspaces synced with HubSpot (the sandbox), through the same
Dagster job that production runs, twice: the first run does the work, the second shows there is none left.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable
from typing import Any

import click
import dagster as dg
import sqlalchemy as sa

from hubspot_pipeline.db.tables import hubspot_integrations, hubspot_sync_status, sync_conflicts, workspaces

READ_ONLY_SUFFIXES = ("/search", "/batch/read")


def write_calls(counters: dict[str, Any]) -> int:
    """Calls that change HubSpot records (reads, searches and property look-ups excluded)."""
    total = 0
    for endpoint, by_status in counters["byEndpoint"].items():
        method, _, path = endpoint.partition(" ")
        if "/crm/" not in path or "/properties/" in path or path.endswith(READ_ONLY_SUFFIXES):
            continue
        if method in ("POST", "PATCH", "PUT", "DELETE"):
            total += sum(by_status.values())
    return total


def run_job(job_name: str, workspace_ids: list[uuid.UUID], instance: dg.DagsterInstance) -> dict[str, Any]:
    from hubspot_pipeline.definitions import defs
    from hubspot_pipeline.defs.contacts.jobs import contacts_run_config

    job = defs().resolve_job_def(job_name)
    reports = {}
    for workspace_id in workspace_ids:
        result = job.execute_in_process(
            instance=instance,
            partition_key=str(workspace_id),
            run_config=contacts_run_config(full_resync=job_name == "contacts_reconcile_job"),
            raise_on_error=True,
        )
        reports[workspace_id] = result.asset_value(["contacts", "sync_plan"]).counts()
    return reports


def _rows_in_error(engine: sa.Engine, workspace_id: uuid.UUID) -> list[str]:
    with engine.connect() as conn:
        return list(
            conn.scalars(
                sa.select(hubspot_sync_status.c.error_message).where(
                    hubspot_sync_status.c.workspace_id == workspace_id,
                    hubspot_sync_status.c.status == "error",
                )
            )
        )


def _print_reports(
    engine: sa.Engine, title: str, reports: dict[uuid.UUID, dict[str, int]], names: dict[uuid.UUID, str]
) -> None:
    click.echo(f"\n{title}")
    click.echo(
        f"  {'workspace':<20}{'pushed':>8}{'new in HS':>10}{'pulled':>8}{'new leads':>10}{'conflicts':>10}{'errors':>8}"
    )
    for workspace_id, counts in reports.items():
        errors = _rows_in_error(engine, workspace_id)
        click.echo(
            f"  {names[workspace_id]:<20}{counts.get('push', 0):>8}{counts.get('push_new', 0):>10}"
            f"{counts.get('pull', 0):>8}{counts.get('pull_new', 0):>10}{counts.get('conflicts', 0):>10}"
            f"{len(errors):>8}"
        )
        for message in errors[:3]:
            click.echo(f"      error: {message}")


def _print_companies(engine: sa.Engine, workspace_ids: list[uuid.UUID], counters: dict[str, Any]) -> None:
    with engine.connect() as conn:
        companies = conn.scalar(
            sa.select(sa.func.count())
            .select_from(hubspot_sync_status)
            .where(
                hubspot_sync_status.c.workspace_id.in_(workspace_ids),
                hubspot_sync_status.c.entity_type == "company",
            )
        )
    association_calls = sum(
        sum(by_status.values())
        for endpoint, by_status in counters["byEndpoint"].items()
        if "/associations/" in endpoint
    )
    click.echo(
        f"  companies by domain: {companies} in HubSpot, contacts associated in {association_calls} batch call(s)"
    )


def _print_conflicts(engine: sa.Engine, workspace_ids: list[uuid.UUID], limit: int = 6) -> None:
    with engine.connect() as conn:
        total = conn.scalar(
            sa.select(sa.func.count())
            .select_from(sync_conflicts)
            .where(sync_conflicts.c.workspace_id.in_(workspace_ids))
        )
        rows = conn.execute(
            sa.select(sync_conflicts)
            .where(sync_conflicts.c.workspace_id.in_(workspace_ids))
            .order_by(sync_conflicts.c.id)
            .limit(limit)
        ).all()
        by_winner = dict(
            conn.execute(
                sa.select(sync_conflicts.c.winner, sa.func.count())
                .where(sync_conflicts.c.workspace_id.in_(workspace_ids))
                .group_by(sync_conflicts.c.winner)
            ).all()
        )
    click.echo(
        f"\nconflicts: {total} fields changed on both sides ({by_winner.get('hubspot', 0)} went to HubSpot's value, "
        f"{by_winner.get('coldcopy', 0)} to ColdCopy's); the first {len(rows)}:"
    )
    for row in rows:
        click.echo(
            f"  {row.field:<12} ColdCopy {row.coldcopy_value!r:<26} HubSpot {row.hubspot_value!r:<28} "
            f"policy {row.policy}: {row.winner} wins"
        )


def _first_free_hub_id(engine: sa.Engine, default: int) -> int:
    with engine.connect() as conn:
        taken = [int(h) for h in conn.scalars(sa.select(hubspot_integrations.c.hub_id)) if h and h.isdigit()]
    return max([default, *taken]) + 1


def run_demo(engine: sa.Engine, workspace_ids: list[uuid.UUID], echo_step: Callable[[str], None]) -> None:
    from hubspot_pipeline.dagster_home import prepare_dagster_home
    from hubspot_pipeline.demo.hubspot_side import connect_workspace, seed_portal
    from hubspot_pipeline.hubspot import OAuthApp
    from hubspot_pipeline.sandbox.testing import run_sandbox
    from hubspot_pipeline.settings import get_settings
    from hubspot_pipeline.sync.connection import workspace_client

    prepare_dagster_home(get_settings())
    with run_sandbox() as sandbox:
        os.environ["HUBSPOT_API_BASE_URL"] = sandbox.base_url  # every client of this process uses the sandbox
        get_settings.cache_clear()
        # Fresh portals whose ids no workspace holds yet: a HubSpot portal belongs to one workspace.
        first = _first_free_hub_id(engine, sandbox.hub_id)
        hub_ids = [sandbox.admin.add_portal(hub_id=first + i)[0] for i in range(len(workspace_ids))]
        echo_step(f"HubSpot sandbox at {sandbox.base_url}: portals {', '.join(map(str, hub_ids))}")

        app = OAuthApp.from_settings()
        for workspace_id, hub_id in zip(workspace_ids, hub_ids, strict=True):
            connect_workspace(engine, app, workspace_id, hub_id)
        echo_step(f"connected {len(workspace_ids)} workspaces through OAuth; tokens stored encrypted")

        seeded = []
        for workspace_id, hub_id in zip(workspace_ids, hub_ids, strict=True):
            with workspace_client(engine, workspace_id) as client:
                seeded.append(seed_portal(engine, client, workspace_id, hub_id))
        echo_step(
            f"seeded HubSpot: {sum(s.matching for s in seeded)} contacts matching leads by email "
            f"({sum(s.differing for s in seeded)} with a different job title and phone), "
            f"{sum(s.hubspot_only for s in seeded)} known to HubSpot only"
        )

        with engine.connect() as conn:
            names = dict(
                conn.execute(
                    sa.select(workspaces.c.id, workspaces.c.name).where(workspaces.c.id.in_(workspace_ids))
                ).all()
            )
        instance = dg.DagsterInstance.get()
        instance.add_dynamic_partitions("workspace", [str(w) for w in workspace_ids])

        for job_name, title in (
            ("contacts_reconcile_job", "run 1: contacts_reconcile_job, a full sync of each workspace"),
            ("contacts_sync_job", "run 2: contacts_sync_job, incremental, with nothing changed since run 1"),
        ):
            sandbox.admin.reset_counters()
            started = time.perf_counter()
            reports = run_job(job_name, workspace_ids, instance)
            seconds = time.perf_counter() - started
            counters = sandbox.admin.counters()
            _print_reports(engine, title, reports, names)
            click.echo(
                f"  HubSpot API calls: {counters['total']} ({write_calls(counters)} writes)   time: {seconds:.1f} s"
            )
            if job_name == "contacts_reconcile_job":
                _print_companies(engine, workspace_ids, counters)
                _print_conflicts(engine, workspace_ids)
