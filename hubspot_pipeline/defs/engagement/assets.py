"""`engagement/reply_intents`: the workspace's stored replies, each with its intent. The sensor keeps it current
within seconds; materializing it decides whatever is still pending (after an outage, say). Downstream, in the
`engagement` code location, the dbt models read the intents."""

import dagster as dg

from hubspot_pipeline.defs.workspaces.partitions import WORKSPACE_PARTITIONS
from hubspot_pipeline.defs.workspaces.resources import SyncSettingsResource
from hubspot_pipeline.defs.workspaces.runs import partition_workspace
from hubspot_pipeline.scoring.store.replies import decide_all_pending_intents

GROUP = "engagement"
EMAIL_MESSAGES = dg.AssetKey(["coldcopy", "email_messages"])
EMAIL_EVENTS = dg.AssetKey(["coldcopy", "email_events"])
REPLY_INTENTS = dg.AssetKey([GROUP, "reply_intents"])


@dg.asset(
    key=REPLY_INTENTS,
    deps=[EMAIL_MESSAGES, EMAIL_EVENTS],
    partitions_def=WORKSPACE_PARTITIONS,
    group_name=GROUP,
    kinds={"python", "postgres"},
    dagster_type=dg.Nothing,
    description=(
        "The workspace's replies, each with its intent (interested, not_interested, out_of_office, "
        "unsubscribe_request, referral, neutral) and confidence, decided when the reply is stored: ColdCopy's own "
        "judgement (the event's metadata, a lead status a user set) wins, else the offline classifier. Each "
        "decision is an intent_decided engagement event. reply_intents_sensor keeps this current within "
        "seconds; a materialization decides whatever is still pending."
    ),
)
def reply_intents(
    context: dg.AssetExecutionContext, sync_settings: SyncSettingsResource
) -> dg.MaterializeResult:
    engine = sync_settings.engine()
    with engine.connect() as conn:
        workspace = partition_workspace(conn, context.partition_key)
    return dg.MaterializeResult(
        metadata={"decided": decide_all_pending_intents(engine, workspace_id=workspace.id)}
    )


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(assets=[reply_intents])
