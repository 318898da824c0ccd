"""The audit log, as the API's routes write it: `audit.record(conn, ...)` (hubspot_pipeline/db/audit.py)."""

from hubspot_pipeline.db.audit import record

__all__ = ["record"]
