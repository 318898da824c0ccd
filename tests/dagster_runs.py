"""Runs put straight into a test Dagster instance, in any status, as the run queue holds them: what the
sensors and schedules see when they ask which runs of a workspace are waiting or running."""

from __future__ import annotations

import uuid
from typing import Any

import dagster as dg
from dagster._core.remote_origin import InProcessCodeLocationOrigin, RemoteJobOrigin, RemoteRepositoryOrigin
from dagster._core.types.loadable_target_origin import LoadableTargetOrigin


def add_run(
    instance: dg.DagsterInstance,
    job_name: str,
    partition: str,
    status: dg.DagsterRunStatus,
    *,
    run_config: dict[str, Any] | None = None,
    asset_check_selection: frozenset[dg.AssetCheckKey] | None = None,
    tags: dict[str, str] | None = None,
) -> dg.DagsterRun:
    """A run of `job_name` for one partition; a queued run names its code location, as Dagster requires."""
    location = InProcessCodeLocationOrigin(LoadableTargetOrigin(module_name="hubspot_pipeline.definitions"))
    run = dg.DagsterRun(
        job_name=job_name,
        run_id=str(uuid.uuid4()),
        status=status,
        tags={"dagster/partition": partition, **(tags or {})},
        run_config=run_config or {},
        asset_check_selection=asset_check_selection,
        remote_job_origin=RemoteJobOrigin(RemoteRepositoryOrigin(location, "__repository__"), job_name),
    )
    return instance.add_run(run)
