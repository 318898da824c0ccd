"""The read stages of a sync run: changed leads (outbox, retry index, or every lead by digest and hash),
changed HubSpot contacts (search cursor, webhook queue, re-reads, list scans), and the plan over both."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

from hubspot_pipeline.hubspot import SearchCursor
from hubspot_pipeline.sync.contact_scan import ContactScanRun, start_scan
from hubspot_pipeline.sync.core.hashing import hash_values
from hubspot_pipeline.sync.core.leads import Leads, field_times_to_columns
from hubspot_pipeline.sync.core.mapping import EMAIL, canonical_contacts, contact_records_frame
from hubspot_pipeline.sync.core.markers import NEW_LEAD_PREFIX, ROW_TIME, STATE_COLUMNS
from hubspot_pipeline.sync.core.plan import Plan, build_plan
from hubspot_pipeline.sync.core.webhooks import event_effects, is_event_of
from hubspot_pipeline.sync.job import SyncJob
from hubspot_pipeline.sync.store import leads as lead_store
from hubspot_pipeline.sync.store import queues
from hubspot_pipeline.sync.store import state as pair_state

MERGED_IDS = "hs_merged_object_ids"
ADDITIONAL_EMAILS = "hs_additional_emails"  # a merged-away contact's email goes there (reference §2.6)
SCAN_CHUNK_ROWS = 100_000


@dataclass
class ChangedLeads:
    """Leads that may need syncing, their state and per-field change times."""

    leads: Leads
    times: pd.DataFrame  # index lead id, canonical columns + ROW_TIME
    deleted: list[str]
    state: pd.DataFrame  # index lead id, STATE_COLUMNS + attempts
    outbox_up_to: int | None
    scanned: int = 0
    unchanged_by_hash: int = 0
    # The outbox's change times by lead field (index lead id; ROW_TIME for inserts and deletes): the
    # companies read which fields changed, mapped to a contact property or not.
    field_times: pd.DataFrame = field(default_factory=pd.DataFrame)
    # A full run's contact scan, started before the leads were read so that both sides are read at once;
    # read_changed_contacts takes it over.
    contact_scan: ContactScanRun | None = None


def contact_properties(job: SyncJob) -> list[str]:
    """The contact properties a run reads: the mapped ones and what merges and change times need."""
    return [*job.mapping_set.hubspot_properties, MERGED_IDS, ADDITIONAL_EMAILS, "lastmodifieddate"]


def read_changed_leads(job: SyncJob) -> ChangedLeads:
    """The leads that may need syncing. A full run first starts reading every HubSpot contact (contact_scan):
    its digest scan of every lead then runs while the walks wait on HubSpot's budgets."""
    scan = start_scan(job, contact_properties(job)) if job.full and job.client is not None else None
    try:
        changed = _read_changed_leads(job)
    except BaseException:
        if scan is not None:
            scan.cancel()
        raise
    changed.contact_scan = scan
    return changed


def _read_changed_leads(job: SyncJob) -> ChangedLeads:
    with job.engine.connect() as conn:
        after = int(queues.get_cursor(conn, job.workspace_id, queues.OUTBOX_STREAM) or 0)
        outbox = queues.read_outbox(conn, job.workspace_id, after)
        retry = pair_state.retry_lead_ids(conn, job.workspace_id)
        named = set(outbox.lead_ids) | set(retry)
        if job.full:
            parts, scanned, unchanged = _scan_for_changes(conn, job)
            missing = named - {i for part in parts for i in part.ids}
            if missing:
                parts.append(
                    lead_store.read_leads(
                        conn, job.workspace_id, job.mapping_set, ids=missing, also=job.company_mapping_set
                    )
                )
            candidates = (
                Leads.union(parts)
                if parts
                else lead_store.read_leads(
                    conn, job.workspace_id, job.mapping_set, also=job.company_mapping_set
                )
            )
        else:
            candidates = Leads.union(
                [
                    lead_store.read_leads(
                        conn, job.workspace_id, job.mapping_set, ids=named, also=job.company_mapping_set
                    )
                ]
            )
            scanned, unchanged = len(candidates), 0
        # Leads the outbox or the retry index name that are no longer in `leads` were deleted outright:
        # their state is read too, so their pairs end instead of being retried forever.
        gone = named - set(candidates.ids)
        pairs = pair_state.read_state(conn, job.workspace_id, lead_ids=[*candidates.ids, *gone])
    raw = candidates.raw
    deleted = sorted(set(outbox.deleted) | set(raw.loc[raw["deleted"], "id"]) | gone)
    times = field_times_to_columns(outbox.times, job.mapping_set)
    return ChangedLeads(candidates, times, deleted, pairs, outbox.up_to_id, scanned, unchanged, outbox.times)


