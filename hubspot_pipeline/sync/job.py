"""One sync run of one workspace: its database, HubSpot client, mappings, settings and mode."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from hubspot_pipeline.hubspot import HubSpotClient
from hubspot_pipeline.sync.core.mapping import MappingSet, compile_company_mappings, compile_mappings
from hubspot_pipeline.sync.core.pages import PAGE_SIZE
from hubspot_pipeline.sync.store import settings as saved


@dataclass
class SyncJob:
    engine: sa.Engine
    client: HubSpotClient | None
    workspace_id: uuid.UUID
    mapping_set: MappingSet
    settings: saved.WorkspaceSettings
    full: bool = False
    run_id: str | None = None
    # Search sees writes only after an index lag; records newer than this are left to the next run.
    search_lag_seconds: float = 30.0
    started_at: float = field(default_factory=time.time)
    # The company mappings, DOMAIN_MAPPING first; DEFAULT_COMPANY_MAPPINGS when the workspace saved none.
    company_mapping_set: MappingSet = field(default_factory=lambda: compile_company_mappings(None))
    # Pairs recorded per page while the push goes on (sync/paged_push.py); below 100, also per push call.
    page_size: int = PAGE_SIZE


def prepare(
    engine: sa.Engine,
    client: HubSpotClient | None,
    workspace_id: uuid.UUID,
    *,
    full: bool = False,
    run_id: str | None = None,
    search_lag_seconds: float = 30.0,
    mapping_rows: list[dict[str, Any]] | None = None,
) -> SyncJob:
    with engine.connect() as conn:
        settings = saved.workspace_settings(conn, workspace_id)
        rows = saved.mapping_rows(conn, workspace_id) if mapping_rows is None else mapping_rows
    mapping_set = compile_mappings(rows, default_policy=settings.conflict_policy)
    companies = compile_company_mappings(rows, default_policy=settings.conflict_policy)
    return SyncJob(
        engine,
        client,
        workspace_id,
        mapping_set,
        settings,
        full,
        run_id,
        search_lag_seconds,
        company_mapping_set=companies,
    )
