"""CRM search: operators and case rules, the 5/6/18 filter limits, one sort (object or string form),
200 per page, the 400 past 10,000 results, index lag, archived records left out, identical-timestamp
bursts, and no rate-limit headers."""

from __future__ import annotations

import httpx
import pytest

from hubspot_pipeline.sandbox.testing import SandboxHandle

SEARCH = "/crm/v3/objects/contacts/search"


@pytest.fixture(autouse=True)
def _no_search_budget(hubspot_sandbox: SandboxHandle) -> None:
    # These tests search faster than 5 per second; the budget itself is tested in test_rate_limits.py.
    hubspot_sandbox.admin.configure(rate_limits_enabled=False)


def _filters(*filters: dict) -> dict:
    return {"filterGroups": [{"filters": list(filters)}]}


def _emails(body: dict) -> list[str]:
    return [r["properties"]["email"] for r in body["results"]]


@pytest.fixture
def people(api: httpx.Client) -> None:
    rows = [
        ("ada@math.org", "Ada", "lead", "10"),
        ("alan@math.org", "Alan", "customer", "20"),
        ("grace@navy.mil", "Grace", "lead", "30"),
        ("linus@kernel.org", None, "subscriber", "40"),
    ]
    for email, first, stage, employees in rows:
        properties = {"email": email, "lifecyclestage": stage, "company": f"Co {employees}"}
        if first:
            properties["firstname"] = first
        assert api.post("/crm/v3/objects/contacts", json={"properties": properties}).status_code == 201


@pytest.mark.usefixtures("people")
def test_operators_and_case_rules(api: httpx.Client) -> None:
    def search(*filters: dict) -> list[str]:
        return sorted(_emails(api.post(SEARCH, json=_filters(*filters)).json()))

    assert search({"propertyName": "firstname", "operator": "EQ", "value": "ADA"}) == ["ada@math.org"]
    # Enumerations are case-sensitive.
    assert search({"propertyName": "lifecyclestage", "operator": "EQ", "value": "LEAD"}) == []
    assert search({"propertyName": "lifecyclestage", "operator": "IN", "values": ["lead", "customer"]}) == [
        "ada@math.org",
        "alan@math.org",
        "grace@navy.mil",
    ]
    assert search({"propertyName": "firstname", "operator": "NOT_HAS_PROPERTY"}) == ["linus@kernel.org"]
    assert search({"propertyName": "email", "operator": "CONTAINS_TOKEN", "value": "*@math.org"}) == [
        "ada@math.org",
        "alan@math.org",
    ]
    assert search({"propertyName": "hs_object_id", "operator": "GT", "value": "100002"}) == [
        "grace@navy.mil",
        "linus@kernel.org",
    ]
    assert search(
        {"propertyName": "hs_object_id", "operator": "BETWEEN", "value": "100002", "highValue": "100003"}
    ) == ["alan@math.org", "grace@navy.mil"]


@pytest.mark.usefixtures("people")
def test_groups_are_or_filters_are_and_and_sorts_take_both_forms(api: httpx.Client) -> None:
    body = {
        "filterGroups": [
            {
                "filters": [
                    {"propertyName": "lifecyclestage", "operator": "EQ", "value": "lead"},
                    {"propertyName": "email", "operator": "CONTAINS_TOKEN", "value": "*navy.mil"},
                ]
            },
            {"filters": [{"propertyName": "lifecyclestage", "operator": "EQ", "value": "subscriber"}]},
        ],
        "sorts": [{"propertyName": "email", "direction": "DESCENDING"}],
    }
    assert _emails(api.post(SEARCH, json=body).json()) == ["linus@kernel.org", "grace@navy.mil"]
    body["sorts"] = ["email"]
    assert _emails(api.post(SEARCH, json=body).json()) == ["grace@navy.mil", "linus@kernel.org"]
    body["sorts"] = ["-email"]
    assert _emails(api.post(SEARCH, json=body).json()) == ["linus@kernel.org", "grace@navy.mil"]


@pytest.mark.usefixtures("people")
def test_default_properties_free_text_query_and_paging(api: httpx.Client) -> None:
    body = api.post(SEARCH, json={"query": "math", "limit": 1}).json()
    assert body["total"] == 2 and len(body["results"]) == 1
    assert set(body["results"][0]["properties"]) == {
        "createdate",
        "email",
        "firstname",
        "hs_object_id",
        "lastmodifieddate",
    }
    assert body["paging"]["next"]["after"] == "1"
    last = api.post(SEARCH, json={"query": "math", "limit": 1, "after": "1"}).json()
    assert "paging" not in last and last["results"][0]["id"] != body["results"][0]["id"]


def test_filter_limits_are_5_groups_6_filters_18_in_all(api: httpx.Client) -> None:
    f = {"propertyName": "email", "operator": "HAS_PROPERTY"}
    assert api.post(SEARCH, json={"filterGroups": [{"filters": [f]}] * 6}).status_code == 400
    assert api.post(SEARCH, json={"filterGroups": [{"filters": [f] * 7}]}).status_code == 400
    assert api.post(SEARCH, json={"filterGroups": [{"filters": [f] * 4}] * 5}).status_code == 400  # 20 > 18
    assert api.post(SEARCH, json={"filterGroups": [{"filters": [f] * 6}] * 3}).status_code == 200
    assert api.post(SEARCH, json={"limit": 201}).status_code == 400
    assert api.post(SEARCH, json={"sorts": ["email", "firstname"]}).status_code == 400


