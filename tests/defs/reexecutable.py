"""A contact sync job that `dg.execute_job` can rebuild (re-execution needs a reconstructable job), bound to
the test database and sandbox that the test sets in RESOURCES before running it."""

from __future__ import annotations

import dagster as dg

from hubspot_pipeline.defs.contacts import assets, jobs

RESOURCES: dict[str, object] = {}


def contacts_sync_job() -> dg.JobDefinition:
    # In process, as the project's definitions run it (definitions.py).
    shape = dg.Definitions(resources=RESOURCES, executor=dg.in_process_executor)
    defs = dg.Definitions.merge(assets.defs(), jobs.defs(), shape)
    return defs.resolve_job_def("contacts_sync_job")
