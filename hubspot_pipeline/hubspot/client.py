"""`HubSpotClient`: the one object the sync engine and the API service use to talk to HubSpot.

    from hubspot_pipeline.hubspot import HubSpotClient, PrivateAppToken, OAuthTokens, PostgresRateLimiter

    limiter = PostgresRateLimiter(engine, portal_key=f"hub:{hub_id}", per_ten_seconds=110)
    with HubSpotClient(base_url, auth=PrivateAppToken(token), limiter=limiter) as client:
        result = client.batch_upsert("contacts", [{"email": "a@x.com", "firstname": "A"}], id_property="email")
        for page in client.search_modified_since("contacts", SearchCursor.from_json(saved), ["email"]):
            ...

Methods (each in its own module): get/create/update/archive/list_pages (objects.py); batch_upsert,
batch_create, batch_update, batch_read, batch_archive (batch.py); search, search_modified_since (search.py);
read_all (full_read.py: every record through the list and the search budgets at once);
list_properties, get_property, create_property, list_property_groups, create_property_group (properties.py);
associate_default, batch_associate_default, batch_associate, batch_read_associations,
batch_archive_associations, associated_ids (associations.py); create_engagements, create_timeline_events
(activities.py); enroll_contact, enrolled_workflows, list_flows, map_workflow_ids (workflows.py). Counters: `client.metrics`.
An app's timeline event templates need its developer credentials: `DeveloperClient` (developer.py).

Errors: every method raises a subclass of `HubSpotError`; batch methods report row failures in
`BatchResult.errors` instead and raise only when the whole call failed.
"""

from __future__ import annotations

from collections.abc import Sequence

from hubspot_pipeline.hubspot.activities import ActivityOps
from hubspot_pipeline.hubspot.full_read import LIST_PAGE_SIZE, SEARCH_PAGE_SIZE, FullRead
from hubspot_pipeline.hubspot.properties import PropertyOps
from hubspot_pipeline.hubspot.search import SearchOps
from hubspot_pipeline.hubspot.workflows import WorkflowOps


class HubSpotClient(ActivityOps, WorkflowOps, SearchOps, PropertyOps):
    """HubSpotClient(base_url, auth, *, limiter=None, api_version="v3", max_concurrency=8, timeout=30.0,
    retry=RetryPolicy(), metrics=None, transport=None). See the module docstring."""

    def __enter__(self) -> HubSpotClient:
        return self

    def read_all(
        self,
        object_type: str,
        properties: Sequence[str] = (),
        *,
        list_page_size: int = LIST_PAGE_SIZE,
        search_page_size: int = SEARCH_PAGE_SIZE,
    ) -> FullRead:
        """Every live record, each once, through the list and the search budgets at once (full_read.py)."""
        return FullRead(
            self, object_type, properties, list_page_size=list_page_size, search_page_size=search_page_size
        )
