"""Per-portal budgets: the X-HubSpot-RateLimit-* headers, 429 bodies for the rolling 10-second window,
the daily cap and the 5-per-second search limit, OAuth's 110 without daily headers, Retry-After when
configured, portals that never share a budget, and the window analysis tests use to check a client."""

from __future__ import annotations

import httpx

from hubspot_pipeline.sandbox.testing import SandboxHandle

CONTACTS = "/crm/v3/objects/contacts"


def test_headers_count_down_the_rolling_window(api: httpx.Client) -> None:
    first, second = api.get(CONTACTS), api.get(CONTACTS)
    assert first.headers["X-HubSpot-RateLimit-Max"] == "100"
    assert first.headers["X-HubSpot-RateLimit-Interval-Milliseconds"] == "10000"
    assert (
        first.headers["X-HubSpot-RateLimit-Remaining"],
        second.headers["X-HubSpot-RateLimit-Remaining"],
    ) == (
        "99",
        "98",
    )
    assert first.headers["X-HubSpot-RateLimit-Daily"] == "250000"
    assert int(second.headers["X-HubSpot-RateLimit-Daily-Remaining"]) == 249_998
    assert first.headers["X-HubSpot-RateLimit-Secondly"] == "10"
    assert first.headers["X-HubSpot-RateLimit-Secondly-Remaining"] == "9"
    assert second.headers["X-HubSpot-RateLimit-Secondly-Remaining"] == "8"


def test_the_101st_request_in_ten_seconds_is_a_429_until_the_window_rolls(
    api: httpx.Client, hubspot_sandbox: SandboxHandle
) -> None:
    statuses = [api.get(CONTACTS).status_code for _ in range(101)]
    assert statuses.count(200) == 100 and statuses[-1] == 429
    limited = api.get(CONTACTS)
    body = limited.json()
    assert body["policyName"] == "TEN_SECONDLY_ROLLING" and body["errorType"] == "RATE_LIMIT"
    assert body["message"] == "You have reached your ten_secondly_rolling limit."
    assert "category" not in body and "Retry-After" not in limited.headers
    assert body["groupName"] == f"publicapi:private_app-api-calls-ten-secondly:1:{hubspot_sandbox.hub_id}"
    hubspot_sandbox.admin.advance(10)
    assert api.get(CONTACTS).status_code == 200
    windows = hubspot_sandbox.admin.rate_windows()
    assert windows["attempts"] == 103 and windows["accepted"] == 101
    assert windows["maxAcceptedInWindow"] == 100 and windows["attemptsOverLimit"] == 2


def test_profiles_and_retry_after_are_configurable(api: httpx.Client, hubspot_sandbox: SandboxHandle) -> None:
    hubspot_sandbox.admin.configure(rate_limit_profile="professional", retry_after_seconds=10)
    assert api.get(CONTACTS).headers["X-HubSpot-RateLimit-Max"] == "190"
    hubspot_sandbox.admin.configure(ten_second_limit=3)
    statuses = [api.get(CONTACTS).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]  # one of the budget was spent at the 190 limit in this window
    assert api.get(CONTACTS).headers["Retry-After"] == "10"


def test_daily_cap_is_a_429_with_policy_daily(api: httpx.Client, hubspot_sandbox: SandboxHandle) -> None:
    hubspot_sandbox.admin.configure(daily_limit=2)
    assert [api.get(CONTACTS).status_code for _ in range(3)] == [200, 200, 429]
    body = api.get(CONTACTS).json()
    hubspot_sandbox.admin.configure(daily_limit=3, ten_second_limit=2)
    burst = api.get(CONTACTS)  # refused by the window: not charged to the day
    assert burst.json()["policyName"] == "TEN_SECONDLY_ROLLING"
    assert burst.headers["X-HubSpot-RateLimit-Daily-Remaining"] == "1"
    hubspot_sandbox.admin.configure(daily_limit=2, ten_second_limit=None)
    assert body["policyName"] == "DAILY" and body["message"] == "You have reached your daily limit."
    hubspot_sandbox.admin.advance(86_400)
    assert api.get(CONTACTS).status_code == 200


