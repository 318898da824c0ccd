"""Which stages of the contact sync may run together (pure): a stage needs every stage it reads from in the
same run, and the two writes go together."""

from __future__ import annotations

from hubspot_pipeline.defs.contacts import selection as s


def test_the_whole_sync_and_the_read_only_prefix_are_complete() -> None:
    assert s.missing_stages(s.STAGES) == {}
    assert s.missing_stages([s.FIELD_MAPPINGS, s.LEADS, s.HUBSPOT_CONTACTS, s.HASHED_DIFFS]) == {}
    assert s.missing_stages([]) == {}  # checks alone


def test_a_stage_without_what_it_reads_lacks_it() -> None:
    assert s.missing_stages([s.HASHED_DIFFS]) == {
        s.HASHED_DIFFS: [s.FIELD_MAPPINGS, s.LEADS, s.HUBSPOT_CONTACTS]
    }


def test_a_push_without_recording_it_is_refused() -> None:
    reads = [s.FIELD_MAPPINGS, s.LEADS, s.HUBSPOT_CONTACTS, s.HASHED_DIFFS]
    assert s.missing_stages([*reads, s.PUSHED_CONTACTS]) == {s.PUSHED_CONTACTS: [s.SYNC_STATE]}
    assert s.missing_stages([*reads, s.SYNC_STATE]) == {s.SYNC_STATE: [s.PUSHED_CONTACTS]}
    assert s.missing_stages([*reads, s.PUSHED_CONTACTS, s.SYNC_STATE]) == {}
