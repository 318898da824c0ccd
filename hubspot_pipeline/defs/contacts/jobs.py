"""The contact sync jobs, over the `workspace` partitions.

- `contacts_sync_job`: incremental (outbox, retry index, search cursor, webhook queue).
- `contacts_reconcile_job`: full (every lead hashed, every contact listed, archived ones too).

Launch either with partition_key=str(workspace_id) and the run config from `contacts_run_config`:

    {"ops": {"contacts__field_mappings": {"config": {"dry_run": <bool>, "full_resync": <bool>}}}}

A full resync of chosen workspaces is a backfill of `contacts_reconcile_job` from the UI.
"""

from __future__ import annotations

from typing import Any

import dagster as dg

CONTACT_ASSETS = dg.AssetSelection.groups("contacts")
CONFIG_OP = "contacts__field_mappings"


def contacts_run_config(*, dry_run: bool = False, full_resync: bool = False) -> dict[str, Any]:
    """Run config of either contact job for these options."""
    return {"ops": {CONFIG_OP: {"config": {"dry_run": dry_run, "full_resync": full_resync}}}}


contacts_sync_job = dg.define_asset_job(
    "contacts_sync_job",
    selection=CONTACT_ASSETS,
    description="Incremental contact/company sync of one workspace: only what changed on either side.",
    config=contacts_run_config(),
    tags={"sync_kind": "incremental"},
)

contacts_reconcile_job = dg.define_asset_job(
    "contacts_reconcile_job",
    selection=CONTACT_ASSETS,
    description="Full reconcile of one workspace: every lead hashed against the agreed state, every contact listed.",
    config=contacts_run_config(full_resync=True),
    tags={"sync_kind": "reconcile"},
)


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(jobs=[contacts_sync_job, contacts_reconcile_job])
