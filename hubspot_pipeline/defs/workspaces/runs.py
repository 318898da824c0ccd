"""What every run of a workspace does when it starts: find the workspace its partition key names (refusing
a key no workspace has, with the workspaces there are), and tag the run with the workspace's name and id,
its mode and what launched it. Called by each area's run-scoped resource (contacts/resources.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

import dagster as dg
import sqlalchemy as sa
from dagster._core.storage.tags import ASSET_PARTITION_RANGE_END_TAG, ASSET_PARTITION_RANGE_START_TAG

from hubspot_pipeline.defs.workspaces import tags
from hubspot_pipeline.defs.workspaces.partitions import WORKSPACE
from hubspot_pipeline.sync.store.workspaces import Workspace, some_slugs, workspace_by_slug

SLUGS_NAMED = 10  # workspaces listed in the message for an unknown key


def workspace_key(run_tags: Mapping[str, str]) -> str | None:
    """The run's workspace partition key: the key itself, or its `workspace` dimension (day x workspace); for
    a run over a partition range (days of one workspace), the workspace both ends name (None if they differ)."""
    key = run_tags.get(f"dagster/partition/{WORKSPACE}") or run_tags.get("dagster/partition")
    if key:
        return key
    first, last = partition_range(run_tags) or ("", "")
    # A day x workspace key reads `day|workspace` (Dagster orders the dimensions by name).
    first_slug, last_slug = first.rsplit("|", 1)[-1], last.rsplit("|", 1)[-1]
    return first_slug if first_slug and first_slug == last_slug else None


def partition_range(run_tags: Mapping[str, str]) -> tuple[str, str] | None:
    """(first, last) partition key of a run over a partition range; None for a run of one partition."""
    first, last = run_tags.get(ASSET_PARTITION_RANGE_START_TAG), run_tags.get(ASSET_PARTITION_RANGE_END_TAG)
    return (first, last) if first and last else None


def range_tags(first: str, last: str) -> dict[str, str]:
    """Tags of a run over the partitions from `first` to `last` (one run, as a single-run backfill makes)."""
    return {ASSET_PARTITION_RANGE_START_TAG: first, ASSET_PARTITION_RANGE_END_TAG: last}


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


def active_partition_keys(
    instance: dg.DagsterInstance,
    job_name: str,
    limit: int = 1_000,
    expand_range: Callable[[str, str], Iterable[str]] | None = None,
) -> set[str]:
    """Partition keys of the job's runs that are queued or running (at most `limit` runs looked at); with
    `expand_range` (first, last -> the keys between), every key of a run over a partition range too."""
    records = instance.get_run_records(
        filters=dg.RunsFilter(job_name=job_name, statuses=ACTIVE_STATUSES), limit=limit
    )
    keys = set()
    for record in records:
        run_tags = record.dagster_run.tags
        keys.add(run_tags.get("dagster/partition", ""))
        ranged = partition_range(run_tags)
        if ranged is not None and expand_range is not None:
            keys.update(expand_range(*ranged))
    return keys
