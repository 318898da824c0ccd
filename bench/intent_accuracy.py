"""Benchmark: the reply-intent classifier's per-class precision and recall on the labelled replies, and its
classification rate.

    .venv/bin/python bench/intent_accuracy.py
    .venv/bin/python bench/intent_accuracy.py --repeat 50 --misses

Precision and recall on the held-out part (frozen before the rules were written), on the development part
(the rules were written on it) and on the probe sets (tests/data/README.md: written after a freeze in other
phrasings; probes 1 and 2 have since become development data, probe 3 measures the current rules). The rate: every labelled reply classified `--repeat` times in one process,
after one warm-up pass (the VADER lexicon loads once per process, about 30 ms), as replies per second on one
core. Results also go to bench/results/intent_accuracy.json.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

from hubspot_pipeline.scoring.evaluation import Evaluation, classify_labelled, evaluate
from hubspot_pipeline.scoring.intent import Intent

DATA = Path(__file__).resolve().parents[1] / "tests" / "data"
RESULTS = Path(__file__).resolve().parent / "results" / "intent_accuracy.json"


def load(name: str) -> list[dict[str, object]]:
    with (DATA / name).open(encoding="utf-8") as file:
        return [json.loads(line) for line in file if line.strip()]


def table(title: str, evaluation: Evaluation) -> str:
    lines = [
        f"{title}: {evaluation.total} replies, accuracy {evaluation.accuracy:.1%}",
        "| class | replies | predicted | precision | recall |",
        "|---|---|---|---|---|",
    ]
    for intent in Intent:
        scores = evaluation.per_class[intent]
        lines.append(
            f"| {intent.value} | {scores.support} | {scores.predicted} | {scores.precision:.1%} | {scores.recall:.1%} |"
        )
    return "\n".join(lines)


def summary(evaluation: Evaluation) -> dict[str, object]:
    return {
        "replies": evaluation.total,
        "accuracy": evaluation.accuracy,
        "per_class": {
            intent.value: {"replies": s.support, "precision": s.precision, "recall": s.recall}
            for intent, s in evaluation.per_class.items()
        },
        "misses": [
            {
                "id": reply_id,
                "label": label.value,
                "got": d.intent.value,
                "reason": d.reason.value,
                "evidence": d.evidence,
            }
            for reply_id, label, d in evaluation.misses
        ],
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=20, help="passes over all replies for the rate")
    parser.add_argument("--misses", action="store_true", help="also print every misclassified reply")
    args = parser.parse_args()

    sets = {
        name: load(f"replies_{name}.jsonl") for name in ("heldout", "dev", "probe_1", "probe_2", "probe_3")
    }
    results = {name: evaluate(replies) for name, replies in sets.items()}
    for name, evaluation in results.items():
        print(table(name, evaluation), end="\n\n")
        if args.misses:
            for reply_id, label, d in evaluation.misses:
                print(f"  {reply_id}: {label.value} -> {d.intent.value} ({d.reason.value}, {d.evidence!r})")

    replies = sets["heldout"] + sets["dev"]
    for reply in replies:  # warm-up: the lexicon loads on first use
        classify_labelled(reply)
    started = time.perf_counter()
    for _ in range(args.repeat):
        for reply in replies:
            classify_labelled(reply)
    elapsed = time.perf_counter() - started
    classified = args.repeat * len(replies)
    rate = classified / elapsed
    load_average = os.getloadavg()
    print(
        f"rate: {classified} classifications in {elapsed:.2f} s = {rate:,.0f} replies/s "
        f"({elapsed / classified * 1e6:.0f} us each); load average {load_average[0]:.2f}"
    )

    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {name: summary(e) for name, e in results.items()}
            | {"replies_per_second": rate, "classifications": classified, "load_average_1m": load_average[0]},
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
