"""Monitoring: figures in PostgreSQL, exported at `GET /metrics`; alert rules, the alerts table and apprise
notifications. Knows nothing of Dagster (its glue is defs/monitoring/).

Recording a figure, from any area (in the transaction of the work it counts, or one of its own):

    from hubspot_pipeline import monitoring
    from hubspot_pipeline.monitoring.catalogue import LATENCY, RECORDS_SYNCED, EMAIL_EVENT_TO_HUBSPOT

    figures = monitoring.Figures()
    figures.count(RECORDS_SYNCED, 12, object_type="email", direction="to_hubspot")
    figures.observe_many(LATENCY, seconds_per_event, path=EMAIL_EVENT_TO_HUBSPOT)
    monitoring.record(conn, figures)

Modules:
    catalogue.py    every metric: name, type, help, labels (bounded by construction)
    figures.py      `Figures`: counts and observations of one piece of work, in memory
    store.py        `record(conn, figures)`: one upsert into `metric_counters`
    calls.py        a HubSpot client's counts as figures (endpoint families, errors by type, 429s)
    runs.py         `record_run`: a finished run's row, counters and audit entry, once per run id
    gauges.py       the gauges a scrape computes from the tables
    exposition.py   the prometheus-client collector behind GET /metrics
    rules.py        the alert rules: pure, figures in, firing alerts out
    facts.py        the figures the rules read, gathered from PostgreSQL
    alerts.py       the alerts table: open, keep, resolve; who is due a notification
    notify.py       apprise: the messages and their delivery
    cycle.py        one evaluation: facts -> rules -> alerts -> notifications (the alerts_sensor's body)
"""

from hubspot_pipeline.monitoring.figures import Figures
from hubspot_pipeline.monitoring.store import record, record_now

__all__ = ["Figures", "record", "record_now"]
