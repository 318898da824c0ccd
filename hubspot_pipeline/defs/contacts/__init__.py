"""Dagster glue for the contact/company sync: workspace partitions, assets per stage, jobs, schedules,
sensors and checks. The work itself is in hubspot_pipeline.sync (engine.py, store.py, plan.py)."""
