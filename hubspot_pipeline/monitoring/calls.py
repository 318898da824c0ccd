"""A HubSpot client's counts as figures: calls by endpoint family and status, errors by type, 429s by policy,
token refreshes. Endpoint templates (`POST /crm/v3/objects/contacts/batch/upsert`) fold into a dozen families
so the label set stays small whatever the object types and API versions. Pure."""

from __future__ import annotations

from hubspot_pipeline.hubspot.metrics import ClientMetrics
from hubspot_pipeline.monitoring.catalogue import API_CALLS, ERRORS, RATE_LIMITED, TOKEN_REFRESHES
from hubspot_pipeline.monitoring.figures import Figures

FAMILIES = (
    "oauth",
    "properties",
    "associations",
    "timeline",
    "workflows",
    "webhooks",
    "search",
    "gdpr",
    "merge",
    "objects_batch",
    "objects",
    "other",
)


def endpoint_family(endpoint: str) -> str:
    """`POST /crm/v3/objects/contacts/batch/upsert` -> `objects_batch`; see FAMILIES."""
    path = endpoint.split(" ", 1)[-1].split("?", 1)[0].rstrip("/")
    if path.startswith("/oauth"):
        return "oauth"
    if "/properties/" in path:
        return "properties"
    if "/associations" in path:
        return "associations"
    if "/timeline" in path:
        return "timeline"
    if path.startswith("/automation"):
        return "workflows"
    if path.startswith("/webhooks"):
        return "webhooks"
    if path.endswith("/search"):
        return "search"
    if path.endswith("/gdpr-delete"):
        return "gdpr"
    if path.endswith("/merge"):
        return "merge"
    if "/objects/" in path and "/batch/" in path:
        return "objects_batch"
    if "/objects/" in path:
        return "objects"
    return "other"


def client_figures(metrics: ClientMetrics) -> Figures:
    """What a client counted, ready for `record`."""
    figures = Figures()
    counts = metrics.counts()
    for (endpoint, status), count in counts.calls.items():
        figures.count(API_CALLS, count, family=endpoint_family(endpoint), status=status)
    for kind, count in counts.errors.items():
        figures.count(ERRORS, count, type=kind)
    for policy, count in counts.rate_limited.items():
        figures.count(RATE_LIMITED, count, policy=policy.lower())
    figures.count(TOKEN_REFRESHES, counts.token_refreshes, outcome="succeeded")
    figures.count(TOKEN_REFRESHES, counts.refresh_failures, outcome="failed")
    return figures


def failed_calls(metrics: ClientMetrics) -> int:
    """Calls that went wrong on HubSpot's side or on the way (401/403, 429, 5xx, no answer): what the error-rate
    rule counts. 4xx refusals of a record are counted as failed records instead."""
    return sum(
        count
        for (_, status), count in metrics.counts().calls.items()
        if status == "network" or status in ("401", "403", "429") or status.startswith("5")
    )
