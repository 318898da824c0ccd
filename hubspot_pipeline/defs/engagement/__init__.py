"""Dagster glue for reply intents, in the main location: `engagement/reply_intents` (assets.py) and the sensor
that decides each stored reply's intent within seconds (sensors.py). The dbt models and the scores' publication
are the `engagement` code location's (hubspot_pipeline.engagement_location), so that this location never
imports dagster-dbt."""
