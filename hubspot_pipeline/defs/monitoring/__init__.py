"""Dagster glue of monitoring: the alert rules every minute, failed runs recorded (hubspot_pipeline/monitoring)."""
