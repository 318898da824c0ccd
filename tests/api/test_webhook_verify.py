"""POST /webhooks/verify against `hubspot-pipeline serve` and the sandbox over HTTP: HubSpot's webhook settings
are read with the developer key, and a signed test event travels to the target URL as HubSpot's would. The
target comes from configuration or HubSpot's settings, never from the request (the attacker's tests)."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest
from api_support import Api, Tenant, developer, make_tenant, url
from listener import listening

from hubspot_pipeline.hubspot.signatures import verify_v3
from hubspot_pipeline.settings import get_settings


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


@pytest.fixture
def configure(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., None]]:
    """Set (a value) or unset (None) settings of the in-process API for one test."""

    def apply(**variables: str | None) -> None:
        for name, value in variables.items():
            if value is None:
                monkeypatch.delenv(name, raising=False)
            else:
                monkeypatch.setenv(name, value)
        get_settings.cache_clear()

    yield apply
    monkeypatch.undo()
    get_settings.cache_clear()


def test_verify_never_posts_to_a_host_named_by_the_caller(client, tenant: Tenant, configure) -> None:
    # Regression: with WEBHOOK_PUBLIC_URL unset, the test delivery went to a URL built from the request's
    # Host header, so any API-key holder could make the server post payloads signed with the app's client
    # secret to an internal address of their choice, and learn from the answer whether it listened.
    configure(WEBHOOK_PUBLIC_URL=None, HUBSPOT_DEVELOPER_API_KEY=None)
    with listening() as internal:
        response = client.post(
            url("/webhooks/verify"), headers={**tenant.headers, "Host": f"127.0.0.1:{internal.port}"}
        )
    assert internal.requests == []
    assert response.status_code == 409, response.text
    error = response.json()["error"]
    assert error["code"] == "webhook_target_unknown"
    assert "WEBHOOK_PUBLIC_URL" in error["message"] and "HUBSPOT_DEVELOPER_API_KEY" in error["message"]


def test_verify_sends_its_test_delivery_to_the_configured_url_whatever_the_host(
    client, tenant: Tenant, configure
) -> None:
    with listening() as configured, listening() as internal:
        public = f"{configured.base_url}/hooks/hubspot"
        configure(WEBHOOK_PUBLIC_URL=public, HUBSPOT_DEVELOPER_API_KEY=None)
        response = client.post(
            url("/webhooks/verify"), headers={**tenant.headers, "Host": f"127.0.0.1:{internal.port}"}
        )
    assert internal.requests == []
    assert [(r.method, r.path) for r in configured.requests] == [("POST", "/hooks/hubspot")]
    delivery = configured.requests[0]
    assert verify_v3(
        get_settings().hubspot_client_secret.get_secret_value(),
        "POST",
        public,
        delivery.body,
        delivery.headers["X-HubSpot-Signature-v3"],
        delivery.headers["X-HubSpot-Request-Timestamp"],
    )
    body = response.json()
    assert response.status_code == 200 and body["target_url"] == public
    # The listener is not this API: it answered, but not like the webhook endpoint.
    assert {c["name"]: c["ok"] for c in body["checks"]}["signature"] is False


def test_verify_does_not_fall_back_to_the_host_when_hubspot_holds_no_target(
    served_api: Api, hubspot_sandbox, engine
) -> None:
    # Regression: with the developer key set but no target URL in the app's webhook settings (HubSpot
    # answers 404), the test delivery fell back to the Host header's URL.
    tenant = make_tenant(engine)
    with listening() as internal:
        response = httpx.post(
            served_api.base_url + url("/webhooks/verify"),
            headers={**tenant.headers, "Host": f"127.0.0.1:{internal.port}"},
            timeout=30,
        )
    assert internal.requests == []
    body = response.json()
    checks = {check["name"]: check for check in body["checks"]}
    assert response.status_code == 200 and body["ok"] is False and body["target_url"] is None
    assert checks["hubspot_webhook_settings"]["ok"] is False
    assert checks["delivery"]["ok"] is None and "WEBHOOK_PUBLIC_URL" in checks["delivery"]["detail"]
