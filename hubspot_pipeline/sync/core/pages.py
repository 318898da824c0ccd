"""A plan's contact writes in pages, so that a run records what it pushed while the later pages are still
being pushed (sync/paged_push.py) instead of waiting for the whole push. Pure: no I/O.

Only a pair whose one write this run is its contact's is recorded with its page: its pair state is then all
there is to record for it, and recording it early changes nothing a later write depends on. Every other
pair (a lead written or created from HubSpot, a conflict, a pair that ends, moves or is refused) and the
cursors are recorded once, at the end, as before. A run killed between pages leaves the pages recorded and
the cursors unmoved: the next run reads the same outbox rows again, finds the recorded pairs' hashes
unchanged and pushes only the rest.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace

import pandas as pd

from hubspot_pipeline.sync.core.markers import NEW_LEAD_PREFIX
from hubspot_pipeline.sync.core.plan import Plan

PAGE_SIZE = 1_000  # pairs recorded per transaction; a push call carries at most BATCH_SIZE of them


def paged_ids(plan: Plan) -> set[str]:
    """The pairs that may be recorded page by page: pushed, nothing else written, recorded or decided."""
    writes = plan.contact_writes
    if writes.empty:
        return set()
    pushed = writes["lead_id"].astype(str)
    once = set(pushed[~pushed.duplicated(keep=False)])
    agreed = plan.agreed["lead_id"].astype(str) if len(plan.agreed) else pd.Series([], dtype=str)
    others = set(_ids(plan.lead_writes)) | set(_ids(plan.conflicts)) | set(_ids(plan.tombstones))
    others |= set(_ids(plan.refused)) | set(plan.lead_deletes) | set(plan.unlinks) | set(plan.relinks)
    others |= set(agreed[agreed.duplicated(keep=False)])
    return {i for i in once & set(agreed) if i not in others and not i.startswith(NEW_LEAD_PREFIX)}


def push_units(writes: pd.DataFrame, size: int) -> list[pd.DataFrame]:
    """The contact writes as one push call each: creates (upserts by email) first, then updates by id, in
    chunks of `size`, as many calls as one push of them all."""
    if writes.empty:
        return []
    creating = writes["hubspot_id"].isna()
    units = []
    for part in (writes[creating], writes[~creating]):
        units += [part.iloc[start : start + size] for start in range(0, len(part), size)]
    return units


def only_pairs(plan: Plan, lead_ids: Collection[str]) -> Plan:
    """The plan of these paged pairs alone: their contact writes and agreed rows (they have nothing else)."""
    return Plan(
        contact_writes=_keep(plan.contact_writes, lead_ids),
        lead_writes=plan.lead_writes.iloc[0:0],
        conflicts=plan.conflicts.iloc[0:0],
        agreed=_keep(plan.agreed, lead_ids),
        tombstones=plan.tombstones.iloc[0:0],
        refused=plan.refused.iloc[0:0],
    )


def without_pairs(plan: Plan, lead_ids: Collection[str]) -> Plan:
    """The plan without these paged pairs: what is left to record at the end."""
    if not lead_ids:
        return plan
    return replace(
        plan,
        contact_writes=_keep(plan.contact_writes, lead_ids, keep=False),
        agreed=_keep(plan.agreed, lead_ids, keep=False),
    )


def _ids(frame: pd.DataFrame) -> list[str]:
    return frame["lead_id"].astype(str).tolist() if len(frame) else []


def _keep(frame: pd.DataFrame, lead_ids: Collection[str], *, keep: bool = True) -> pd.DataFrame:
    if frame.empty:
        return frame
    inside = frame["lead_id"].astype(str).isin(set(lead_ids))
    return frame[inside if keep else ~inside]
