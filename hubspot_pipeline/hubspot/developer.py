"""What an app's developer credentials do (reference §6.3, §10 problem 15): its timeline event templates,
which belong to the app, not to any portal, so a portal's token cannot touch them.

    with DeveloperClient(base_url, app_id=123, api_key="...") as developer:
        developer.list_event_templates()                        # [{"id", "name", "tokens", ...}]
        developer.create_event_template({"name": ..., "objectType": "contacts", "tokens": [...]})
        developer.update_event_template("1001", {...})          # PUT: name, templates, tokens

The key goes in the `hapikey` query parameter, as HubSpot documents for developer API keys; it is
registered as a secret, so no error message ever shows it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hubspot_pipeline.hubspot.errors import register_secret
from hubspot_pipeline.hubspot.limiter import RateLimiter
from hubspot_pipeline.hubspot.transport import Transport

TEMPLATES = "/integrators/timeline/v3/{app_id}/event-templates"


class DeveloperApiKey:
    """Developer credentials: sent as `hapikey`, never as a bearer token."""

    private_app = False

    def __init__(self, api_key: str) -> None:
        register_secret(api_key)
        self.api_key = api_key

    def __repr__(self) -> str:
        return "DeveloperApiKey([redacted])"

    def bearer(self) -> str:
        return ""

    def refresh_after_expired(self, used: str) -> bool:
        return False


class DeveloperClient(Transport):
    def __init__(
        self, base_url: str, *, app_id: int, api_key: str, limiter: RateLimiter | None = None, **kwargs: Any
    ) -> None:
        self.app_id = app_id
        self._key = DeveloperApiKey(api_key)
        super().__init__(base_url, self._key, limiter=limiter, **kwargs)

    def __enter__(self) -> DeveloperClient:
        return self

    def _templates(self, suffix: str = "") -> str:
        return TEMPLATES.format(app_id=self.app_id) + suffix

    def _params(self) -> dict[str, str]:
        return {"hapikey": self._key.api_key}

    def list_event_templates(self) -> list[dict[str, Any]]:
        body = self.call(
            "GET",
            self._templates(),
            params=self._params(),
            endpoint="GET " + TEMPLATES.format(app_id="{appId}"),
        ).body
        return list((body or {}).get("results", []))

    def create_event_template(self, definition: Mapping[str, Any]) -> dict[str, Any]:
        # Not idempotent (a retried create after a lost answer makes a second template): the caller holds a
        # lock and lists the templates first, and a duplicate would only be an unused template.
        return self.call(
            "POST",
            self._templates(),
            json=dict(definition),
            params=self._params(),
            endpoint="POST " + TEMPLATES.format(app_id="{appId}"),
            idempotent=False,
        ).body

    def update_event_template(self, template_id: str, definition: Mapping[str, Any]) -> dict[str, Any]:
        return self.call(
            "PUT",
            self._templates(f"/{template_id}"),
            json={**definition, "id": str(template_id)},
            params=self._params(),
            endpoint="PUT " + TEMPLATES.format(app_id="{appId}") + "/{eventTemplateId}",
        ).body
