"""`Figures`: what one piece of work counted and measured, held in memory until it is recorded once.

    figures = Figures()
    figures.count(RECORDS_SYNCED, 12, object_type="contact", direction="to_hubspot")
    figures.observe(LATENCY, 3.2, path=LEAD_CHANGE_TO_HUBSPOT)
    record(conn, figures)                      # monitoring/store.py: one upsert for all of them

A histogram observation becomes bucket counters (the count of observations in each bucket, not yet
cumulative), a sum and a count, so recording it is the same addition as a counter's. Pure: no I/O.
"""

from __future__ import annotations

import bisect
import math
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from hubspot_pipeline.monitoring.catalogue import Metric

# A label value is a short identifier: never an email, a name, a URL or free text.
LABEL_VALUE = re.compile(r"[A-Za-z0-9_.:+-]{1,64}")
INF = "+Inf"

Labels = tuple[tuple[str, str], ...]  # sorted (name, value) pairs


def bucket_bound(le: str) -> float:
    return math.inf if le == INF else float(le)


def bucket_label(bound: float) -> str:
    return INF if math.isinf(bound) else repr(float(bound))


def _labels(metric: Metric, values: dict[str, str]) -> Labels:
    if set(values) != set(metric.labels):
        raise ValueError(
            f"{metric.name} takes the labels {sorted(metric.labels)}, not {sorted(values)}: label sets are fixed "
            "in monitoring/catalogue.py so that they stay bounded"
        )
    for name, value in values.items():
        if not LABEL_VALUE.fullmatch(str(value)):
            raise ValueError(
                f"label {name} of {metric.name} must be a short identifier (letters, digits, _.:+-), not "
                f"{str(value)[:20]!r}...: labels never hold personal data or free text"
            )
    return tuple(sorted((name, str(value)) for name, value in values.items()))


@dataclass
class Figures:
    """Counter increments by (series, labels); histograms stored as their bucket, sum and count series."""

    values: dict[tuple[str, Labels], float] = field(default_factory=dict)

    def count(self, metric: Metric, amount: float = 1, **labels: str) -> None:
        if metric.kind != "counter":
            raise ValueError(f"{metric.name} is a {metric.kind}, not a counter")
        if amount < 0:
            raise ValueError(f"{metric.name} is a counter: it only goes up (got {amount})")
        if amount:
            self._add((metric.name, _labels(metric, labels)), amount)

    def observe(self, metric: Metric, seconds: float, **labels: str) -> None:
        self.observe_many(metric, [seconds], **labels)

    def observe_many(self, metric: Metric, observations: Iterable[float], **labels: str) -> None:
        if metric.kind != "histogram":
            raise ValueError(f"{metric.name} is a {metric.kind}, not a histogram")
        base = _labels(metric, labels)
        bounds = (*metric.buckets, math.inf)
        # Counted per bucket first, then added: one key built per bucket, not per observation (50,000 a run).
        in_bucket = [0] * len(bounds)
        total_key, count_key = (metric.name + "_sum", base), (metric.name + "_count", base)
        total, count = self.values.get(total_key, 0), 0
        for seconds in observations:
            seconds = max(0.0, float(seconds))  # clocks of two machines: a change cannot arrive early
            in_bucket[bisect.bisect_left(bounds, seconds)] += 1  # the first bound >= seconds
            total += seconds
            count += 1
        for le, n in zip(bounds, in_bucket, strict=True):
            if n:
                self._add((metric.name + "_bucket", tuple(sorted((*base, ("le", bucket_label(le)))))), n)
        if count:
            self.values[total_key] = total
            self._add(count_key, count)

    def _add(self, key: tuple[str, Labels], amount: float) -> None:
        self.values[key] = self.values.get(key, 0) + amount

    def add(self, other: Figures) -> None:
        for key, amount in other.values.items():
            self._add(key, amount)

    def get(self, metric: Metric, **labels: str) -> float:
        """A counter's recorded increment (0 when none): for tests and reports."""
        return self.values.get((metric.name, _labels(metric, labels)), 0)

    def rows(self) -> Iterator[tuple[str, dict[str, str], float]]:
        """(series, labels, increment), sorted: concurrent recorders then lock rows in the same order."""
        for (series, labels), value in sorted(self.values.items()):
            if value:
                yield series, dict(labels), value

    def __bool__(self) -> bool:
        return any(self.values.values())
