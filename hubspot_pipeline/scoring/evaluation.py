"""Per-class precision and recall of `classify_reply` on labelled replies (the rows of tests/data/*.jsonl).

Pure: the caller reads the file. Used by the held-out test and by bench/intent_accuracy.py, so both report
the same numbers.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from hubspot_pipeline.scoring.intent import Intent, IntentDecision, classify_reply


@dataclass
class ClassScores:
    support: int = 0  # replies labelled with the class
    predicted: int = 0  # replies the classifier gave the class
    correct: int = 0

    @property
    def precision(self) -> float:
        return self.correct / self.predicted if self.predicted else 1.0

    @property
    def recall(self) -> float:
        return self.correct / self.support if self.support else 1.0


@dataclass
class Evaluation:
    per_class: dict[Intent, ClassScores] = field(default_factory=lambda: {i: ClassScores() for i in Intent})
    misses: list[tuple[str, Intent, IntentDecision]] = field(default_factory=list)  # (id, label, decision)

    @property
    def total(self) -> int:
        return sum(scores.support for scores in self.per_class.values())

    @property
    def accuracy(self) -> float:
        return sum(scores.correct for scores in self.per_class.values()) / self.total if self.total else 1.0


def classify_labelled(reply: Mapping[str, Any]) -> IntentDecision:
    """`classify_reply` on one labelled row (id, subject, text, html, headers, language, label, note)."""
    return classify_reply(
        subject=reply.get("subject"),
        text=reply.get("text"),
        html=reply.get("html"),
        headers=reply.get("headers"),
    )


def evaluate(replies: Iterable[Mapping[str, Any]]) -> Evaluation:
    evaluation = Evaluation()
    for reply in replies:
        label = Intent(reply["label"])
        decision = classify_labelled(reply)
        evaluation.per_class[label].support += 1
        evaluation.per_class[decision.intent].predicted += 1
        if decision.intent is label:
            evaluation.per_class[label].correct += 1
        else:
            evaluation.misses.append((str(reply["id"]), label, decision))
    return evaluation
