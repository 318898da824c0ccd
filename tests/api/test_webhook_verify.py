"""POST /webhooks/verify against `hubspot-pipeline serve` and the sandbox over HTTP: HubSpot's webhook settings
are read with the developer key, and a signed test event travels to the target URL as HubSpot's would."""

from __future__ import annotations

import httpx
from api_support import Api, developer, url


def test_verify_reports_a_working_setup(served_api: Api, webhook_tenant) -> None:
    tenant, hub_id = webhook_tenant
    response = httpx.post(served_api.base_url + url("/webhooks/verify"), headers=tenant.headers, timeout=30)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["ok"] is True, body
    assert body["target_url"] == served_api.webhook_url and body["hub_id"] == str(hub_id)
    assert {check["name"]: check["ok"] for check in body["checks"]} == {
        "target_url": True,
        "subscriptions": True,
        "delivery": True,
        "signature": True,
    }


def test_verify_names_a_target_url_that_is_not_this_api(
    served_api: Api, hubspot_sandbox, webhook_tenant
) -> None:
    tenant, _ = webhook_tenant
    wrong = served_api.webhook_url.replace("/webhooks", "/webhook")  # a typo in the app's settings
    assert developer(
        hubspot_sandbox, "PUT", "/settings", {"targetUrl": wrong, "throttling": {"maxConcurrentRequests": 10}}
    ).is_success
    body = httpx.post(
        served_api.base_url + url("/webhooks/verify"), headers=tenant.headers, timeout=30
    ).json()
    checks = {check["name"]: check for check in body["checks"]}
    assert body["ok"] is False
    assert checks["target_url"]["ok"] is False and wrong in checks["target_url"]["detail"]
    assert checks["signature"]["ok"] is False