def _scan_for_changes(conn: sa.Connection, job: SyncJob) -> tuple[list[Leads], int, int]:
    """Every lead, hashed in chunks; keeps those whose hash differs from the agreed one, failed ones and
    ones never synced. This is what a full resync of a million leads costs."""
    kept: list[Leads] = []
    unchanged = 0
    scanned = lead_store.count_leads(conn, job.workspace_id)
    for chunk in lead_store.scan_leads(
        conn, job.workspace_id, job.mapping_set, SCAN_CHUNK_ROWS, also=job.company_mapping_set
    ):
        live = chunk[~chunk["tombstoned"].to_numpy(dtype=bool)]
        leads = Leads.of(live.drop(columns=["pair_status", "pair_hash64", "tombstoned"]), job.mapping_set)
        hashes = hash_values(leads.canonical, job.mapping_set.pushed_columns).view(np.int64)
        same = (
            (hashes == live["pair_hash64"].to_numpy(dtype=np.int64))
            & (live["pair_status"] == "synced").to_numpy(dtype=bool)
            & ~live["deleted"].to_numpy(dtype=bool)
        )
        unchanged += int(same.sum())  # changed since the digest, yet equal once canonical
        kept.append(leads.where(~same))
    # Leads PostgreSQL left out matched their digest: unchanged too.
    return kept, scanned, scanned - sum(len(k) for k in kept)


@dataclass
class ChangedContacts:
    """HubSpot contacts read this run, what they say about deletions and merges, and where reading stopped."""

    records: list[dict[str, Any]]
    times: pd.DataFrame  # index HubSpot id, canonical columns + ROW_TIME
    archived: set[str]
    merges: dict[str, str]
    merge_primaries: dict[str, str]  # survivor -> the primary of its merge, from merge events
    additional_emails: dict[str, set[str]]  # merge survivor -> its additional emails (lowercase)
    search_cursor: dict[str, int] | None
    webhook_ids: list[int]
    extra_leads: Leads
    extra_state: pd.DataFrame
    # Full resync (contact_scan.py): the read's wall seconds, CPU seconds comparing the contacts read with
    # their pairs (while the walks wait on HubSpot), wall seconds reading the pairs' hashes (beside the read)
    full_read_seconds: float = 0.0
    compare_seconds: float = 0.0
    pairs_seconds: float = 0.0
    # Wall seconds of this stage spent on ColdCopy's side with no HubSpot call in flight: comparing what
    # arrived after the last page, reading the leads and pairs of the contacts read, their change times.
    coldcopy_seconds: float = 0.0


