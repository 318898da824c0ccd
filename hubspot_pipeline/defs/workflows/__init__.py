"""Dagster glue for workflow triggers: `workflows/trigger_executions`, partitioned by workspace (assets.py),
the run-scoped resource (resources.py), the job, and `engagement_threshold_sensor` (sensors.py). The work
itself is in hubspot_pipeline.workflows (engine.py)."""
