"""The end-to-end demo: ColdCopy's demo workspaces synced with HubSpot (the sandbox), through the same
Dagster job that production runs, twice: the first run does the work, the second shows there is none left.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
import dagster as dg
import sqlalchemy as sa

from hubspot_pipeline.db.tables import (
    companies,
    hubspot_integrations,
    hubspot_sync_status,
    sync_conflicts,
    workspaces,
)

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


# What each stage did, as its materialization shows it in the UI: (column, stage, metadata key).
COLUMNS = (
    ("leads", "leads", "dagster/row_count"),
    ("contacts", "hubspot_contacts", "dagster/row_count"),
    ("push", "hashed_diffs", "push"),
    ("new", "hashed_diffs", "push_new"),
    ("pull", "hashed_diffs", "pull"),
    ("new", "hashed_diffs", "pull_new"),
    ("conflicts", "hashed_diffs", "conflicts"),
    ("written", "pushed_contacts", "written"),
    ("errors", "sync_state", "errors"),
    ("companies", "hubspot_companies", "companies"),
    ("co.push", "hubspot_companies", "created"),
    ("co.upd", "hubspot_companies", "updated"),
    ("co.pull", "hubspot_companies", "pulled"),
)


def stage_counts(result: dg.ExecuteInProcessResult) -> dict[str, dict[str, Any]]:
    """stage -> the numbers its materialization recorded."""
    return {
        event.asset_key.path[-1]: {
            name: value.value
            for name, value in event.materialization.metadata.items()
            if isinstance(value, dg.IntMetadataValue | dg.FloatMetadataValue | dg.BoolMetadataValue)
        }
        for event in result.get_asset_materialization_events()
    }


def run_job(
    job_name: str, slugs: list[str], instance: dg.DagsterInstance, run_log: Path, verbose: bool
) -> dict[str, dict[str, dict[str, Any]]]:
    """Run the job for each workspace partition as the daemon would, Dagster's log going to `run_log`
    (and to the console too when `verbose`); returns slug -> stage -> counts."""
    from hubspot_pipeline.definitions import defs
    from hubspot_pipeline.defs.contacts.resources import contacts_run_config
    from hubspot_pipeline.demo.run_log import demo_loggers

    job = defs().resolve_job_def(job_name)
    loggers, logger_config = demo_loggers(run_log, verbose)
    job = job.with_logger_defs(loggers)
    # Run config given at launch replaces the job's own: the mode is part of it.
    run_config = {
        **contacts_run_config(full_resync=job_name == "contacts_reconcile_job"),
        "loggers": logger_config,
    }
    return {
        slug: stage_counts(
            job.execute_in_process(
                instance=instance,
                partition_key=slug,
                run_config=run_config,
                raise_on_error=True,
            )
        )
        for slug in slugs
    }


def _print_reports(title: str, reports: dict[str, dict[str, dict[str, Any]]]) -> None:
    click.echo(f"\n{title}")
    click.echo(
        "  (rows read by leads and hubspot_contacts; push, pull and conflicts planned by hashed_diffs; "
        "written by pushed_contacts; errors recorded in sync_state; companies looked at, created (co.push) and "
        "updated (co.upd) in HubSpot, and updated from HubSpot (co.pull) by hubspot_companies)"
    )
    click.echo(f"  {'workspace':<14}" + "".join(f"{name:>10}" for name, _, _ in COLUMNS))
    for slug, stages in reports.items():
        values = [stages.get(stage, {}).get(key, 0) for _, stage, key in COLUMNS]
        click.echo(f"  {slug:<14}" + "".join(f"{value:>10}" for value in values))
    seconds = {
        stage: sum(stages.get(stage, {}).get("seconds", 0) for stages in reports.values())
        for stage in (
            "field_mappings",
            "leads",
            "hubspot_contacts",
            "hashed_diffs",
            "pushed_contacts",
            "sync_state",
            "hubspot_companies",
        )
    }
    click.echo(
        "  seconds per stage: " + ", ".join(f"{stage} {value:.1f}" for stage, value in seconds.items())
    )


def _print_companies(engine: sa.Engine, workspace_ids: list[uuid.UUID], counters: dict[str, Any]) -> None:
    with engine.connect() as conn:
        kept = conn.scalar(
            sa.select(sa.func.count())
            .select_from(companies)
            .where(companies.c.workspace_id.in_(workspace_ids))
        )
        paired = conn.scalar(
            sa.select(sa.func.count())
            .select_from(hubspot_sync_status)
            .where(
                hubspot_sync_status.c.workspace_id.in_(workspace_ids),
                hubspot_sync_status.c.entity_type == "company",
                hubspot_sync_status.c.hubspot_id.is_not(None),
            )
        )
        named = conn.scalar(
            sa.select(sa.func.count())
            .select_from(companies)
            .where(companies.c.workspace_id.in_(workspace_ids), companies.c.name.like("% (named in HubSpot)"))
        )
    association_calls = sum(
        sum(by_status.values())
        for endpoint, by_status in counters["byEndpoint"].items()
        if "/associations/" in endpoint
    )
    click.echo(
        f"  companies by domain: {kept} kept by ColdCopy (table companies), {paired} paired with HubSpot, "
        f"{named} named from HubSpot; contacts associated in {association_calls} batch call(s)"
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


def _shown(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _first_free_hub_id(engine: sa.Engine, default: int) -> int:
    with engine.connect() as conn:
        taken = [int(h) for h in conn.scalars(sa.select(hubspot_integrations.c.hub_id)) if h and h.isdigit()]
    return max([default, *taken]) + 1


def run_demo(
    engine: sa.Engine,
    workspace_ids: list[uuid.UUID],
    echo_step: Callable[[str], None],
    *,
    verbose: bool = False,
) -> None:
    from hubspot_pipeline.dagster_home import prepare_dagster_home
    from hubspot_pipeline.demo.hubspot_side import connect_workspace, seed_portal
    from hubspot_pipeline.hubspot import OAuthApp
    from hubspot_pipeline.sandbox.testing import run_sandbox
    from hubspot_pipeline.settings import export_settings, get_settings
    from hubspot_pipeline.sync.connection import workspace_client

    prepare_dagster_home(get_settings())
    run_log = get_settings().data_dir / "logs" / "demo-dagster.log"
    run_log.parent.mkdir(parents=True, exist_ok=True)
    run_log.write_text("")
    with run_sandbox() as sandbox:
        # Every client of this process (and the Dagster runs it executes) uses this sandbox.
        export_settings(HUBSPOT_API_BASE_URL=sandbox.base_url)
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
            f"{sum(s.hubspot_only for s in seeded)} known to HubSpot only; "
            f"{sum(s.companies for s in seeded)} companies named in HubSpot"
        )

        with engine.connect() as conn:
            slugs = list(
                conn.scalars(
                    sa.select(workspaces.c.slug)
                    .where(workspaces.c.id.in_(workspace_ids))
                    .order_by(workspaces.c.slug)
                )
            )
        instance = dg.DagsterInstance.get()
        instance.add_dynamic_partitions("workspace", slugs)
        where = "below and in" if verbose else "in"
        echo_step(f"Dagster's run logs go {where} {_shown(run_log)}")

        for job_name, title in (
            ("contacts_reconcile_job", "run 1: contacts_reconcile_job, a full sync of each workspace"),
            ("contacts_sync_job", "run 2: contacts_sync_job, incremental, with nothing changed since run 1"),
        ):
            sandbox.admin.reset_counters()
            started = time.perf_counter()
            reports = run_job(job_name, slugs, instance, run_log, verbose)
            seconds = time.perf_counter() - started
            counters = sandbox.admin.counters()
            _print_reports(title, reports)
            click.echo(
                f"  HubSpot API calls: {counters['total']} ({write_calls(counters)} writes)   time: {seconds:.1f} s"
            )
            if job_name == "contacts_reconcile_job":
                _print_companies(engine, workspace_ids, counters)
                _print_conflicts(engine, workspace_ids)

        from hubspot_pipeline.demo.activity import log_demo_activity

        with engine.connect() as conn:
            by_id = dict(
                conn.execute(
                    sa.select(workspaces.c.id, workspaces.c.slug)
                    .where(workspaces.c.id.in_(workspace_ids))
                    .order_by(workspaces.c.slug)
                ).all()
            )
        log_demo_activity(engine, by_id, sandbox)

        from hubspot_pipeline.demo.engagement import score_demo_engagement

        score_demo_engagement(engine, by_id, sandbox)

        from hubspot_pipeline.demo.workflows import run_demo_triggers

        run_demo_triggers(engine, by_id, sandbox, instance, run_log, verbose)
