"""Figures and their exposition, without a database: label sets stay bounded, histograms add up, and the
text parses with prometheus-client's own parser. The PostgreSQL side is in test_metrics_endpoint.py."""

from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from hubspot_pipeline.hubspot.metrics import ClientMetrics
from hubspot_pipeline.monitoring.calls import client_figures, endpoint_family, failed_calls
from hubspot_pipeline.monitoring.catalogue import API_CALLS, ERRORS, LATENCY, RECORDS_SYNCED, SYNC_RUNS
from hubspot_pipeline.monitoring.exposition import families
from hubspot_pipeline.monitoring.figures import Figures
from hubspot_pipeline.monitoring.gauges import GaugeValues


def _parse(figures: Figures, gauges: GaugeValues | None = None) -> dict[str, list]:
    counters = [(series, labels, value) for series, labels, value in figures.rows()]

    class Collector:
        def collect(self):
            yield from families(counters, gauges or GaugeValues())

    registry = CollectorRegistry(auto_describe=False)
    registry.register(Collector())
    return {
        family.name: family.samples
        for family in text_string_to_metric_families(generate_latest(registry).decode())
    }


def test_a_label_the_catalogue_does_not_name_is_refused() -> None:
    figures = Figures()
    with pytest.raises(ValueError, match="takes the labels"):
        figures.count(RECORDS_SYNCED, 1, object_type="contact", direction="to_hubspot", workspace="w1")
    with pytest.raises(ValueError, match="takes the labels"):
        figures.count(RECORDS_SYNCED, 1, object_type="contact")


@pytest.mark.parametrize(
    "value", ["ada@example.com", "Ada Lovelace", "https://hooks.example/x", "x" * 65, ""]
)
def test_a_label_value_that_is_not_a_short_identifier_is_refused(value: str) -> None:
    with pytest.raises(ValueError, match="short identifier"):
        Figures().count(SYNC_RUNS, 1, job=value, outcome="succeeded")


def test_counters_only_go_up() -> None:
    with pytest.raises(ValueError, match="only goes up"):
        Figures().count(SYNC_RUNS, -1, job="cli", outcome="failed")


def test_a_histogram_exports_cumulative_buckets_a_sum_and_a_count() -> None:
    figures = Figures()
    figures.observe_many(LATENCY, [0.2, 3.0, 3.0, 7200.0], path="lead_change_to_hubspot")
    samples = _parse(figures)["hubspot_pipeline_latency_seconds"]
    buckets = {s.labels["le"]: s.value for s in samples if s.name.endswith("_bucket")}
    assert buckets["0.5"] == 1 and buckets["2.0"] == 1 and buckets["5.0"] == 3 and buckets["3600.0"] == 3
    assert buckets["+Inf"] == 4
    assert next(s.value for s in samples if s.name.endswith("_count")) == 4
    assert next(s.value for s in samples if s.name.endswith("_sum")) == pytest.approx(7206.2)


def test_every_metric_of_the_catalogue_is_exported_even_before_anything_is_recorded() -> None:
    from hubspot_pipeline.monitoring import catalogue

    exported = _parse(Figures())
    assert {metric.name for metric in (*catalogue.RECORDED, *catalogue.GAUGES)} <= set(exported)


@pytest.mark.parametrize(
    ("endpoint", "family"),
    [
        ("POST /crm/v3/objects/contacts/batch/upsert", "objects_batch"),
        ("POST /crm/objects/2026-03/contacts/batch/read", "objects_batch"),
        ("POST /crm/v3/objects/contacts/search", "search"),
        ("GET /crm/v3/objects/contacts/{id}", "objects"),
        ("GET /crm/v3/objects/contacts", "objects"),
        ("POST /crm/v3/properties/contacts/batch/create", "properties"),
        ("GET /crm/v3/properties/contacts/groups", "properties"),
        ("POST /crm/v4/associations/contacts/companies/batch/associate/default", "associations"),
        ("PUT /crm/v4/objects/contacts/{id}/associations/default/companies/{toId}", "associations"),
        ("POST /crm/v3/timeline/events/batch/create", "timeline"),
        ("POST /automation/v2/workflows/{id}/enrollments/contacts/{email}", "workflows"),
        ("POST /oauth/v1/token", "oauth"),
        ("POST /crm/v3/objects/contacts/gdpr-delete", "gdpr"),
        ("POST /crm/v3/objects/contacts/merge", "merge"),
        ("GET /webhooks/v3/1/settings", "webhooks"),
        ("GET /something/else", "other"),
    ],
)
def test_endpoints_fold_into_a_few_families(endpoint: str, family: str) -> None:
    assert endpoint_family(endpoint) == family


def test_a_clients_counts_become_calls_by_family_and_status_errors_by_type_and_429s_by_policy() -> None:
    metrics = ClientMetrics()
    for _ in range(3):
        metrics.record_call("POST /crm/v3/objects/contacts/batch/upsert", 200, 0.1)
    metrics.record_call("POST /crm/v3/objects/companies/batch/create", 201, 0.1)
    metrics.record_call("POST /crm/v3/objects/contacts/search", 429, 0.1)
    metrics.record_call("POST /crm/v3/objects/contacts/search", 502, 0.1)
    metrics.record_call("POST /crm/v3/objects/contacts/search", "network", 0.1)
    metrics.record_call("POST /crm/v3/objects/contacts/batch/update", 400, 0.1)
    metrics.record_rate_limited("SECONDLY")
    metrics.record_error("network")
    figures = client_figures(metrics)
    assert figures.get(API_CALLS, family="objects_batch", status="200") == 3
    assert figures.get(API_CALLS, family="objects_batch", status="201") == 1
    assert figures.get(API_CALLS, family="search", status="network") == 1
    assert figures.get(ERRORS, type="network") == 1
    # Failed calls for the error rate: 429, 5xx and no answer; a 400 is a refused record, counted elsewhere.
    assert failed_calls(metrics) == 3
    exported = _parse(figures)
    limited = exported["hubspot_pipeline_hubspot_rate_limited"]
    assert [(s.labels, s.value) for s in limited if s.name.endswith("_total")] == [
        ({"policy": "secondly"}, 1.0)
    ]
