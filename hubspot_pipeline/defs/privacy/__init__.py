"""Dagster glue of privacy: the daily retention purge (hubspot_pipeline/privacy/retention.py). Erasures run
in the API and the command line; HubSpot's privacyDeletions in the contact sync run."""
