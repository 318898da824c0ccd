"""`reply_intents_sensor` (every 5 s): decides the intent of the replies stored since the last tick, in the
tick itself (classifying is pure Python, milliseconds a reply, no run to launch), so the workflow-trigger
sensor reads the `intent_decided` events seconds after a reply arrives and never waits for a dbt build."""

import dagster as dg

from hubspot_pipeline.defs.workspaces.resources import SyncSettingsResource
from hubspot_pipeline.scoring.store.replies import decide_pending_intents

REPLIES_PER_TICK = 2_000
BATCH = 200  # one transaction each: the engagement-event lock is held only this long


@dg.sensor(
    minimum_interval_seconds=5,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description=(
        "Decides the intent of each newly stored reply (ColdCopy's judgement first, else the offline "
        f"classifier), at most {REPLIES_PER_TICK} a tick, writing it on the reply with an intent_decided "
        "engagement event. Launches no run."
    ),
)
def reply_intents_sensor(context: dg.SensorEvaluationContext, sync_settings: SyncSettingsResource):
    engine, decided = sync_settings.engine(), 0
    while decided < REPLIES_PER_TICK:
        with engine.begin() as conn:
            batch = len(decide_pending_intents(conn, limit=BATCH))
        decided += batch
        if batch < BATCH:
            break
    return dg.SkipReason(
        f"decided the intent of {decided} replies" if decided else "no reply waiting for its intent"
    )


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(sensors=[reply_intents_sensor])
