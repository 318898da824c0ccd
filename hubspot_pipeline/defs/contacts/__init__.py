"""Dagster glue for the contact/company sync of a workspace: one asset per stage computed by one op
(assets.py; which stages may run together: selection.py; what each shows: metadata.py), the run-scoped
resource with the run's mode (resources.py), jobs, schedules, the lead outbox sensor and the checks. The
work itself is in hubspot_pipeline.sync (engine.py names its stages)."""
