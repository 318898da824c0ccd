"""Activity batches are partitioned by UTC day x workspace (its slug), today included: a date range of chosen
workspaces is a backfill from the UI, and a day's run logs that day's events. Keys look like
`2026-11-29|acme`; the `workspace` dimension is the contact sync's own partitions. A run may also cover a range
of one workspace's days (`2026-09-01|acme` to `2026-11-29|acme`): the backlog sensor's backfill of a
workspace, one run that materializes every day of the range."""

from datetime import date

import dagster as dg

from hubspot_pipeline.activities.core.days import FIRST_DAY, days_between
from hubspot_pipeline.defs.workspaces.partitions import WORKSPACE, WORKSPACE_PARTITIONS

DAY = "day"
DAYS = dg.DailyPartitionsDefinition(start_date=FIRST_DAY.isoformat(), end_offset=1)
ACTIVITY_PARTITIONS = dg.MultiPartitionsDefinition({DAY: DAYS, WORKSPACE: WORKSPACE_PARTITIONS})


def activity_key(day: str, slug: str) -> dg.MultiPartitionKey:
    return dg.MultiPartitionKey({DAY: day, WORKSPACE: slug})


def keys_in_range(first: str, last: str) -> list[str]:
    """The keys of a range of one workspace's days (none if it is not such a range)."""
    days = day_range(first, last)
    if days is None:
        return []
    slug = ACTIVITY_PARTITIONS.get_partition_key_from_str(first).keys_by_dimension[WORKSPACE]
    return [str(activity_key(day.isoformat(), slug)) for day in days_between(*days)]


def day_range(first: str, last: str) -> tuple[date, date] | None:
    """The first and last day of a range of one workspace's keys; None when they are not such keys."""
    try:
        start = ACTIVITY_PARTITIONS.get_partition_key_from_str(first).keys_by_dimension
        end = ACTIVITY_PARTITIONS.get_partition_key_from_str(last).keys_by_dimension
        days = date.fromisoformat(start[DAY]), date.fromisoformat(end[DAY])
    except (KeyError, ValueError, dg.DagsterInvalidInvocationError, dg.DagsterInvariantViolationError):
        return None
    return days if start[WORKSPACE] == end[WORKSPACE] and days[0] <= days[1] else None


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions()