def test_search_has_its_own_five_per_second_limit(api: httpx.Client, hubspot_sandbox: SandboxHandle) -> None:
    statuses = [api.post(f"{CONTACTS}/search", json={}).status_code for _ in range(6)]
    assert statuses == [200] * 5 + [429]
    body = api.post(f"{CONTACTS}/search", json={}).json()
    assert body["policyName"] == "SECONDLY" and body["message"] == "You have reached your secondly limit."
    # Searches do not spend the 10-second window.
    assert api.get(CONTACTS).headers["X-HubSpot-RateLimit-Remaining"] == "99"
    hubspot_sandbox.admin.advance(1)
    assert api.post(f"{CONTACTS}/search", json={}).status_code == 200


def test_oauth_apps_get_110_and_no_daily_headers(hubspot_sandbox: SandboxHandle) -> None:
    token = hubspot_sandbox.admin.issue_oauth_token()["access_token"]
    response = httpx.get(hubspot_sandbox.base_url + CONTACTS, headers=hubspot_sandbox.auth_headers(token))
    assert response.headers["X-HubSpot-RateLimit-Max"] == "110"
    assert "X-HubSpot-RateLimit-Daily" not in response.headers


def test_each_portal_has_its_own_budget_and_data(api: httpx.Client, hubspot_sandbox: SandboxHandle) -> None:
    hub_id, token = hubspot_sandbox.admin.add_portal()
    hubspot_sandbox.admin.configure(ten_second_limit=2)
    api.post(CONTACTS, json={"properties": {"email": "only-in-first@x.com"}})
    api.get(CONTACTS)
    assert api.get(CONTACTS).status_code == 429
    with httpx.Client(
        base_url=hubspot_sandbox.base_url, headers=hubspot_sandbox.auth_headers(token)
    ) as other:
        response = other.get(CONTACTS)
        assert response.status_code == 200 and response.json()["results"] == []
    assert hubspot_sandbox.admin.rate_windows(hub_id)["attempts"] == 1


def test_faults_and_rate_limits_can_be_switched_off(
    api: httpx.Client, hubspot_sandbox: SandboxHandle
) -> None:
    hubspot_sandbox.admin.configure(rate_limits_enabled=False, ten_second_limit=1)
    assert {api.get(CONTACTS).status_code for _ in range(5)} == {200}


def test_rate_windows_keep_searches_apart_from_the_ten_second_window(
    api: httpx.Client, hubspot_sandbox: SandboxHandle
) -> None:
    # Regression: searches were logged with general calls, so a client that spent its 100 general calls and
    # its 5 searches in one window looked 5 calls over the 10-second limit it never exceeded.
    searched = [api.post(f"{CONTACTS}/search", json={}).status_code for _ in range(6)]
    assert searched == [200] * 5 + [429]  # the sixth search in the second
    assert {api.get(CONTACTS).status_code for _ in range(100)} == {200}
    general = hubspot_sandbox.admin.rate_windows()
    assert (general["attempts"], general["accepted"], general["maxAcceptedInWindow"]) == (100, 100, 100)
    assert general["attemptsOverLimit"] == 0 and general["budget"] == "general"
    searches = hubspot_sandbox.admin.rate_windows(budget="search")
    assert (searches["windowMs"], searches["limit"], searches["budget"]) == (1_000, 5, "search")
    assert (searches["attempts"], searches["accepted"], searches["maxAcceptedInWindow"]) == (6, 5, 5)
    assert searches["attemptsOverLimit"] == 1
    hubspot_sandbox.admin.reset_counters()
    assert hubspot_sandbox.admin.rate_windows(budget="search")["attempts"] == 0
