"""What every run of a workspace does when it starts: find the workspace its partition key names (refusing
a key no workspace has, with the workspaces there are), and tag the run with the workspace's name and id,
its mode and what launched it. Called by each area's run-scoped resource (contacts/resources.py)."""

from __future__ import annotations

from collections.abc import Mapping

import dagster as dg
import sqlalchemy as sa

from hubspot_pipeline.defs.workspaces import tags
from hubspot_pipeline.defs.workspaces.partitions import WORKSPACE
from hubspot_pipeline.sync.store.workspaces import Workspace, some_slugs, workspace_by_slug

SLUGS_NAMED = 10  # workspaces listed in the message for an unknown key


def workspace_key(run_tags: Mapping[str, str]) -> str | None:
    """The run's workspace partition key: the key itself, or its `workspace` dimension (day x workspace)."""
    return run_tags.get(f"dagster/partition/{WORKSPACE}") or run_tags.get("dagster/partition")


def unknown_key_message(key: str | None, slugs: list[str], total: int) -> str:
    if key is None:
        return (
            "this run has no workspace partition: launch it for one workspace (pick a partition; each is a "
            "workspace's slug)"
        )
    listed = ", ".join(slugs) + (f" and {total - len(slugs)} more" if total > len(slugs) else "")
    return (
        f"no workspace has the slug {key!r}, so this run has nothing to sync. Partitions are workspace slugs "
        f"({listed or 'no workspace exists yet'}); they are added and removed by workspace_partitions_sensor "
        "as workspaces connect HubSpot, and a key added by hand is removed on its next tick."
    )


def partition_workspace(conn: sa.Connection, key: str | None) -> Workspace:
    """The workspace a partition key names; raises `dg.Failure` naming the workspaces for a key none has."""
    workspace = workspace_by_slug(conn, key) if key else None
    if workspace is None:
        slugs, total = some_slugs(conn, SLUGS_NAMED)
        raise dg.Failure(description=unknown_key_message(key, slugs, total))
    return workspace


def start_workspace_run(
    context: dg.InitResourceContext, engine: sa.Engine, mode: Mapping[str, str]
) -> Workspace:
    """The run's workspace, with the run tagged; raises `dg.Failure` for a key no workspace has."""
    run = context.run
    assert run is not None, "a workspace run starts inside a Dagster run"
    with engine.connect() as conn:
        workspace = partition_workspace(conn, workspace_key(run.tags))
    context.instance.add_run_tags(
        run.run_id,
        {
            tags.WORKSPACE_ID: str(workspace.id),
            tags.WORKSPACE_NAME: workspace.name,
            tags.TRIGGER: tags.trigger_of(run.tags),
            **mode,
        },
    )
    return workspace


def request_tags(workspace: Workspace, trigger: str, mode: Mapping[str, str]) -> dict[str, str]:
    """The same tags for a run request, so a queued run shows them before it starts."""
    return {
        tags.WORKSPACE_ID: str(workspace.id),
        tags.WORKSPACE_NAME: workspace.name,
        tags.TRIGGER: trigger,
        **mode,
    }


ACTIVE_STATUSES = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
]


def active_partition_keys(instance: dg.DagsterInstance, job_name: str, limit: int = 1_000) -> set[str]:
    """Partition keys of the job's runs that are queued or running (at most `limit` runs looked at)."""
    records = instance.get_run_records(
        filters=dg.RunsFilter(job_name=job_name, statuses=ACTIVE_STATUSES), limit=limit
    )
    return {r.dagster_run.tags.get("dagster/partition", "") for r in records}
