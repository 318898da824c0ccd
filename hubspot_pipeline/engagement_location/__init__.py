"""The second Dagster code location, `engagement` (workspace.yaml): the dbt project's models as assets, through
dagster-dbt, and the publication of their scores to `lead_engagement` (and so to HubSpot).

A location of its own because dagster-dbt is heavy to import (round 1 measured 1.2 s of a 3.1 s import of the
definitions, from its component discovery): the main location, loaded by every run process of the contact
sync, the activities and the sensors, never imports it. Asset keys are global, so the UI draws one lineage
across both locations: coldcopy/email_events -> engagement/stg_* -> engagement/lead_engagement_scores ->
engagement/lead_engagement -> contacts/leads -> ... -> HubSpot contacts.
"""
