"""`activity_batch_run`: one run of one workspace's activity batch for one UTC day, built once when the run
starts: the workspace and day its partition key names, the event types it logs, and one HubSpot client,
closed when the run ends. Its config (the launchpad shows it):

    resources:
      activity_batch_run:
        config:
          event_types: null   # or e.g. [opened, clicked]: only these (of those the workspace logs)
"""

from datetime import UTC, date, datetime
from typing import Any

import dagster as dg
from pydantic import Field, PrivateAttr

from hubspot_pipeline.activities.core.days import day_window
from hubspot_pipeline.activities.core.events import EVENT_TYPES
from hubspot_pipeline.activities.engine import ActivityReport
from hubspot_pipeline.defs.activities.partitions import DAY, day_range
from hubspot_pipeline.defs.monitoring.runs import record_workspace_run
from hubspot_pipeline.defs.workspaces import tags
from hubspot_pipeline.defs.workspaces.resources import SyncSettingsResource
from hubspot_pipeline.defs.workspaces.runs import partition_range, start_workspace_run
from hubspot_pipeline.hubspot import HubSpotClient
from hubspot_pipeline.monitoring import Figures
from hubspot_pipeline.monitoring.catalogue import RECORDS_FAILED
from hubspot_pipeline.settings import get_settings
from hubspot_pipeline.sync.store.workspaces import Workspace

RESOURCE = "activity_batch_run"
MODE = {tags.SYNC_KIND: "activities"}
EVENT_TYPES_HELP = "Only these email event types, of those the workspace logs; unset: every type it logs."


def activity_run_config(event_types: list[str] | None = None) -> dict[str, Any]:
    """Run config of an activity batch run logging these event types (None: the workspace's choice)."""
    return {"resources": {RESOURCE: {"config": {"event_types": event_types}}}}


def days_of(run_tags: dict[str, str]) -> tuple[date, date] | None:
    """The first and last UTC day of the run: its day partition's, or those of its range of one workspace's
    days (the backlog sensor's backfill); None if it names neither."""
    value = run_tags.get(f"dagster/partition/{DAY}")
    if value:
        try:
            return date.fromisoformat(value), date.fromisoformat(value)
        except ValueError:
            return None
    ranged = partition_range(run_tags)
    return day_range(*ranged) if ranged else None


class ActivityBatchRun(dg.ConfigurableResource):
    """The run's workspace and UTC day (named by the partition key) or days (a range of one workspace's days),
    the event types it logs, and one HubSpot client for the run. When the run ends it records its outcome and figures for monitoring."""

    event_types: list[str] | None = Field(None, description=EVENT_TYPES_HELP)
    settings: dg.ResourceDependency[SyncSettingsResource]

    _workspace: Workspace | None = PrivateAttr(None)
    _days: tuple[date, date] | None = PrivateAttr(None)
    _client: HubSpotClient | None = PrivateAttr(None)
    _started_at: datetime | None = PrivateAttr(None)
    _report: ActivityReport | None = PrivateAttr(None)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        self._started_at = datetime.now(UTC)
        unknown = sorted(set(self.event_types or ()) - set(EVENT_TYPES))
        if unknown:
            raise dg.Failure(
                description=f"unknown event types {unknown} in activity_batch_run.config.event_types; "
                f"use some of {', '.join(EVENT_TYPES)}, or leave it unset for every type the workspace logs"
            )
        assert context.run is not None, "an activity batch runs inside a Dagster run"
        self._days = days_of(dict(context.run.tags))
        if self._days is None:
            raise dg.Failure(
                description="this run has no day partition: launch activities/activity_batches for a day and a "
                "workspace (keys look like 2026-11-29|<workspace slug>), or for a range of one workspace's days"
            )
        self._workspace = start_workspace_run(context, self.settings.engine(), MODE)
        self._client = self.settings.client(self._workspace.id)

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        if self._client is not None:
            self._client.close()
        if self._workspace is None:
            return
        report = self._report
        failed = report.counts["failed"] if report is not None else 0
        figures = Figures()  # logged events are counted as they are recorded (activities/store/log.py)
        figures.count(RECORDS_FAILED, failed, object_type="activity", direction="to_hubspot")
        record_workspace_run(
            context,
            self.settings.engine(),
            self._workspace.id,
            self._client,
            succeeded=report is not None,
            dry_run=False,
            started_at=self._started_at or datetime.now(UTC),
            records_synced=report.counts["logged"] if report is not None else 0,
            records_failed=failed,
            counts=dict(report.counts) if report is not None else {},
            figures=figures,
        )

    def finished(self, report: ActivityReport) -> None:
        """The batch is done: the run succeeded with this report."""
        self._report = report

    @property
    def workspace(self) -> Workspace:
        assert self._workspace is not None, "activity_batch_run is used inside a run"
        return self._workspace

    @property
    def days(self) -> tuple[date, date]:
        """The run's first and last UTC day (the same for a day's run)."""
        assert self._days is not None, "activity_batch_run is used inside a run"
        return self._days

    @property
    def window(self) -> tuple[datetime, datetime]:
        first, last = self.days
        return day_window(first)[0], day_window(last)[1]

    @property
    def client(self) -> HubSpotClient:
        assert self._client is not None, "activity_batch_run is used inside a run"
        return self._client


@dg.definitions
def defs() -> dg.Definitions:
    settings = SyncSettingsResource.from_settings(get_settings())
    return dg.Definitions(resources={RESOURCE: ActivityBatchRun(settings=settings)})
