"""Which parts of the contact sync may be materialized together. Pure: no Dagster run needed.

Stage results are handed over in memory within one run and never stored between runs, so a stage can run
only with the stages it reads from in the same run: a selection must hold every upstream stage of what it
selects. The two writes go together too: HubSpot is written before the database, and only recording the
pairs (`sync_state`) makes a push count.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

FIELD_MAPPINGS = "field_mappings"
LEADS = "leads"
HUBSPOT_CONTACTS = "hubspot_contacts"
HASHED_DIFFS = "hashed_diffs"
PUSHED_CONTACTS = "pushed_contacts"
SYNC_STATE = "sync_state"
HUBSPOT_COMPANIES = "hubspot_companies"

# stage -> the stages whose results it reads (the edges of the asset graph)
READS: Mapping[str, tuple[str, ...]] = {
    FIELD_MAPPINGS: (),
    LEADS: (FIELD_MAPPINGS,),
    HUBSPOT_CONTACTS: (FIELD_MAPPINGS, LEADS),
    HASHED_DIFFS: (LEADS, HUBSPOT_CONTACTS),
    PUSHED_CONTACTS: (HASHED_DIFFS,),
    SYNC_STATE: (HASHED_DIFFS, PUSHED_CONTACTS),
    HUBSPOT_COMPANIES: (PUSHED_CONTACTS,),
}
STAGES = tuple(READS)  # in the order they run
WRITES_TOGETHER = frozenset({PUSHED_CONTACTS, SYNC_STATE})
READ_STAGES = (FIELD_MAPPINGS, LEADS, HUBSPOT_CONTACTS, HASHED_DIFFS)
WRITE_STAGES = frozenset({PUSHED_CONTACTS, SYNC_STATE, HUBSPOT_COMPANIES})


def writes_nothing(selected: Iterable[str], dry_run: bool) -> bool:
    """A dry run, or a selection of read stages only: then not even missing HubSpot properties are created."""
    return dry_run or not (WRITE_STAGES & set(selected))


def needed_with(stage: str) -> set[str]:
    """Every stage that must run in the same run as `stage`."""
    needed: set[str] = set()
    pending = list(READS[stage])
    if stage in WRITES_TOGETHER:
        pending += sorted(WRITES_TOGETHER - {stage})
    while pending:
        other = pending.pop()
        if other not in needed:
            needed.add(other)
            pending += READS[other]
            if other in WRITES_TOGETHER:
                pending += sorted(WRITES_TOGETHER - {other})
    needed.discard(stage)
    return needed


def missing_stages(selected: Iterable[str]) -> dict[str, list[str]]:
    """For each selected stage that cannot run in this selection, the stages it lacks."""
    chosen = set(selected)
    missing = {}
    for stage in STAGES:
        if stage in chosen:
            lacking = needed_with(stage) - chosen
            if lacking:
                missing[stage] = [s for s in STAGES if s in lacking]
    return missing


def partial_selection_message(missing: Mapping[str, list[str]], group: str, job: str) -> str:
    parts = "; ".join(
        f"contacts/{stage} needs {', '.join(f'contacts/{s}' for s in lacking)}"
        for stage, lacking in missing.items()
    )
    return (
        f"This selection cannot run on its own: {parts}. The sync's stages hand their results to each other "
        "in memory within one run and never reuse another run's, so select them together: materialize the "
        f"whole `{group}` group for the partition, or launch {job} (contacts_dry_run_job to see the plan "
        "without writing)."
    )
