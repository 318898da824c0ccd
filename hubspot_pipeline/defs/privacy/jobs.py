"""`retention_job`: personal data past its retention age purged, in short batches that never block a sync."""

import dagster as dg

from hubspot_pipeline.defs.workspaces.resources import SyncSettingsResource


@dg.op(
    description="Purges what is past its RETENTION_* age: processed webhook events, outbox rows the sync "
    "has read, conflicts' values, message bodies, audit details. Batches of RETENTION_BATCH_SIZE rows, each "
    "its own short transaction taking rows SKIP LOCKED; progress is logged per batch.",
)
def purge_expired_personal_data(context: dg.OpExecutionContext, sync_settings: SyncSettingsResource) -> None:
    from hubspot_pipeline.privacy.retention import RetentionPolicy, purge_expired

    report = purge_expired(sync_settings.engine(), RetentionPolicy.from_settings(), log=context.log.info)
    context.log.info(f"retention purge done: {report}")


@dg.job(
    description="Retention: purges personal data past its configured age (RETENTION_* settings), in small "
    "batches that never block the sync. Scheduled daily by `retention_schedule`; safe to run any time.",
    tags={"hubspot_pipeline/sync_kind": "retention"},
)
def retention_job() -> None:
    purge_expired_personal_data()


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(jobs=[retention_job])
