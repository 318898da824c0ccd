"""The search index's incremental columns agree with a plain dict of documents through any mix of
inserts, updates, removals (and the compactions they trigger) and index lag. Plain functions, no HTTP."""

from __future__ import annotations

import random

import numpy as np

from hubspot_pipeline.sandbox.search_index import SearchIndex


def _parse(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def _matching(index: SearchIndex, threshold: float) -> set[int]:
    ids, _, alive = index.snapshot()
    values = index.column("score", _parse)
    return {int(i) for i in ids[alive & (values > threshold)]}


def test_columns_follow_every_write_and_removal() -> None:
    rng = random.Random(11)
    index = SearchIndex()
    index.column("score", _parse)  # materialised before the writes, so it is maintained write by write
    reference: dict[int, dict[str, str]] = {}
    for step in range(20_000):
        record_id = rng.randrange(3_000)
        if rng.random() < 0.3:
            index.remove(record_id, None)
            reference.pop(record_id, None)
        else:
            doc = {"score": str(rng.randrange(100))} if rng.random() < 0.9 else {"score": "n/a"}
            index.put(record_id, doc, None)
            reference[record_id] = doc
        if step % 1_000 == 0:
            threshold = rng.randrange(100)
            expected = {i for i, d in reference.items() if (_parse(d["score"]) or -1) > threshold}
            assert _matching(index, threshold) == expected
    assert len(index) == len(reference)
    ids, docs, alive = index.snapshot()
    assert {int(i): docs[p] for p, i in enumerate(ids) if alive[p]} == reference
    assert np.array_equal(index.column("hs_object_id", _parse)[alive], ids[alive].astype(float))


def test_a_lagged_write_shows_the_old_version_until_due() -> None:
    index = SearchIndex()
    index.put(1, {"score": "1"}, None)
    index.put(1, {"score": "50"}, visible_at_ms=1_000)
    index.remove(2, visible_at_ms=500)  # removing what search never saw is harmless
    index.catch_up(999)
    assert _matching(index, 10) == set()
    index.catch_up(1_000)
    assert _matching(index, 10) == {1} and index.pending_count() == 0