def read_changed_contacts(job: SyncJob, changed: ChangedLeads) -> ChangedContacts:
    client = job.client
    if client is None:
        raise ValueError("reading HubSpot needs a client; pass one to prepare()")
    properties = contact_properties(job)
    with job.engine.connect() as conn:
        saved = queues.get_cursor(conn, job.workspace_id, queues.SEARCH_STREAM)
        events = queues.pending_webhook_events(conn, job.workspace_id)
    records: dict[str, dict[str, Any]] = {}
    archived: set[str] = set()
    cursor_json = saved
    cursor = SearchCursor.from_json(saved)
    scan = None
    later: set[str] = set()  # contacts read after the archived listing
    if job.full:
        # Every contact through both budgets at once, compared with its pair as it arrives (contact_scan.py).
        scan = (changed.contact_scan or start_scan(job, properties)).result()
        records.update(scan.records)
        for listed, _ in client.list_pages("contacts", ["email"], archived=True):
            archived.update(str(r["id"]) for r in listed)
        # Everything modified before the read began (less the index lag) was read: search from there on.
        floor = SearchCursor(scan.started_ms - int(max(job.search_lag_seconds, 0.0) * 1000), 0)
        if (cursor.modified_ms, cursor.object_id) < (floor.modified_ms, floor.object_id):
            cursor, cursor_json = floor, floor.to_json()
    for page in client.search_modified_since(
        "contacts", cursor, properties, lag_seconds=job.search_lag_seconds
    ):
        records.update({str(r["id"]): r for r in page.results})
        later.update(str(r["id"]) for r in page.results)
        cursor_json = page.cursor.to_json()
    # Webhooks: deletions and merges never show up in search; property changes carry their own time.
    effects = event_effects(events, "contact")
    archived = (archived - effects.restored) | effects.archived
    merges, wanted, event_times = dict(effects.merges), set(effects.wanted), effects.times
    # Re-read what search has not returned: webhook subjects, contacts of failed pairs, unlinked leads by email.
    retry_ids = changed.state.loc[
        changed.state["status"].eq("error") & changed.state["hubspot_id"].notna(), "hubspot_id"
    ]
    wanted |= {str(h) for h in retry_ids}
    wanted -= set(records) | archived
    if wanted:
        result = client.batch_read("contacts", sorted(wanted), properties)
        records.update({str(r["id"]): r for r in result.results})
        later.update(str(r["id"]) for r in result.results)
        # A linked contact HubSpot no longer has was deleted or merged away; merges are learnt below.
        archived |= {
            e.key for e in result.errors if e.category == "OBJECT_NOT_FOUND" and e.key in set(retry_ids)
        }
    linked = set(changed.state["hubspot_id"].dropna().astype(str))
    lead_rows = changed.leads.raw
    unlinked = lead_rows.loc[
        ~lead_rows["id"].isin(changed.state.index[changed.state["hubspot_id"].notna()]), EMAIL
    ]
    emails = sorted(
        {e.strip().lower() for e in unlinked if e}
        - {str((r.get("properties") or {}).get(EMAIL) or "").lower() for r in records.values()}
    )
    if emails:
        result = client.batch_read("contacts", emails, properties, id_property="email")
        records.update({str(r["id"]): r for r in result.results})
        later.update(str(r["id"]) for r in result.results)
    if scan is not None:
        # Archived after the full read read it (or shown by a lagging search index): the archived listing
        # came later, so it wins; what was read after the listing (search, re-reads) wins over it.
        for hubspot_id in (archived & set(scan.records)) - later:
            del records[hubspot_id]
    additional: dict[str, set[str]] = {}
    for record in records.values():
        props = record.get("properties") or {}
        for loser in str(props.get(MERGED_IDS) or "").split(";"):
            if loser.strip() and loser.strip() != str(record["id"]):
                merges[loser.strip()] = str(record["id"])
                emails = str(props.get(ADDITIONAL_EMAILS) or "").split(";")
                additional[str(record["id"])] = {e.strip().lower() for e in emails if e.strip()}
    archived -= set(records)
    # Leads the contacts belong to that the lead side did not bring: linked ones, and unlinked by email.
    own_started = time.perf_counter()
    contact_ids = set(records) | archived | set(merges)
    with job.engine.connect() as conn:
        extra_state = pair_state.read_state(conn, job.workspace_id, hubspot_ids=sorted(contact_ids - linked))
        contact_emails = {str((r.get("properties") or {}).get(EMAIL) or "").lower() for r in records.values()}
        extra_leads = lead_store.read_leads(
            conn,
            job.workspace_id,
            job.mapping_set,
            ids=extra_state.index.tolist(),
            emails=contact_emails - set(lead_rows[EMAIL].str.lower()),
            also=job.company_mapping_set,
        )
        more_state = pair_state.read_state(conn, job.workspace_id, lead_ids=extra_leads.ids.tolist())
    extra_state = pd.concat([extra_state, more_state])
    extra_state = extra_state[~extra_state.index.duplicated()]
    times = _contact_times(records, event_times)
    own = time.perf_counter() - own_started + (scan.tail_seconds if scan is not None else 0.0)
    return ChangedContacts(
        list(records.values()),
        times,
        archived,
        merges,
        dict(effects.primaries),
        additional,
        cursor_json,
        # The company sync marks the company events it reads (companies.py), after it has recorded them.
        [int(e["id"]) for e in events if not (job.settings.sync_companies and is_event_of(e, "company"))],
        extra_leads,
        extra_state,
        scan.stats.seconds if scan is not None else 0.0,
        scan.compare_seconds if scan is not None else 0.0,
        scan.pairs_seconds if scan is not None else 0.0,
        round(own, 3),
    )


def _contact_times(
    records: dict[str, dict[str, Any]], event_times: dict[str, dict[str, int]]
) -> pd.DataFrame:
    modified = [
        (record.get("properties") or {}).get("lastmodifieddate") or record.get("updatedAt")
        for record in records.values()
    ]
    stamps = _parse_times(modified)
    rows = {}
    for (hubspot_id, _record), stamp in zip(records.items(), stamps, strict=True):
        row: dict[str, Any] = {ROW_TIME: stamp}
        for prop, ms in event_times.get(hubspot_id, {}).items():
            row[prop] = pd.Timestamp(ms, unit="ms", tz="UTC")
        rows[hubspot_id] = row
    return pd.DataFrame.from_dict(rows, orient="index")


