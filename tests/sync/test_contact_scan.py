"""The pair side of a full resync's contact scan (sync/contact_scan.py) on PostgreSQL: which pairs a contact
read can be dropped against, and the comparison itself. The read through HubSpot is in
test_full_resync_sandbox.py."""

from __future__ import annotations

import json
import uuid

import numpy as np
import pandas as pd
import sqlalchemy as sa

from hubspot_pipeline.sync.contact_scan import read_pair_hashes
from hubspot_pipeline.sync.core.hashing import hash_values
from hubspot_pipeline.sync.core.mapping import FieldMapping, canonical_contacts, compile_mappings
from hubspot_pipeline.sync.core.markers import TOMBSTONE


def _pairs(engine: sa.Engine, workspace_id: uuid.UUID, rows: list[tuple[str, str | None, str, dict]]) -> None:
    with engine.begin() as conn:
        for hubspot_id, sync_hash, status, agreed in rows:
            conn.execute(
                sa.text(
                    "INSERT INTO hubspot_sync_status (workspace_id, entity_type, entity_id, hubspot_id, "
                    "sync_hash, status, agreed) VALUES (:ws, 'contact', :lead, :h, :hash, :status, "
                    "CAST(:agreed AS jsonb))"
                ),
                {
                    "ws": workspace_id,
                    "lead": uuid.uuid4(),
                    "h": hubspot_id,
                    "hash": sync_hash,
                    "status": status,
                    "agreed": json.dumps(agreed),
                },
            )


def test_pairs_come_sorted_by_contact_and_only_quiet_ones_can_drop_a_contact(engine, workspace_id):
    mapping_set = compile_mappings(None)
    _pairs(
        engine,
        workspace_id,
        [
            ("900", "00000000000000ff", "synced", {}),  # inserted first, read last
            ("12", "8000000000000000", "synced", {}),
            ("300", "0000000000000001", "error", {}),  # in the retry index: the plan looks at it
            ("45", "0000000000000002", "synced", {TOMBSTONE: "merged"}),  # ended
            ("77", "0000000000000003", "synced", {}),  # two pairs on one contact: the plan decides
            ("77", "0000000000000004", "synced", {}),
            ("not-a-number", "0000000000000005", "synced", {}),  # no contact id to compare by
            ("500", None, "synced", {}),  # no hash yet
        ],
    )
    with engine.connect() as conn:
        pairs = read_pair_hashes(conn, workspace_id, mapping_set)
    assert pairs.ids.tolist() == [12, 45, 77, 77, 300, 500, 900]
    # Pairs of one contact come in the order PostgreSQL read them (the plan decides between them): compared
    # as sorted (id, hash, quiet) rows. `('x' || sync_hash)::bit(64)::bigint`: the hash as a signed 64-bit
    # integer, 0 when none.
    rows = sorted(zip(pairs.ids.tolist(), pairs.hashes.tolist(), pairs.quiet.tolist(), strict=True))
    assert rows == [
        (12, -(2**63), True),
        (45, 2, False),
        (77, 3, False),
        (77, 4, False),
        (300, 1, False),
        (500, 0, True),
        (900, 255, True),
    ]


def test_a_contact_is_unchanged_only_when_its_quiet_pair_agrees_on_pushed_and_pulled_columns(
    engine, workspace_id
):
    mapping_set = compile_mappings(
        [
            FieldMapping("email", "email", "bidirectional", "trim | lowercase"),
            FieldMapping("title", "jobtitle", "from_hubspot", None),
        ]
    )
    agreed = pd.DataFrame({"email": ["a@x.com", "b@x.com"], "jobtitle": ["CTO", "CEO"]}, dtype=object)
    hashes = hash_values(agreed, mapping_set.pushed_columns).astype(">u8").tobytes().hex()
    _pairs(
        engine,
        workspace_id,
        [
            ("1", hashes[:16], "synced", {"email": "a@x.com", "jobtitle": "CTO"}),
            ("2", hashes[16:], "synced", {"email": "b@x.com", "jobtitle": "CEO"}),
        ],
    )
    with engine.connect() as conn:
        pairs = read_pair_hashes(conn, workspace_id, mapping_set)
    read = pd.DataFrame(
        {
            "id": ["2", "1", "3"],
            "email": [" B@x.com", "a@x.com", "c@x.com"],  # as HubSpot may hold it; 3 has no pair
            "jobtitle": ["CEO", "VP", ""],  # 1's pulled-only title changed in HubSpot
        },
        dtype=object,
    )
    canonical = canonical_contacts(read, mapping_set)
    contact_hashes = hash_values(canonical, mapping_set.pushed_columns).view(np.int64)
    same = pairs.unchanged(np.array([2, 1, 3]), contact_hashes, canonical)
    assert same.tolist() == [True, False, False]
