"""The contact sync of one workspace, in stages the Dagster assets call one by one (and `run_contact_sync`
calls in a row for the CLI, tests and benchmarks):

    job = prepare(engine, client, workspace_id, full=False)
    leads = read_changed_leads(job)                  # outbox + retry index (+ every lead, hashed, when full)
    contacts = read_changed_contacts(job, leads)     # search cursor + webhook queue + re-reads (+ list scan)
    plan = plan_sync(job, leads, contacts)           # pure: plan.build_plan
    pushed = push_contacts(job, plan)                # HubSpot: upsert new by email, update known by id
    report = record_sync(job, leads, contacts, plan, pushed)  # one transaction: leads, state, cursors

Crash safety: HubSpot is written before the database. A run killed after pushing leaves the pairs
unrecorded, so the next run pushes them again: updates by id and upserts by email are idempotent, so
nothing is duplicated. Cursors move in the same transaction as the state they cover.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

from hubspot_pipeline.db.connection import sync_writer
from hubspot_pipeline.hubspot import HubSpotClient, SearchCursor
from hubspot_pipeline.sync import store
from hubspot_pipeline.sync.hashing import hash_values
from hubspot_pipeline.sync.mapping import (
    EMAIL,
    MappingSet,
    canonical_contacts,
    canonical_leads,
    compile_mappings,
)
from hubspot_pipeline.sync.plan import NEW_LEAD_PREFIX, ROW_TIME, STATE_COLUMNS, Plan, build_plan

MERGED_IDS = "hs_merged_object_ids"
SCAN_CHUNK_ROWS = 100_000


@dataclass
class SyncJob:
    engine: sa.Engine
    client: HubSpotClient | None
    workspace_id: uuid.UUID
    mapping_set: MappingSet
    settings: store.WorkspaceSettings
    full: bool = False
    run_id: str | None = None
    # Search sees writes only after an index lag; records newer than this are left to the next run.
    search_lag_seconds: float = 30.0
    started_at: float = field(default_factory=time.time)


def prepare(
    engine: sa.Engine,
    client: HubSpotClient | None,
    workspace_id: uuid.UUID,
    *,
    full: bool = False,
    run_id: str | None = None,
    search_lag_seconds: float = 30.0,
    mapping_rows: list[dict[str, Any]] | None = None,
) -> SyncJob:
    with engine.connect() as conn:
        settings = store.workspace_settings(conn, workspace_id)
        rows = store.mapping_rows(conn, workspace_id) if mapping_rows is None else mapping_rows
    mapping_set = compile_mappings(rows, default_policy=settings.conflict_policy)
    return SyncJob(engine, client, workspace_id, mapping_set, settings, full, run_id, search_lag_seconds)


@dataclass
class ChangedLeads:
    """Leads that may need syncing, their state and per-field change times."""

    leads: pd.DataFrame  # store._tidy_leads columns
    times: pd.DataFrame  # index lead id, canonical columns + ROW_TIME
    deleted: list[str]
    state: pd.DataFrame  # index lead id, STATE_COLUMNS + attempts
    outbox_up_to: int | None
    scanned: int = 0
    unchanged_by_hash: int = 0


def read_changed_leads(job: SyncJob) -> ChangedLeads:
    with job.engine.connect() as conn:
        after = int(store.get_cursor(conn, job.workspace_id, store.OUTBOX_STREAM) or 0)
        outbox = store.read_outbox(conn, job.workspace_id, after)
        retry = store.retry_lead_ids(conn, job.workspace_id)
        if job.full:
            frames, scanned, unchanged = _scan_for_changes(conn, job)
            candidates = (
                pd.concat(frames, ignore_index=True)
                if frames
                else store.read_leads(conn, job.workspace_id, job.mapping_set)
            )
            extra = set(outbox.lead_ids) | set(retry)
            missing = extra - set(candidates["id"])
            if missing:
                candidates = pd.concat(
                    [candidates, store.read_leads(conn, job.workspace_id, job.mapping_set, ids=missing)],
                    ignore_index=True,
                )
        else:
            candidates = store.read_leads(
                conn, job.workspace_id, job.mapping_set, ids=set(outbox.lead_ids) | set(retry)
            )
            scanned, unchanged = len(candidates), 0
        candidates = candidates.drop_duplicates("id")
        state = store.read_state(conn, job.workspace_id, lead_ids=candidates["id"].tolist())
    candidates["deleted"] = candidates["deleted"].astype(bool)
    deleted = sorted(set(outbox.deleted) | set(candidates.loc[candidates["deleted"], "id"]))
    times = store.field_times_to_columns(outbox.times, job.mapping_set)
    return ChangedLeads(candidates, times, deleted, state, outbox.up_to_id, scanned, unchanged)


def _scan_for_changes(conn: sa.Connection, job: SyncJob) -> tuple[list[pd.DataFrame], int, int]:
    """Every lead, hashed in chunks; keeps those whose hash differs from the agreed one, failed ones and
    ones never synced. This is what a full resync of a million leads costs."""
    kept, unchanged = [], 0
    scanned = store.count_leads(conn, job.workspace_id)
    for chunk in store.scan_leads(conn, job.workspace_id, job.mapping_set, SCAN_CHUNK_ROWS):
        live = chunk[~chunk["tombstoned"].to_numpy(dtype=bool)]
        canonical = canonical_leads(live, job.mapping_set)
        hashes = hash_values(canonical, job.mapping_set.pushed_columns).view(np.int64)
        same = (
            (hashes == live["pair_hash64"].to_numpy(dtype=np.int64))
            & (live["pair_status"] == "synced").to_numpy(dtype=bool)
            & ~live["deleted"].to_numpy(dtype=bool)
        )
        unchanged += int(same.sum())  # changed since the digest, yet equal once canonical
        kept.append(live.loc[~same].drop(columns=["pair_status", "pair_hash64", "tombstoned"]))
    # Leads PostgreSQL left out matched their digest: unchanged too.
    return kept, scanned, scanned - sum(len(k) for k in kept)


@dataclass
class ChangedContacts:
    """HubSpot contacts read this run, what they say about deletions and merges, and where reading stopped."""

    records: list[dict[str, Any]]
    times: pd.DataFrame  # index HubSpot id, canonical columns + ROW_TIME
    archived: set[str]
    merges: dict[str, str]
    search_cursor: dict[str, int] | None
    webhook_ids: list[int]
    extra_leads: pd.DataFrame
    extra_state: pd.DataFrame


def read_changed_contacts(job: SyncJob, changed: ChangedLeads) -> ChangedContacts:
    client = job.client
    if client is None:
        raise ValueError("reading HubSpot needs a client; pass one to prepare()")
    properties = [*job.mapping_set.hubspot_properties, MERGED_IDS, "lastmodifieddate"]
    with job.engine.connect() as conn:
        saved = store.get_cursor(conn, job.workspace_id, store.SEARCH_STREAM)
        events = store.pending_webhook_events(conn, job.workspace_id)
    records: dict[str, dict[str, Any]] = {}
    archived: set[str] = set()
    cursor_json = saved
    if job.full:
        for listed, _ in client.list_pages("contacts", properties):
            records.update({str(r["id"]): r for r in listed})
        for listed, _ in client.list_pages("contacts", ["email"], archived=True):
            archived.update(str(r["id"]) for r in listed)
    cursor = SearchCursor.from_json(saved)
    for page in client.search_modified_since(
        "contacts", cursor, properties, lag_seconds=job.search_lag_seconds
    ):
        records.update({str(r["id"]): r for r in page.results})
        cursor_json = page.cursor.to_json()
    # Webhooks: property changes carry their own time (the `latest` policy uses it); deletions and merges
    # never show up in search.
    event_times: dict[str, dict[str, int]] = {}
    merges: dict[str, str] = {}
    wanted: set[str] = set()
    for event in events:
        object_id, kind = str(event["object_id"]), str(event["subscription_type"])
        if kind.endswith(".deletion") or kind.endswith(".privacyDeletion"):
            archived.add(object_id)
        elif kind.endswith(".merge"):
            payload = event["payload"] or {}
            survivor = str(payload.get("newObjectId") or payload.get("primaryObjectId") or object_id)
            for loser in payload.get("mergedObjectIds") or []:
                if str(loser) != survivor:
                    merges[str(loser)] = survivor
            wanted.add(survivor)
        elif kind.endswith(".restore"):
            archived.discard(object_id)
            wanted.add(object_id)
        else:
            wanted.add(object_id)
            if event.get("property_name"):
                slot = event_times.setdefault(object_id, {})
                slot[event["property_name"]] = max(
                    slot.get(event["property_name"], 0), int(event["occurred_at"])
                )
    # Re-read what search has not returned: webhook subjects, contacts of failed pairs, unlinked leads by email.
    retry_ids = changed.state.loc[
        changed.state["status"].eq("error") & changed.state["hubspot_id"].notna(), "hubspot_id"
    ]
    wanted |= {str(h) for h in retry_ids}
    wanted -= set(records) | archived
    if wanted:
        result = client.batch_read("contacts", sorted(wanted), properties)
        records.update({str(r["id"]): r for r in result.results})
        # A linked contact HubSpot no longer has was deleted or merged away; merges are learnt below.
        archived |= {
            e.key for e in result.errors if e.category == "OBJECT_NOT_FOUND" and e.key in set(retry_ids)
        }
    linked = set(changed.state["hubspot_id"].dropna().astype(str))
    unlinked = changed.leads.loc[
        ~changed.leads["id"].isin(changed.state.index[changed.state["hubspot_id"].notna()]), EMAIL
    ]
    emails = sorted(
        {e.strip().lower() for e in unlinked if e}
        - {str((r.get("properties") or {}).get(EMAIL) or "").lower() for r in records.values()}
    )
    if emails:
        result = client.batch_read("contacts", emails, properties, id_property="email")
        records.update({str(r["id"]): r for r in result.results})
    for record in records.values():
        for loser in str((record.get("properties") or {}).get(MERGED_IDS) or "").split(";"):
            if loser.strip() and loser.strip() != str(record["id"]):
                merges[loser.strip()] = str(record["id"])
    archived -= set(records)
    # Leads the contacts belong to that the lead side did not bring: linked ones, and unlinked by email.
    contact_ids = set(records) | archived | set(merges)
    with job.engine.connect() as conn:
        extra_state = store.read_state(conn, job.workspace_id, hubspot_ids=sorted(contact_ids - linked))
        contact_emails = {str((r.get("properties") or {}).get(EMAIL) or "").lower() for r in records.values()}
        extra_leads = store.read_leads(
            conn,
            job.workspace_id,
            job.mapping_set,
            ids=extra_state.index.tolist(),
            emails=contact_emails - set(changed.leads[EMAIL].str.lower()),
        )
        more_state = store.read_state(conn, job.workspace_id, lead_ids=extra_leads["id"].tolist())
    extra_state = pd.concat([extra_state, more_state])
    extra_state = extra_state[~extra_state.index.duplicated()]
    times = _contact_times(records, event_times)
    return ChangedContacts(
        list(records.values()),
        times,
        archived,
        merges,
        cursor_json,
        [int(e["id"]) for e in events],
        extra_leads,
        extra_state,
    )


def _contact_times(
    records: dict[str, dict[str, Any]], event_times: dict[str, dict[str, int]]
) -> pd.DataFrame:
    rows = {}
    for hubspot_id, record in records.items():
        props = record.get("properties") or {}
        modified = props.get("lastmodifieddate") or record.get("updatedAt")
        row: dict[str, Any] = {
            ROW_TIME: pd.to_datetime(modified, utc=True, errors="coerce") if modified else pd.NaT
        }
        for prop, ms in event_times.get(hubspot_id, {}).items():
            row[prop] = pd.Timestamp(ms, unit="ms", tz="UTC")
        rows[hubspot_id] = row
    return pd.DataFrame.from_dict(rows, orient="index")


def plan_sync(job: SyncJob, changed: ChangedLeads, contacts: ChangedContacts) -> Plan:
    """The 3-way plan for everything read (pure once the inputs are in memory)."""
    all_leads = pd.concat([changed.leads, contacts.extra_leads], ignore_index=True).drop_duplicates("id")
    all_leads["deleted"] = all_leads["deleted"].astype(bool)
    state = pd.concat([changed.state, contacts.extra_state])
    state = state[~state.index.duplicated()]
    live = all_leads[~all_leads["deleted"]]
    deleted = set(changed.deleted) | set(all_leads.loc[all_leads["deleted"], "id"])
    canonical = canonical_leads(live, job.mapping_set)
    frame = pd.DataFrame([{"id": r["id"], **(r.get("properties") or {})} for r in contacts.records])
    if frame.empty:
        frame = pd.DataFrame({"id": pd.Series([], dtype=object), EMAIL: pd.Series([], dtype=object)})
    contact_frame = canonical_contacts(frame, job.mapping_set)
    return build_plan(
        canonical,
        contact_frame,
        state[STATE_COLUMNS],
        job.mapping_set,
        lead_times=changed.times,
        contact_times=contacts.times,
        deleted_leads=deleted,
        archived_contacts=contacts.archived,
        merges=contacts.merges,
        on_hubspot_archive=job.settings.on_hubspot_archive,
    )


@dataclass
class PushOutcome:
    hubspot_ids: dict[str, str]  # lead id (or placeholder) -> contact id written
    errors: dict[str, str]  # lead id (or placeholder) -> what went wrong


def push_contacts(job: SyncJob, plan: Plan) -> PushOutcome:
    """Write the plan's contact changes: new contacts by upsert on email (a retry after a crash finds the
    contact it created), known ones by id (an email change must not create a second contact)."""
    client = job.client
    writes = plan.contact_writes
    outcome = PushOutcome({}, {})
    if writes.empty or client is None:
        return outcome
    creates = writes[writes["hubspot_id"].isna()]
    updates = writes[writes["hubspot_id"].notna()]
    if len(creates):
        result = client.batch_upsert(
            "contacts", [dict(p) for p in creates["properties"]], id_property="email"
        )
        failed = {e.key: e.message for e in result.errors}
        for lead_id, email in zip(creates["lead_id"], creates["email"], strict=True):
            key = str(email).strip().lower()
            if key in result.by_key:
                outcome.hubspot_ids[lead_id] = str(result.by_key[key]["id"])
            else:
                outcome.errors[lead_id] = (
                    failed.get(key) or failed.get("?") or "HubSpot did not confirm this contact"
                )
    if len(updates):
        result = client.batch_update(
            "contacts",
            {str(h): dict(p) for h, p in zip(updates["hubspot_id"], updates["properties"], strict=True)},
        )
        failed = {e.key: e.message for e in result.errors}
        for lead_id, hubspot_id in zip(updates["lead_id"], updates["hubspot_id"], strict=True):
            if str(hubspot_id) in result.by_key:
                outcome.hubspot_ids[lead_id] = str(hubspot_id)
            else:
                outcome.errors[lead_id] = failed.get(str(hubspot_id)) or "HubSpot did not confirm this update"
    return outcome


@dataclass
class SyncReport:
    workspace_id: str
    dry_run: bool
    full: bool
    counts: dict[str, int]
    errors: int
    api_calls: int
    seconds: float
    conflicts: list[dict[str, Any]] = field(default_factory=list)  # a sample
    error_samples: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return self.__dict__.copy()


def record_sync(
    job: SyncJob, changed: ChangedLeads, contacts: ChangedContacts, plan: Plan, pushed: PushOutcome
) -> SyncReport:
    """Write leads, state, conflicts and cursors in one transaction, under the sync's writer setting."""
    errors = dict(pushed.errors)
    lead_writes = plan.lead_writes
    creating = (
        lead_writes["lead_id"].astype(str).str.startswith(NEW_LEAD_PREFIX)
        if len(lead_writes)
        else pd.Series([], dtype=bool)
    )
    with job.engine.begin() as conn, sync_writer(conn):
        new_ids = (
            store.insert_leads(
                conn,
                job.workspace_id,
                [
                    (p, f)
                    for p, f in zip(
                        lead_writes.loc[creating, "lead_id"], lead_writes.loc[creating, "fields"], strict=True
                    )
                ],
            )
            if len(lead_writes)
            else {}
        )
        updates = (
            [
                (i, f)
                for i, f in zip(
                    lead_writes.loc[~creating, "lead_id"], lead_writes.loc[~creating, "fields"], strict=True
                )
                if i not in errors
            ]
            if len(lead_writes)
            else []
        )
        errors.update(store.apply_lead_updates(conn, job.workspace_id, updates))
        store.soft_delete_leads(conn, job.workspace_id, plan.lead_deletes)
        synced, failed, unsettled = [], [], 0
        for row in plan.agreed.to_dict("records"):
            key = str(row["lead_id"])
            lead_id = new_ids.get(key, None if key.startswith(NEW_LEAD_PREFIX) else key)
            hubspot_id = (
                row["hubspot_id"] if isinstance(row["hubspot_id"], str) else pushed.hubspot_ids.get(key)
            )
            if lead_id is None:
                unsettled += 1  # a lead to create from HubSpot was not created: its contact is read again
                continue
            if key in errors or hubspot_id is None:
                failed.append(
                    {
                        "lead_id": lead_id,
                        "hubspot_id": hubspot_id,
                        "error": errors.get(key, "HubSpot did not return the contact's id"),
                    }
                )
            else:
                synced.append(
                    {
                        "lead_id": lead_id,
                        "hubspot_id": hubspot_id,
                        "agreed": row["agreed"],
                        "sync_hash": row["sync_hash"],
                    }
                )
        store.record_synced(conn, job.workspace_id, synced, job.mapping_set)
        store.record_failed(conn, job.workspace_id, failed)
        store.record_tombstones(conn, job.workspace_id, plan.tombstones.to_dict("records"))
        store.forget_pairs(conn, job.workspace_id, plan.unlinks)
        for lead_id, survivor in plan.relinks.items():
            if lead_id not in {r["lead_id"] for r in synced}:
                conn.execute(
                    sa.text(
                        "UPDATE hubspot_sync_status SET hubspot_id = :h WHERE workspace_id = :w "
                        "AND entity_type = 'contact' AND entity_id = CAST(:l AS uuid)"
                    ),
                    {"h": survivor, "w": job.workspace_id, "l": lead_id},
                )
        store.record_conflicts(conn, job.workspace_id, plan.conflicts, job.run_id)
        if changed.outbox_up_to is not None:
            store.set_cursor(conn, job.workspace_id, store.OUTBOX_STREAM, changed.outbox_up_to)
        if contacts.search_cursor is not None and not unsettled:
            store.set_cursor(conn, job.workspace_id, store.SEARCH_STREAM, contacts.search_cursor)
        store.mark_webhooks_processed(conn, contacts.webhook_ids)
    counts = plan.counts() | {
        "synced": len(synced),
        "failed": len(failed),
        "scanned": changed.scanned,
        "unchanged": plan.unchanged + changed.unchanged_by_hash,
    }
    return _report(job, plan, counts, len(failed), [str(f["error"]) for f in failed[:5]], dry_run=False)


