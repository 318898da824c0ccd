"""Incremental search against the sandbox: 25,000 contacts sharing one `lastmodifieddate` (past the 10,000
cap, with index lag on) come back exactly once, through a walk that is stopped and resumed from its cursor;
writes still inside the lag window are left for the next walk, which returns them exactly once too."""

from __future__ import annotations

import uuid
from collections import Counter

import pytest
import sqlalchemy as sa

from hubspot_pipeline.hubspot import HubSpotClient, PostgresRateLimiter, PrivateAppToken, SearchCursor
from hubspot_pipeline.sandbox.testing import SandboxHandle

LAG_SECONDS = 3


@pytest.mark.slow
def test_25000_contacts_sharing_one_timestamp_are_each_returned_once_with_index_lag(
    hubspot_sandbox: SandboxHandle, engine: sa.Engine
) -> None:
    admin = hubspot_sandbox.admin
    admin.configure(index_lag_seconds=LAG_SECONDS, ten_second_limit=1000)
    stamp = admin.now_ms() - 60_000
    admin.bulk_create(25_000, properties={"firstname": "Bulk {i}"}, timestamp_ms=stamp)
    limiter = PostgresRateLimiter(engine, f"test:{uuid.uuid4()}", per_ten_seconds=1000)
    client = HubSpotClient(
        hubspot_sandbox.base_url, PrivateAppToken(hubspot_sandbox.private_app_token), limiter=limiter
    )
    # The first walk covers what was modified up to LAG_SECONDS ago (fixed before the writes below, so that
    # they fall after it however slow the machine is).
    horizon = admin.now_ms() - LAG_SECONDS * 1000
    # Written through the API now: invisible to search for LAG_SECONDS, and modified after the bulk stamp.
    fresh = client.batch_upsert("contacts", [{"email": f"fresh{i}@example.com"} for i in range(300)])
    assert fresh.errors == []

    seen: Counter[str] = Counter()
    walk = client.search_modified_since(
        "contacts", SearchCursor(), ["email"], lag_seconds=LAG_SECONDS, until_ms=horizon
    )
    cursor = SearchCursor()
    for number, page in enumerate(walk):
        seen.update(record["id"] for record in page.results)
        cursor = page.cursor
        if number == 60:  # stop mid-tie (past the 10,000 cap) and resume from the saved cursor
            break
    resumed = SearchCursor.from_json(cursor.to_json())
    for page in client.search_modified_since("contacts", resumed, ["email"], until_ms=horizon):
        seen.update(record["id"] for record in page.results)
        cursor = page.cursor
    assert len(seen) == 25_000 and set(seen.values()) == {1}
    assert cursor.modified_ms == stamp
    assert admin.calls("POST /crm/v3/objects/contacts/search", 429) == 0  # the 5-per-second budget held

    # Once the lag has passed, the next walk from the cursor returns the API writes, each once.
    admin.advance(LAG_SECONDS + 1)
    later: Counter[str] = Counter()
    for page in client.search_modified_since(
        "contacts", cursor, ["email"], until_ms=admin.now_ms() - LAG_SECONDS * 1000
    ):
        later.update(record["properties"]["email"] for record in page.results)
    assert set(later) == {f"fresh{i}@example.com" for i in range(300)} and set(later.values()) == {1}
    client.close()
