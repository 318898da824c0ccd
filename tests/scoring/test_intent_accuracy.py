"""The reply-intent classifier on the labelled replies of tests/data/ (see tests/data/README.md).

The held-out part was committed before any rule was written and is never used to tune them: its targets
(unsubscribe_request recall 100%, out_of_office recall >= 90%, accuracy >= 85%) are the issue's. Per-class
precision and recall are printed by bench/intent_accuracy.py and recorded in docs/benchmarks.md.
"""

from __future__ import annotations

from collections import Counter

import pytest

from hubspot_pipeline.scoring.evaluation import Evaluation, evaluate
from hubspot_pipeline.scoring.intent import Intent
from tests.scoring.labelled import load_replies

DEV = "replies_dev.jsonl"
HELDOUT = "replies_heldout.jsonl"
FIELDS = {"id", "subject", "text", "html", "headers", "language", "label", "note"}


def misses(evaluation: Evaluation) -> list[str]:
    return [
        f"{reply_id}: {label} -> {d.intent} ({d.reason}, {d.evidence!r})"
        for reply_id, label, d in evaluation.misses
    ]


def test_the_labelled_set_is_well_formed_and_covers_every_class() -> None:
    dev, heldout = load_replies(DEV), load_replies(HELDOUT)
    replies = dev + heldout
    assert len(replies) >= 150
    assert len({reply["id"] for reply in replies}) == len(replies)
    for reply in replies:
        assert set(reply) <= FIELDS and {"id", "subject", "text", "headers", "language", "label"} <= set(
            reply
        )
        assert reply["text"] or reply.get("html") or reply["subject"], reply["id"]
    labels = Counter(Intent(reply["label"]) for reply in replies)
    assert set(labels) == set(Intent)
    assert labels[Intent.UNSUBSCRIBE_REQUEST] >= 20 and labels[Intent.OUT_OF_OFFICE] >= 20
    assert min(labels.values()) >= 20
    assert {reply["language"] for reply in replies} >= {"en", "de", "fr", "es", "pt", "nl", "it"}
    assert sum("html" in reply and not reply["text"] for reply in replies) >= 5


@pytest.mark.parametrize("name", [f"replies_probe_{n}.jsonl" for n in (1, 2, 3)])
def test_the_probe_sets_are_well_formed(name: str) -> None:
    probes = load_replies(name)
    labelled_ids = {reply["id"] for reply in load_replies(DEV) + load_replies(HELDOUT)}
    assert not labelled_ids & {reply["id"] for reply in probes}
    for reply in probes:
        assert set(reply) <= FIELDS and Intent(reply["label"])
    assert set(Counter(reply["label"] for reply in probes)) == set(Intent)


def test_the_held_out_part_is_a_third_of_every_class() -> None:
    dev = Counter(reply["label"] for reply in load_replies(DEV))
    heldout = Counter(reply["label"] for reply in load_replies(HELDOUT))
    for label in Intent:
        assert heldout[label] == round((dev[label] + heldout[label]) / 3), label


def test_held_out_targets() -> None:
    evaluation = evaluate(load_replies(HELDOUT))
    scores = evaluation.per_class
    assert scores[Intent.UNSUBSCRIBE_REQUEST].recall == 1.0, misses(evaluation)
    assert scores[Intent.OUT_OF_OFFICE].recall >= 0.9, misses(evaluation)
    assert evaluation.accuracy >= 0.85, misses(evaluation)


@pytest.mark.parametrize("name", [DEV, "replies_probe_1.jsonl", "replies_probe_2.jsonl"])
def test_development_data_stays_above_the_held_out_targets(name: str) -> None:
    # The rules were written on these sets: a drop here is a regression of a rule, not a hard case.
    evaluation = evaluate(load_replies(name))
    assert evaluation.per_class[Intent.UNSUBSCRIBE_REQUEST].recall == 1.0, misses(evaluation)
    assert evaluation.per_class[Intent.OUT_OF_OFFICE].recall >= 0.9, misses(evaluation)
    assert evaluation.accuracy >= 0.95, misses(evaluation)