def _report(
    job: SyncJob, plan: Plan, counts: dict[str, int], errors: int, samples: list[str], *, dry_run: bool
) -> SyncReport:
    calls = job.client.metrics.total_calls() if job.client is not None else 0
    conflicts = plan.conflicts.head(10).astype(object).where(plan.conflicts.head(10).notna(), None)
    return SyncReport(
        str(job.workspace_id),
        dry_run,
        job.full,
        {k: int(v) for k, v in counts.items()},
        errors,
        calls,
        round(time.time() - job.started_at, 3),
        [_plain(r) for r in conflicts.to_dict("records")],
        samples,
    )


def _plain(row: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v, datetime | pd.Timestamp) else v) for k, v in row.items()}


def dry_run_report(job: SyncJob, changed: ChangedLeads, plan: Plan) -> SyncReport:
    counts = plan.counts() | {
        "scanned": changed.scanned,
        "unchanged": plan.unchanged + changed.unchanged_by_hash,
    }
    return _report(job, plan, counts, 0, [], dry_run=True)


def run_contact_sync(
    engine: sa.Engine,
    client: HubSpotClient,
    workspace_id: uuid.UUID,
    *,
    full: bool = False,
    dry_run: bool = False,
    run_id: str | None = None,
    search_lag_seconds: float = 30.0,
) -> SyncReport:
    """One whole sync of a workspace's contacts (all stages in a row)."""
    job = prepare(
        engine, client, workspace_id, full=full, run_id=run_id, search_lag_seconds=search_lag_seconds
    )
    changed = read_changed_leads(job)
    contacts = read_changed_contacts(job, changed)
    plan = plan_sync(job, changed, contacts)
    if dry_run:
        return dry_run_report(job, changed, plan)
    pushed = push_contacts(job, plan)
    report = record_sync(job, changed, contacts, plan, pushed)
    from hubspot_pipeline.sync.companies import sync_companies

    companies = sync_companies(job, changed, contacts, pushed)
    report.counts |= {f"companies_{k}": v for k, v in companies.__dict__.items()}
    return report


def utc_now() -> datetime:
    return datetime.now(UTC)
