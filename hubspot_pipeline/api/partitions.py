"""Adding a newly connected workspace to Dagster's `workspace` partitions from the API process.

Only when the API shares a Dagster instance with the daemon (DAGSTER_HOME set, as under `hubspot-pipeline
dev`); otherwise the sync-request and webhook sensors add the partition before the workspace's first run.
The key is the workspace's slug, as everywhere in Dagster (defs/workspaces/partitions.py).
"""

from __future__ import annotations

import logging
import uuid

import sqlalchemy as sa

from hubspot_pipeline.sync.store.workspaces import workspaces_by_id

WORKSPACE_PARTITIONS = "workspace"
log = logging.getLogger(__name__)


def add_workspace_partition(engine: sa.Engine, workspace_id: uuid.UUID) -> bool:
    """True when the partition exists afterwards; False when no Dagster instance is configured here."""
    import dagster as dg
    from dagster._core.errors import DagsterHomeNotSetError, DagsterInvariantViolationError

    with engine.connect() as conn:
        workspace = workspaces_by_id(conn, [workspace_id]).get(workspace_id)
    if workspace is None:
        return False
    try:
        instance = dg.DagsterInstance.get()
    except (DagsterHomeNotSetError, DagsterInvariantViolationError):
        return False
    try:
        if not instance.has_dynamic_partition(WORKSPACE_PARTITIONS, workspace.slug):
            instance.add_dynamic_partitions(WORKSPACE_PARTITIONS, [workspace.slug])
        return True
    except Exception as error:  # the sensors add it later; connecting must not fail on this
        log.warning("could not add workspace partition: %s", type(error).__name__)
        return False
    finally:
        instance.dispose()
