"""Activity batches are partitioned by UTC day x workspace (its slug), today included: a date range of chosen
workspaces is a backfill from the UI, and a day's run logs that day's events. Keys look like
`2026-11-29|acme`; the `workspace` dimension is the contact sync's own partitions."""

import dagster as dg

from hubspot_pipeline.activities.core.days import FIRST_DAY
from hubspot_pipeline.defs.workspaces.partitions import WORKSPACE, WORKSPACE_PARTITIONS

DAY = "day"
DAYS = dg.DailyPartitionsDefinition(start_date=FIRST_DAY.isoformat(), end_offset=1)
ACTIVITY_PARTITIONS = dg.MultiPartitionsDefinition({DAY: DAYS, WORKSPACE: WORKSPACE_PARTITIONS})


def activity_key(day: str, slug: str) -> dg.MultiPartitionKey:
    return dg.MultiPartitionKey({DAY: day, WORKSPACE: slug})


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions()
