"""What each stage of the contact sync shows on its materialization: counts, ids and field names. Never an
email or a name: materialization metadata is stored in Dagster's event log, and personal data must not be."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import dagster as dg

from hubspot_pipeline.sync.core.plan import Plan
from hubspot_pipeline.sync.engine import ChangedContacts, ChangedLeads, PushOutcome, SyncReport

if TYPE_CHECKING:
    from hubspot_pipeline.privacy.hubspot_deletions import PrivacyDeletions

SAMPLES = 5
_EMAIL = re.compile(r"[^\s@\"'<>(),;:\[\]]+@[^\s@\"'<>(),;:\[\]]+")


def without_emails(text: str) -> str:
    """HubSpot's error messages may quote the value they refused; keep the message, drop the address."""
    return _EMAIL.sub("<email>", text)


def error_samples(messages: list[str]) -> dg.MetadataValue:
    return dg.MetadataValue.json(sorted({without_emails(m) for m in messages})[:SAMPLES])


def leads_metadata(leads: ChangedLeads, erased: PrivacyDeletions | None = None) -> dict[str, Any]:
    return {
        "dagster/row_count": len(leads.leads),
        "deleted": len(leads.deleted),
        "scanned": leads.scanned,
        "unchanged_by_hash": leads.unchanged_by_hash,
        "outbox_up_to": leads.outbox_up_to or 0,
        # People HubSpot erased (contact.privacyDeletion), erased here before reading; repeats did nothing.
        "privacy_erased": erased.erased if erased else 0,
        "privacy_repeats": erased.repeats if erased else 0,
    }


def contacts_metadata(contacts: ChangedContacts) -> dict[str, Any]:
    return {
        "dagster/row_count": len(contacts.records),
        "archived": len(contacts.archived),
        "merged": len(contacts.merges),
        "webhook_events": len(contacts.webhook_ids),
    }


def diffs_metadata(plan: Plan, leads: ChangedLeads) -> dict[str, Any]:
    # Samples name records by id and fields by name.
    pushes = [
        {"lead_id": r["lead_id"], "hubspot_id": r["hubspot_id"], "properties": sorted(r["properties"])}
        for r in plan.contact_writes.head(SAMPLES).to_dict("records")
    ]
    pulls = [
        {"lead_id": r["lead_id"], "fields": sorted(r["fields"])}
        for r in plan.lead_writes.head(SAMPLES).to_dict("records")
    ]
    conflicts = [
        {k: r[k] for k in ("lead_id", "field", "policy", "winner")}
        for r in plan.conflicts.head(SAMPLES).to_dict("records")
    ]
    return {
        **plan.counts(),
        "scanned": leads.scanned,
        "unchanged": plan.unchanged + leads.unchanged_by_hash,
        "sample_pushes": dg.MetadataValue.json(pushes),
        "sample_pulls": dg.MetadataValue.json(pulls),
        "sample_conflicts": dg.MetadataValue.json(conflicts),
    }


def pushed_metadata(outcome: PushOutcome) -> dict[str, Any]:
    return {
        "written": len(outcome.hubspot_ids),
        "failed": len(outcome.errors),
        "sample_errors": error_samples(list(outcome.errors.values())),
    }


def state_metadata(report: SyncReport) -> dict[str, Any]:
    return {
        **report.counts,
        "errors": report.errors,
        "sample_errors": error_samples(report.error_samples),
    }
