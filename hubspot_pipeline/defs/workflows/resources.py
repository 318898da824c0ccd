"""`workflow_trigger_run`: one run of one workspace's triggers, built once when the run starts: the workspace
its partition key names and what acting needs (the workspace's HubSpot client, on the portal's shared rate
limiter, built on first use; the custom-action sender), closed when the run ends, which records the run for
monitoring."""

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import dagster as dg
from pydantic import PrivateAttr

from hubspot_pipeline.defs.monitoring.runs import record_workspace_run
from hubspot_pipeline.defs.workspaces import tags
from hubspot_pipeline.defs.workspaces.resources import SyncSettingsResource
from hubspot_pipeline.defs.workspaces.runs import start_workspace_run
from hubspot_pipeline.monitoring import Figures
from hubspot_pipeline.monitoring.catalogue import RECORDS_FAILED
from hubspot_pipeline.settings import get_settings
from hubspot_pipeline.sync.store.workspaces import Workspace

if (
    TYPE_CHECKING
):  # the engine is imported by trigger runs only, not by every run process of the code location
    from hubspot_pipeline.workflows.engine import Actors, EvaluationReport, RunReport

RESOURCE = "workflow_trigger_run"
MODE = {tags.SYNC_KIND: "workflows"}


class WorkflowTriggerRun(dg.ConfigurableResource):
    """The run's workspace (named by the partition key) and its actors. When the run ends it records its
    outcome and figures for monitoring."""

    settings: dg.ResourceDependency[SyncSettingsResource]

    _workspace: Workspace | None = PrivateAttr(None)
    _actors: Any = PrivateAttr(None)  # Actors
    _started_at: datetime | None = PrivateAttr(None)
    _report: Any = PrivateAttr(None)  # (EvaluationReport, RunReport)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        from hubspot_pipeline.workflows.engine import actors_for

        self._started_at = datetime.now(UTC)
        engine = self.settings.engine()
        self._workspace = start_workspace_run(context, engine, MODE)
        workspace_id = self._workspace.id
        self._actors = actors_for(engine, workspace_id, lambda: self.settings.client(workspace_id))

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        client = self._actors.opened_client if self._actors is not None else None
        if self._actors is not None:
            self._actors.close()
        if client is not None:
            client.close()
        if self._workspace is None:
            return
        counts = dict(self._report[1].counts) if self._report is not None else {}
        figures = Figures()
        figures.count(
            RECORDS_FAILED, counts.get("failed", 0), object_type="workflow_execution", direction="to_hubspot"
        )
        record_workspace_run(
            context,
            self.settings.engine(),
            self._workspace.id,
            client,
            succeeded=self._report is not None,
            dry_run=False,
            started_at=self._started_at or datetime.now(UTC),
            records_synced=counts.get("success", 0),
            records_failed=counts.get("failed", 0),
            counts=counts,
            figures=figures,
        )

    def finished(self, evaluation: "EvaluationReport", report: "RunReport") -> None:
        self._report = (evaluation, report)

    @property
    def workspace(self) -> Workspace:
        assert self._workspace is not None, "workflow_trigger_run is used inside a run"
        return self._workspace

    @property
    def actors(self) -> "Actors":
        assert self._actors is not None, "workflow_trigger_run is used inside a run"
        return self._actors


@dg.definitions
def defs() -> dg.Definitions:
    settings = SyncSettingsResource.from_settings(get_settings())
    return dg.Definitions(resources={RESOURCE: WorkflowTriggerRun(settings=settings)})
