"""Dagster glue for the email activity: `activities/activity_batches`, partitioned by UTC day x workspace
(assets.py), the run-scoped resource (resources.py), the job, the sensors that log events as they arrive, close
yesterday and catch up on every pending day (sensors.py), and the checks. The work itself is in
hubspot_pipeline.activities (engine.py)."""
