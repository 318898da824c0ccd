"""Batch writes against the sandbox over HTTP: a 10,000-contact upsert survives 429s, 5xx, timeouts and
dropped connections with every contact written exactly once; 207s and bad rows come back per row.
Not covered here: search (test_search_sandbox.py), the shared budget (test_shared_budget.py)."""

from __future__ import annotations

import uuid
from collections import Counter

import pytest
import sqlalchemy as sa

from hubspot_pipeline.hubspot import (
    HubSpotClient,
    PostgresRateLimiter,
    PrivateAppToken,
    RetryPolicy,
    UnlimitedRateLimiter,
)
from hubspot_pipeline.sandbox.testing import SandboxHandle


def _all_contacts(sandbox: SandboxHandle) -> list[dict]:
    sandbox.admin.configure(
        rate_limits_enabled=False,
        faults={
            "rate_limit_429": 0,
            "error_500": 0,
            "error_502": 0,
            "error_503": 0,
            "timeout": 0,
            "drop_connection": 0,
        },
    )
    with HubSpotClient(
        sandbox.base_url, PrivateAppToken(sandbox.private_app_token), limiter=UnlimitedRateLimiter()
    ) as reader:
        return [record for page, _ in reader.list_pages("contacts", ["email"]) for record in page]


@pytest.mark.slow
def test_a_10000_contact_upsert_with_faults_writes_each_contact_exactly_once(
    hubspot_sandbox: SandboxHandle, engine: sa.Engine
) -> None:
    hubspot_sandbox.admin.configure(
        faults={
            "rate_limit_429": 0.01,
            "error_500": 0.02,
            "error_502": 0.02,
            "error_503": 0.02,
            "timeout": 0.02,
            "timeout_seconds": 2.0,
            "drop_connection": 0.02,
        },
    )
    limiter = PostgresRateLimiter(engine, f"test:{uuid.uuid4()}", per_ten_seconds=100)
    records = [{"email": f"Person{i}@Example.com", "firstname": f"P{i}"} for i in range(10_000)]
    records += [
        {"email": f"person{i}@example.com", "lastname": "Dup"} for i in range(0, 10_000, 97)
    ]  # duplicates
    with HubSpotClient(
        hubspot_sandbox.base_url,
        PrivateAppToken(hubspot_sandbox.private_app_token),
        limiter=limiter,
        timeout=1.0,
        retry=RetryPolicy(base_delay=0.2),
    ) as client:
        result = client.batch_upsert("contacts", records, id_property="email")
        metrics = client.metrics.snapshot()

    assert result.errors == []
    assert len(result.by_key) == 10_000
    # Checked before the read-back below, whose calls the sandbox counts too.
    assert hubspot_sandbox.admin.rate_windows(limit=100)["attemptsOverLimit"] == 0
    emails = Counter(record["properties"]["email"] for record in _all_contacts(hubspot_sandbox))
    assert len(emails) == 10_000 and set(emails.values()) == {1}
    assert emails.keys() == {f"person{i}@example.com" for i in range(10_000)}
    # The faults happened and were survived: retries of each kind, and no real 429 from the budget.
    assert metrics["retries"].get("network", 0) > 0 and metrics["retries"].get("server", 0) > 0
    # The client's own counters saw the same faults, by endpoint and status.
    upserts = {key: n for key, n in metrics["calls"].items() if "batch/upsert" in key}
    assert upserts["POST /crm/v3/objects/contacts/batch/upsert 200"] == 100
    assert sum(n for key, n in upserts.items() if key.endswith((" 500", " 502", " 503", " network"))) > 0


def test_an_invalid_row_is_reported_and_the_rest_of_its_batch_is_written(
    hubspot_sandbox: SandboxHandle,
) -> None:
    with HubSpotClient(
        hubspot_sandbox.base_url, PrivateAppToken(hubspot_sandbox.private_app_token)
    ) as client:
        records = [{"email": f"ok{i}@example.com"} for i in range(5)] + [
            {"email": "bad@example.com", "no_such_property": "x"}
        ]
        result = client.batch_upsert("contacts", records)
    assert sorted(result.by_key) == sorted(f"ok{i}@example.com" for i in range(5))
    assert [error.key for error in result.errors] == ["bad@example.com"]
    assert result.errors[0].status == 400 and "no_such_property" in result.errors[0].message


def test_batch_read_reports_missing_ids_and_create_resolves_an_existing_contact(
    hubspot_sandbox: SandboxHandle,
) -> None:
    with HubSpotClient(
        hubspot_sandbox.base_url, PrivateAppToken(hubspot_sandbox.private_app_token)
    ) as client:
        written = client.batch_upsert(
            "contacts", [{"email": "ada@example.com"}, {"email": "bob@example.com"}]
        )
        ids = [written.by_key["ada@example.com"]["id"], written.by_key["bob@example.com"]["id"]]
        read = client.batch_read("contacts", [*ids, "999999999"], ["email"])
        assert sorted(read.by_key) == sorted(ids)
        assert [error.key for error in read.errors] == ["999999999"]
        again = client.create("contacts", {"email": "ada@example.com"})
        assert again["id"] == ids[0] and again["existing"] is True
        created = client.batch_create(
            "contacts", [{"email": "bob@example.com"}, {"email": "cy@example.com"}], key_property="email"
        )
        assert created.by_key["bob@example.com"]["id"] == ids[1]
        assert created.errors == []
        client.batch_archive("contacts", [ids[0]])
        assert client.get("contacts", ids[0]) is None
        assert client.get("contacts", ids[0], archived=True) is not None