def test_paging_past_10000_results_is_400_even_with_a_small_limit(api: httpx.Client) -> None:
    assert api.post(SEARCH, json={"after": "9990", "limit": 10}).status_code == 200
    response = api.post(SEARCH, json={"after": "10000", "limit": 1})
    assert response.status_code == 400 and response.json()["category"] == "VALIDATION_ERROR"
    assert api.post(SEARCH, json={"after": "9900", "limit": 200}).status_code == 400


def test_a_new_write_is_invisible_to_search_until_the_index_lag_passes(
    api: httpx.Client, hubspot_sandbox: SandboxHandle
) -> None:
    hubspot_sandbox.admin.configure(index_lag_seconds=5)
    created = api.post(
        "/crm/v3/objects/contacts", json={"properties": {"email": "lag@x.com", "firstname": "Old"}}
    )
    contact_id = created.json()["id"]
    query = _filters({"propertyName": "email", "operator": "EQ", "value": "lag@x.com"})
    assert api.post(SEARCH, json=query).json()["total"] == 0
    assert api.get(f"/crm/v3/objects/contacts/{contact_id}").status_code == 200  # reads are not lagged
    hubspot_sandbox.admin.advance(5)
    assert api.post(SEARCH, json=query).json()["total"] == 1
    api.patch(f"/crm/v3/objects/contacts/{contact_id}", json={"properties": {"firstname": "New"}})
    stale = api.post(SEARCH, json=query).json()["results"][0]["properties"]["firstname"]
    hubspot_sandbox.admin.advance(5)
    fresh = api.post(SEARCH, json=query).json()["results"][0]["properties"]["firstname"]
    assert (stale, fresh) == ("Old", "New")


def test_archived_records_never_appear_in_search(api: httpx.Client) -> None:
    contact_id = api.post("/crm/v3/objects/contacts", json={"properties": {"email": "arch@x.com"}}).json()[
        "id"
    ]
    api.delete(f"/crm/v3/objects/contacts/{contact_id}")
    assert api.post(SEARCH, json={}).json()["total"] == 0


def test_search_responses_carry_no_rate_limit_headers(api: httpx.Client) -> None:
    response = api.post(SEARCH, json={})
    assert not [h for h in response.headers if h.lower().startswith("x-hubspot-ratelimit")]


def test_contacts_filtered_on_hs_lastmodifieddate_silently_match_nothing(api: httpx.Client) -> None:
    api.post("/crm/v3/objects/contacts", json={"properties": {"email": "m@x.com"}})
    wrong = _filters({"propertyName": "hs_lastmodifieddate", "operator": "GTE", "value": "0"})
    right = _filters({"propertyName": "lastmodifieddate", "operator": "GTE", "value": "0"})
    assert api.post(SEARCH, json=wrong).json()["total"] == 0
    assert api.post(SEARCH, json=right).json()["total"] == 1


def test_25000_records_sharing_one_timestamp_page_by_a_compound_cursor(
    api: httpx.Client, hubspot_sandbox: SandboxHandle
) -> None:
    # Regression guard for the airbyte#43317 shape: a timestamp-only cursor can never leave this burst;
    # (lastmodifieddate, hs_object_id) with hs_object_id GT restarts below the 10k cap and sees everything.
    stamp = 1_700_000_000_000
    hubspot_sandbox.admin.bulk_create(25_000, timestamp_ms=stamp)
    same_time = {"propertyName": "lastmodifieddate", "operator": "EQ", "value": str(stamp)}
    assert api.post(SEARCH, json=_filters(same_time)).json()["total"] == 25_000
    seen: set[str] = set()
    last_id, requests = "0", 0
    while True:
        body = api.post(
            SEARCH,
            json={
                **_filters(same_time, {"propertyName": "hs_object_id", "operator": "GT", "value": last_id}),
                "sorts": [{"propertyName": "hs_object_id", "direction": "ASCENDING"}],
                "limit": 200,
                "properties": ["email"],
            },
        ).json()
        requests += 1
        if not body["results"]:
            break
        seen.update(r["id"] for r in body["results"])
        last_id = body["results"][-1]["id"]
    assert len(seen) == 25_000 and requests == 126


def test_the_date_header_is_the_sandbox_clock_so_a_search_horizon_sees_records_stamped_after_an_advance(
    hubspot_sandbox: SandboxHandle,
) -> None:
    # Regression: responses carried uvicorn's real-time Date. A client dates its search horizon by that
    # header, as with HubSpot, so after `advance` every record stamped by the sandbox's clock lay beyond
    # the horizon and an incremental read silently skipped it.
    from email.utils import parsedate_to_datetime

    from hubspot_pipeline.hubspot import HubSpotClient, PrivateAppToken, SearchCursor

    hubspot_sandbox.admin.advance(3600)
    with HubSpotClient(
        hubspot_sandbox.base_url, auth=PrivateAppToken(hubspot_sandbox.private_app_token)
    ) as client:
        created = client.create("contacts", {"email": "later@example.com"})
        raw = httpx.get(
            f"{hubspot_sandbox.base_url}/crm/v3/objects/contacts",
            headers=hubspot_sandbox.auth_headers(),
        )
        [date] = raw.headers.get_list("date")
        assert abs(parsedate_to_datetime(date).timestamp() * 1000 - hubspot_sandbox.admin.now_ms()) < 2000
        found = [
            r["id"]
            for page in client.search_modified_since("contacts", SearchCursor(), ["email"], lag_seconds=-3)
            for r in page.results
        ]
    assert found == [created["id"]]
