"""`GET /metrics`: the Prometheus text format, built by a prometheus-client custom collector from PostgreSQL.

Nothing is kept in the API process: every scrape reads the counters the processes recorded (a few hundred
rows) and computes the gauges, so any number of API workers, or replicas, answer the same figures. Every
metric of the catalogue is exported on every scrape, with no samples when nothing has been recorded yet.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
)
from prometheus_client.core import (
    Metric as FamilyBase,
)

from hubspot_pipeline.monitoring import catalogue
from hubspot_pipeline.monitoring.figures import INF, bucket_bound, bucket_label
from hubspot_pipeline.monitoring.gauges import GaugeValues, Sample, read_gauges
from hubspot_pipeline.monitoring.store import counter_rows

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def _key(labels: dict[str, str], names: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(str(labels.get(name, "")) for name in names)


def _counter(metric: catalogue.Metric, rows: list[tuple[dict[str, Any], float]]) -> CounterMetricFamily:
    family = CounterMetricFamily(metric.name, metric.help, labels=list(metric.labels))
    for labels, value in sorted(rows, key=lambda row: _key(row[0], metric.labels)):
        family.add_metric(list(_key(labels, metric.labels)), value)
    return family


def _histogram(
    metric: catalogue.Metric, series: dict[str, list[tuple[dict[str, Any], float]]]
) -> HistogramMetricFamily:
    family = HistogramMetricFamily(metric.name, metric.help, labels=list(metric.labels))
    per_set: dict[tuple[str, ...], dict[str, Any]] = defaultdict(lambda: {"buckets": {}, "sum": 0.0})
    for labels, value in series.get(metric.name + "_bucket", []):
        per_set[_key(labels, metric.labels)]["buckets"][labels.get("le", INF)] = value
    for labels, value in series.get(metric.name + "_sum", []):
        per_set[_key(labels, metric.labels)]["sum"] = value
    for key, parts in sorted(per_set.items()):
        running, cumulative = 0.0, []
        for bound in (*metric.buckets, math.inf):
            running += parts["buckets"].get(bucket_label(bound), 0.0)
            cumulative.append((bucket_label(bound), running))
        family.add_metric(list(key), cumulative, parts["sum"])
    return family


def _gauge(metric: catalogue.Metric, samples: list[Sample] | float | None) -> GaugeMetricFamily:
    family = GaugeMetricFamily(metric.name, metric.help, labels=list(metric.labels))
    if isinstance(samples, int | float):
        family.add_metric([], float(samples))
    else:
        for labels, value in samples or []:
            family.add_metric(list(_key(labels, metric.labels)), float(value))
    return family


def families(counters: list[tuple[str, dict[str, Any], float]], gauges: GaugeValues) -> Iterator[FamilyBase]:
    """Every metric of the catalogue from the recorded rows and the gauge values. Pure."""
    series: dict[str, list[tuple[dict[str, Any], float]]] = defaultdict(list)
    for name, labels, value in counters:
        series[name].append((labels, value))
    for metric in catalogue.RECORDED:
        if metric.kind == "histogram":
            yield _histogram(metric, series)
        else:
            yield _counter(metric, series.get(metric.name, []))
    c = catalogue
    yield _gauge(c.WEBHOOK_QUEUE_DEPTH, gauges.webhook_depth)
    yield _gauge(c.WEBHOOK_QUEUE_OLDEST, gauges.webhook_oldest_age)
    yield _gauge(c.OUTBOX_DEPTH, gauges.outbox_depth)
    yield _gauge(c.OUTBOX_OLDEST, gauges.outbox_oldest_age)
    yield _gauge(c.RETRY_INDEX, gauges.retry_rows)
    yield _gauge(c.RETRY_DEAD, gauges.dead_rows)
    yield _gauge(c.NEEDS_RECONNECT, gauges.needs_reconnect)
    yield _gauge(c.RATE_BUDGET, gauges.rate_budget)
    yield _gauge(c.OPEN_ALERTS, gauges.open_alerts)


class PostgresFigures:
    """The custom collector: reads the figures at each `collect()` (one short read-only transaction)."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    def collect(self) -> Iterator[FamilyBase]:
        with self.engine.connect() as conn:
            counters = counter_rows(conn)
            gauges = read_gauges(conn)
        yield from families(counters, gauges)


def render(engine: sa.Engine) -> bytes:
    """The text a scrape gets."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(PostgresFigures(engine))
    return generate_latest(registry)


__all__ = ["CONTENT_TYPE", "PostgresFigures", "bucket_bound", "families", "render"]
