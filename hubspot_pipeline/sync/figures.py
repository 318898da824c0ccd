"""What a contact sync run recorded, as monitoring figures: contacts written each way and failed, and how long
changes took to cross (a lead's latest outbox change to the push that carried it; a HubSpot edit's webhook
time to the lead written from it). Computed from what the run already holds in memory; `record_sync` adds
them in the transaction that commits the writes they count. Pure."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from hubspot_pipeline.monitoring import Figures
from hubspot_pipeline.monitoring.catalogue import (
    HUBSPOT_EDIT_TO_LEAD,
    LATENCY,
    LEAD_CHANGE_TO_HUBSPOT,
    RECORDS_FAILED,
    RECORDS_SYNCED,
)
from hubspot_pipeline.sync.core.markers import NEW_LEAD_PREFIX, ROW_TIME
from hubspot_pipeline.sync.core.plan import Plan
from hubspot_pipeline.sync.push import PushOutcome
from hubspot_pipeline.sync.reads import ChangedContacts, ChangedLeads

CONTACT = "contact"
COMPANY = "company"


def _seconds_since(times: pd.DataFrame, ids: list[str], now: pd.Timestamp) -> list[float]:
    """now minus each id's latest time in `times` (ids without one are left out)."""
    known = [i for i in ids if i in times.index]
    if not known or times.empty:
        return []
    latest = times.loc[known].max(axis=1, skipna=True).dropna()
    return [float(s) for s in (now - pd.to_datetime(latest, utc=True)).dt.total_seconds()]


def contact_sync_figures(
    changed: ChangedLeads,
    contacts: ChangedContacts,
    plan: Plan,
    pushed: PushOutcome,
    errors: Mapping[str, str],
    created: Mapping[str, str],
    now: pd.Timestamp | None = None,
) -> Figures:
    """`errors`: lead id -> error after every write (pushes and lead updates); `created`: placeholder -> new
    lead id of the leads created from HubSpot contacts."""
    now = now if now is not None else pd.Timestamp.now(tz="UTC")
    figures = Figures()
    figures.count(RECORDS_SYNCED, len(pushed.hubspot_ids), object_type=CONTACT, direction="to_hubspot")
    figures.count(RECORDS_FAILED, len(pushed.errors), object_type=CONTACT, direction="to_hubspot")
    writes = plan.lead_writes
    pulled_ok: list[str] = []  # HubSpot ids of the contacts whose values reached their lead
    pulled_failed = 0
    if len(writes):
        for lead_id, hubspot_id in zip(writes["lead_id"].astype(str), writes["hubspot_id"], strict=True):
            if lead_id.startswith(NEW_LEAD_PREFIX):
                ok = lead_id in created
            elif lead_id in pushed.errors:
                continue  # the pair failed on its way to HubSpot: its update was not attempted
            else:
                ok = lead_id not in errors
            if ok:
                pulled_ok.append(str(hubspot_id))
            else:
                pulled_failed += 1
    figures.count(RECORDS_SYNCED, len(pulled_ok), object_type=CONTACT, direction="from_hubspot")
    pulled_failed += len(plan.refused)  # values PostgreSQL cannot store: left out of the plan's writes
    figures.count(RECORDS_FAILED, pulled_failed, object_type=CONTACT, direction="from_hubspot")
    # A lead's latest change in the outbox (any mapped field) to now, when the run records the push.
    figures.observe_many(
        LATENCY, _seconds_since(changed.times, list(pushed.hubspot_ids), now), path=LEAD_CHANGE_TO_HUBSPOT
    )
    # A contact's latest webhook event time to now, when its lead is written; contacts read by search
    # alone carry only their modification time (ROW_TIME), which is not an event: left out.
    events = contacts.times.drop(columns=[ROW_TIME], errors="ignore")
    figures.observe_many(LATENCY, _seconds_since(events, pulled_ok, now), path=HUBSPOT_EDIT_TO_LEAD)
    return figures


def run_records(counts: Mapping[str, int | float]) -> tuple[int, int, Figures]:
    """A run's records synced and failed (contact pairs, companies) and its company figures, from its
    report's counts, companies' under `companies_*` as `run_contact_sync` merges them."""
    companies = int(counts.get("companies_created", 0)) + int(counts.get("companies_updated", 0))
    pulled = int(counts.get("companies_pulled", 0))  # ColdCopy companies updated from HubSpot
    company_errors = int(counts.get("companies_errors", 0))
    figures = Figures()
    figures.count(RECORDS_SYNCED, companies, object_type=COMPANY, direction="to_hubspot")
    figures.count(RECORDS_SYNCED, pulled, object_type=COMPANY, direction="from_hubspot")
    figures.count(RECORDS_FAILED, company_errors, object_type=COMPANY, direction="to_hubspot")
    synced = int(counts.get("synced", 0)) + companies + pulled
    return synced, int(counts.get("failed", 0)) + company_errors, figures
