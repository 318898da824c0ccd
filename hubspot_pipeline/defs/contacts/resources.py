"""`contact_sync_run`: one run of one workspace's contact sync, built once when the run starts and shared by
every stage of it (runs use the in-process executor, so the stages run in one process, one after another).

Its config is the run's mode, chosen at launch (the jobs set it; the materialize dialog shows it):

    resources:
      contact_sync_run:
        config:
          dry_run: false      # true: compute the plan and show it; write nothing anywhere
          full_resync: false  # true: leads changed by digest, every HubSpot contact read (the nightly reconcile)
"""

from datetime import UTC, datetime
from typing import Any

import dagster as dg
from pydantic import Field, PrivateAttr

from hubspot_pipeline.defs.monitoring.runs import record_workspace_run
from hubspot_pipeline.defs.workspaces import tags
from hubspot_pipeline.defs.workspaces.resources import SyncSettingsResource
from hubspot_pipeline.defs.workspaces.runs import start_workspace_run
from hubspot_pipeline.hubspot import HubSpotClient
from hubspot_pipeline.settings import get_settings
from hubspot_pipeline.sync.companies import CompanyReport
from hubspot_pipeline.sync.engine import SyncJob, SyncReport, prepare
from hubspot_pipeline.sync.figures import run_records
from hubspot_pipeline.sync.store.workspaces import Workspace

RESOURCE = "contact_sync_run"


DRY_RUN = "Compute the plan and show it on hashed_diffs; write nothing to HubSpot or the database."
FULL_RESYNC = (
    "Instead of reading only what the queues and cursors say changed: the leads whose mapped fields differ "
    "from their last sync (by digest, in PostgreSQL), and every HubSpot contact, archived ones listed too, "
    "each compared with its pair as it is read; catches anything a queue or a cursor missed."
)


def contacts_run_config(*, dry_run: bool = False, full_resync: bool = False) -> dict[str, Any]:
    """Run config of a contact sync run in this mode."""
    return {"resources": {RESOURCE: {"config": {"dry_run": dry_run, "full_resync": full_resync}}}}


class ContactSyncRun(dg.ConfigurableResource):
    """A contact sync run: its mode (dry_run, full_resync), chosen at launch. When the run starts it finds
    the workspace its partition names, tags the run, and builds what every stage shares: the workspace's
    mappings and settings and one HubSpot client (closed when the run ends). When the run ends it records
    its outcome and figures for monitoring (defs/monitoring/runs.py)."""

    dry_run: bool = Field(False, description=DRY_RUN)
    full_resync: bool = Field(False, description=FULL_RESYNC)
    settings: dg.ResourceDependency[SyncSettingsResource]

    _workspace: Workspace | None = PrivateAttr(None)
    _job: SyncJob | None = PrivateAttr(None)
    _started_at: datetime | None = PrivateAttr(None)
    _finished: tuple[SyncReport | None, CompanyReport | None] | None = PrivateAttr(None)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        self._started_at = datetime.now(UTC)
        engine = self.settings.engine()
        mode = tags.mode_tags(full=self.full_resync, dry_run=self.dry_run)
        self._workspace = start_workspace_run(context, engine, mode)
        client = self.settings.client(self._workspace.id)
        try:
            self._job = prepare(
                engine,
                client,
                self._workspace.id,
                full=self.full_resync,
                run_id=context.run.run_id if context.run else None,
                search_lag_seconds=self.settings.search_lag_seconds,
            )
        except BaseException:
            client.close()
            raise

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        if self._job is None:
            return
        if self._job.client is not None:
            self._job.client.close()
        report, companies = self._finished or (None, None)
        counts = dict(report.counts) if report else {}
        counts |= {f"companies_{k}": v for k, v in companies.__dict__.items()} if companies else {}
        synced, failed, figures = run_records(counts)
        record_workspace_run(
            context,
            self._job.engine,
            self._job.workspace_id,
            self._job.client,
            succeeded=self._finished is not None,
            dry_run=self.dry_run,
            started_at=self._started_at or datetime.now(UTC),
            records_synced=synced,
            records_failed=failed,
            counts=counts,
            figures=figures,
        )

    def finished(self, report: SyncReport | None, companies: CompanyReport | None) -> None:
        """Every selected stage is done: the run succeeded, with these results (None: not written)."""
        self._finished = (report, companies)

    @property
    def workspace(self) -> Workspace:
        assert self._workspace is not None, "contact_sync_run is used inside a run"
        return self._workspace

    @property
    def job(self) -> SyncJob:
        assert self._job is not None, "contact_sync_run is used inside a run"
        return self._job

    @property
    def client(self) -> HubSpotClient:
        assert self.job.client is not None
        return self.job.client


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(
        resources={RESOURCE: ContactSyncRun(settings=SyncSettingsResource.from_settings(get_settings()))}
    )
