"""The read stages of the company sync: which ColdCopy companies may need syncing (the company outbox, the
retry index, companies just made from leads' domains, every one when full) and which HubSpot companies
(search cursor, `company.*` webhooks, re-reads, a search by domain for companies not paired yet; when full,
a list scan and the archived listing). The same shapes as the contacts' reads (reads.py), keyed by domain."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from hubspot_pipeline.hubspot import HubSpotClient, SearchCursor
from hubspot_pipeline.sync.core.leads import Leads, field_times_to_columns
from hubspot_pipeline.sync.core.mapping import COMPANY_KEY
from hubspot_pipeline.sync.core.webhooks import event_effects, is_event_of
from hubspot_pipeline.sync.job import SyncJob
from hubspot_pipeline.sync.reads import MERGED_IDS, _contact_times
from hubspot_pipeline.sync.store import companies as company_store
from hubspot_pipeline.sync.store import queues
from hubspot_pipeline.sync.store import state as pair_state

OBJECT = "companies"
SEARCH_VALUES = 100  # domains per search (IN filter)
MODIFIED = "hs_lastmodifieddate"


@dataclass
class ChangedCompanies:
    """ColdCopy's companies to look at (`companies` rows as Leads: raw and canonical), their state and
    change times; the HubSpot companies read and what the queue says of deletions and merges."""

    companies: Leads
    times: pd.DataFrame  # index company id, canonical columns + ROW_TIME
    deleted: list[str]
    state: pd.DataFrame  # index company id, STATE_COLUMNS + attempts
    outbox_up_to: int | None
    records: list[dict[str, Any]]
    record_times: pd.DataFrame  # index HubSpot id
    archived: set[str]
    merges: dict[str, str]
    merge_primaries: dict[str, str]
    search_cursor: dict[str, int] | None
    event_ids: list[int]


def read_changed_companies(job: SyncJob, created: list[str]) -> ChangedCompanies:
    """Both sides' companies that may need syncing. created: companies just made from leads' domains (with
    the pending ones earlier runs made and did not get into HubSpot)."""
    client = job.client
    assert client is not None
    mapping_set = job.company_mapping_set
    with job.engine.connect() as conn:
        after = int(queues.get_cursor(conn, job.workspace_id, queues.COMPANY_OUTBOX_STREAM) or 0)
        outbox = queues.read_outbox(conn, job.workspace_id, after, table="company_changes")
        retry = pair_state.retry_lead_ids(conn, job.workspace_id, entity=company_store.ENTITY)
        pending = company_store.pending_companies(conn, job.workspace_id)
        named = set(outbox.lead_ids) | set(retry) | set(created) | set(pending)
        rows = company_store.read_companies(conn, job.workspace_id, ids=named, every=job.full)
        state = pair_state.read_state(
            conn, job.workspace_id, lead_ids=[*rows["id"], *named], entity="company"
        )
        saved = queues.get_cursor(conn, job.workspace_id, queues.COMPANY_SEARCH_STREAM)
        events = [
            e for e in queues.pending_webhook_events(conn, job.workspace_id) if is_event_of(e, "company")
        ]
    effects = event_effects(events, "company")
    properties = [*mapping_set.hubspot_properties, MERGED_IDS, MODIFIED]
    records, archived, cursor_json = _search_and_scan(job, client, properties, saved)
    archived = (archived - effects.restored) | effects.archived
    retry_ids = {
        str(h) for h in state.loc[state["status"].eq("error") & state["hubspot_id"].notna(), "hubspot_id"]
    }
    wanted = (set(effects.wanted) | retry_ids) - set(records) - archived
    if wanted:
        result = client.batch_read(OBJECT, sorted(wanted), properties)
        records.update({str(r["id"]): r for r in result.results})
        archived |= {e.key for e in result.errors if e.category == "OBJECT_NOT_FOUND" and e.key in retry_ids}
    merges = dict(effects.merges)
    for record in records.values():
        for loser in str((record.get("properties") or {}).get(MERGED_IDS) or "").split(";"):
            if loser.strip() and loser.strip() != str(record["id"]):
                merges[loser.strip()] = str(record["id"])
    archived -= set(records)
    # The ColdCopy side of what HubSpot said: companies paired with the records read, archived or merged.
    with job.engine.connect() as conn:
        linked = set(state["hubspot_id"].dropna().astype(str))
        more_state = pair_state.read_state(
            conn,
            job.workspace_id,
            hubspot_ids=sorted((set(records) | archived | set(merges)) - linked),
            entity="company",
        )
        more = company_store.read_companies(conn, job.workspace_id, ids=more_state.index.tolist())
    state = pd.concat([state, more_state])
    state = state[~state.index.duplicated()]
    rows = pd.concat([rows, more], ignore_index=True).drop_duplicates("id")
    rows["deleted"] = rows["deleted"].astype(bool)
    unlinked = rows.loc[
        ~rows["id"].isin(state.index[state["hubspot_id"].notna()]) & ~rows["deleted"], "domain"
    ]
    read_domains = {str((r.get("properties") or {}).get(COMPANY_KEY) or "").lower() for r in records.values()}
    for record in find_by_domain(client, sorted(set(unlinked) - read_domains), properties):
        records.setdefault(str(record["id"]), record)
    gone = named - set(rows["id"])
    deleted = sorted(set(outbox.deleted) | set(rows.loc[rows["deleted"], "id"]) | gone)
    return ChangedCompanies(
        Leads.of(rows, mapping_set),
        field_times_to_columns(outbox.times, mapping_set),
        deleted,
        state,
        outbox.up_to_id,
        list(records.values()),
        _contact_times(records, effects.times),
        archived,
        merges,
        dict(effects.primaries),
        cursor_json,
        [int(e["id"]) for e in events],
    )


def company_work_waiting(job: SyncJob) -> bool:
    """Whether ColdCopy's side names a company to sync: a company outbox row after its cursor, a company in
    the retry index or made and not yet in HubSpot (pending), a `company.*` webhook queued. The sources
    `read_changed_companies` reads, one row each at most; what they cannot say is whether a company changed
    in HubSpot without a webhook (only the search by cursor finds that)."""
    ws = job.workspace_id
    with job.engine.connect() as conn:
        after = int(queues.get_cursor(conn, ws, queues.COMPANY_OUTBOX_STREAM) or 0)
        return bool(
            queues.read_outbox(conn, ws, after, limit=1, table="company_changes").up_to_id > after
            or pair_state.retry_lead_ids(conn, ws, limit=1, entity=company_store.ENTITY)
            or company_store.pending_companies(conn, ws)
            or any(is_event_of(e, "company") for e in queues.pending_webhook_events(conn, ws))
        )


def _search_and_scan(
    job: SyncJob, client: HubSpotClient, properties: list[str], saved: Any
) -> tuple[dict[str, dict[str, Any]], set[str], Any]:
    """HubSpot companies modified since the search cursor (every one and the archived listing when full),
    and where the cursor stops."""
    records: dict[str, dict[str, Any]] = {}
    archived: set[str] = set()
    cursor_json, cursor = saved, SearchCursor.from_json(saved)
    if job.full:
        started_ms = int(client.server_now() * 1000)
        for listed, _ in client.list_pages(OBJECT, properties):
            records.update({str(r["id"]): r for r in listed})
        for listed, _ in client.list_pages(OBJECT, [COMPANY_KEY], archived=True):
            archived.update(str(r["id"]) for r in listed)
        # Everything modified before the scan began (less the index lag) was read: search from there on.
        floor = SearchCursor(started_ms - int(max(job.search_lag_seconds, 0.0) * 1000), 0)
        if (cursor.modified_ms, cursor.object_id) < (floor.modified_ms, floor.object_id):
            cursor, cursor_json = floor, floor.to_json()
    for page in client.search_modified_since(OBJECT, cursor, properties, lag_seconds=job.search_lag_seconds):
        records.update({str(r["id"]): r for r in page.results})
        cursor_json = page.cursor.to_json()
    return records, archived - set(records), cursor_json


def find_by_domain(client: HubSpotClient, domains: list[str], properties: list[str]) -> list[dict[str, Any]]:
    """The HubSpot companies with these domains (HubSpot's `domain` is not unique: every one found)."""
    found: list[dict[str, Any]] = []
    for start in range(0, len(domains), SEARCH_VALUES):
        some = domains[start : start + SEARCH_VALUES]
        body = client.search(
            OBJECT,
            {
                "filterGroups": [
                    {"filters": [{"propertyName": COMPANY_KEY, "operator": "IN", "values": some}]}
                ],
                "properties": properties,
                "sorts": [{"propertyName": "hs_object_id", "direction": "ASCENDING"}],
                "limit": 200,
            },
        )
        found.extend(body.get("results", []))
    return found