def plan_sync(job: SyncJob, changed: ChangedLeads, contacts: ChangedContacts) -> Plan:
    """The 3-way plan for everything read. Pure once the inputs are in memory, except that conflicts under
    `latest` are decided by each field's own change times: when the first plan has such conflicts, the
    times of just those fields are read (ColdCopy's outbox, HubSpot's property history) and it is planned
    again with them."""
    all_leads = Leads.union([changed.leads, contacts.extra_leads])
    pairs = pd.concat([changed.state, contacts.extra_state])
    pairs = pairs[~pairs.index.duplicated()]
    raw = all_leads.raw
    deleted = set(changed.deleted) | set(raw.loc[raw["deleted"], "id"])
    canonical = all_leads.live()
    frame = contact_records_frame(contacts.records, job.mapping_set.columns)
    if frame.empty:
        frame = pd.DataFrame({"id": pd.Series([], dtype=object), EMAIL: pd.Series([], dtype=object)})
    contact_frame = canonical_contacts(frame, job.mapping_set)
    canonical, contact_frame, skipped_erased = _without_erased(job, canonical, contact_frame)

    def plan(lead_times: pd.DataFrame, contact_times: pd.DataFrame) -> Plan:
        return build_plan(
            canonical,
            contact_frame,
            pairs[STATE_COLUMNS],
            job.mapping_set,
            lead_times=lead_times,
            contact_times=contact_times,
            deleted_leads=deleted,
            archived_contacts=contacts.archived,
            merges=contacts.merges,
            merge_primaries=contacts.merge_primaries,
            additional_emails=contacts.additional_emails,
            on_hubspot_archive=job.settings.on_hubspot_archive,
        )

    first = plan(changed.times, contacts.times)
    first.skipped_erased = skipped_erased
    latest = first.conflicts[first.conflicts["policy"] == "latest"] if len(first.conflicts) else None
    if latest is None or latest.empty:
        return first
    lead_times, contact_times = conflict_times(job, latest)
    again = plan(lead_times.combine_first(changed.times), contact_times.combine_first(contacts.times))
    again.skipped_erased = skipped_erased
    return again


def _without_erased(
    job: SyncJob, leads: pd.DataFrame, contacts: pd.DataFrame
) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    """Leads and contacts whose email belongs to a person erased from the workspace are left out: the push
    never re-creates the contact, the pull never re-creates the lead (privacy/erasure.py)."""
    from hubspot_pipeline.privacy.store import erased_among

    with job.engine.connect() as conn:
        erased = erased_among(conn, job.workspace_id, [*leads[EMAIL], *contacts[EMAIL]])
    if not erased:
        return leads, contacts, 0
    drop_leads, drop_contacts = leads[EMAIL].isin(erased), contacts[EMAIL].isin(erased)
    return leads[~drop_leads], contacts[~drop_contacts], int(drop_leads.sum() + drop_contacts.sum())


def _parse_times(values: list[Any]) -> list[Any]:
    """Each value as a UTC Timestamp (NaT when empty or unreadable), as `pd.to_datetime(value, utc=True,
    errors="coerce")` reads it one by one: ISO 8601 (what HubSpot sends) parsed as one array, any other
    text one by one (a format guess per value cost 5 ms each, seconds over a thousand contacts)."""
    texts = [v if v else None for v in values]
    if not texts:
        return []
    parsed = list(pd.to_datetime(pd.Series(texts, dtype=object), utc=True, errors="coerce", format="ISO8601"))
    return [
        (pd.to_datetime(v, utc=True, errors="coerce") if v is not None and pd.isna(p) else p)
        for v, p in zip(texts, parsed, strict=True)
    ]


def conflict_times(job: SyncJob, conflicts: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Each side's own change time of each field in conflict: ColdCopy's from the leads' outbox rows (all of
    them: a retried pair's edits were read by an earlier run), HubSpot's from the contacts' property history
    (a batch read of at most 50 contacts a call, only those fields). Frames indexed by lead id and by
    HubSpot id, canonical columns, NaT where a side holds no time."""
    lead_ids = sorted({str(i) for i in conflicts["lead_id"] if not str(i).startswith(NEW_LEAD_PREFIX)})
    with job.engine.connect() as conn:
        raw = queues.newest_field_times(conn, job.workspace_id, lead_ids)
    lead_times = field_times_to_columns(raw, job.mapping_set)
    hubspot_ids = sorted({str(h) for h in conflicts["hubspot_id"] if isinstance(h, str) and h})
    fields = sorted(set(conflicts["field"]))
    contact_times: dict[str, dict[str, pd.Timestamp]] = {}
    if hubspot_ids and job.client is not None:
        result = job.client.batch_read("contacts", hubspot_ids, [], properties_with_history=fields)
        for record in result.results:
            for name, changes in (record.get("propertiesWithHistory") or {}).items():
                stamps = [c.get("timestamp") for c in changes if c.get("timestamp")]
                if stamps:
                    newest = max(pd.to_datetime(stamps, utc=True))
                    contact_times.setdefault(str(record["id"]), {})[name] = newest
    return lead_times, pd.DataFrame.from_dict(contact_times, orient="index")
