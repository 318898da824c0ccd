"""A typed client for the sandbox's /_sandbox surface, for tests and benchmarks (over HTTP, so it works
the same against a sandbox in another process)."""

from __future__ import annotations

from typing import Any

import httpx


class SandboxAdmin:
    def __init__(self, base_url: str, hub_id: int) -> None:
        self._http = httpx.Client(base_url=base_url + "/_sandbox", timeout=60)
        self.hub_id = hub_id

    def close(self) -> None:
        self._http.close()

    def _call(self, method: str, path: str, json: Any = None, params: dict[str, Any] | None = None) -> Any:
        response = self._http.request(method, path, json=json, params=params)
        response.raise_for_status()
        return response.json() if response.content else None

    def _portal(self, hub_id: int | None) -> str:
        return f"/portals/{hub_id or self.hub_id}"

    # --- state, options, clock ------------------------------------------------------------------------
    def reset(self) -> None:
        """Forget all records, tokens, webhook subscriptions and counters (options and clock stay)."""
        self._call("POST", "/reset")

    def configure(self, **options: Any) -> dict[str, Any]:
        """Change options at runtime; nested ones merge: configure(faults={"error_503": 0.2})."""
        return self._call("PATCH", "/config", json=options)

    def config(self) -> dict[str, Any]:
        return self._call("GET", "/config")

    def now_ms(self) -> int:
        return self._call("GET", "/clock")["nowMs"]

    def advance(self, seconds: float) -> int:
        """Move the sandbox clock forward: tokens expire, windows roll, index lag passes, retries fall due."""
        return self._call("POST", "/clock/advance", json={"seconds": seconds})["nowMs"]

    # --- counters -------------------------------------------------------------------------------------
    def counters(self, hub_id: int | None = None) -> dict[str, Any]:
        return self._call("GET", "/counters", params={"hubId": hub_id} if hub_id else None)

    def calls(self, endpoint: str, status: int | None = None, hub_id: int | None = None) -> int:
        """Calls to one endpoint, e.g. calls("POST /crm/v3/objects/contacts/batch/upsert", 200)."""
        by_status = self.counters(hub_id)["byEndpoint"].get(endpoint, {})
        return by_status.get(str(status), 0) if status is not None else sum(by_status.values())

    def held(self, endpoint: str) -> int:
        """Requests to `endpoint` waiting now because it is held (configure(faults={"hold": [endpoint]}))."""
        return self.counters()["held"].get(endpoint, 0)

    def reset_counters(self) -> None:
        self._call("DELETE", "/counters")

    def rate_windows(
        self,
        hub_id: int | None = None,
        window_ms: int | None = None,
        limit: int | None = None,
        budget: str = "general",
    ) -> dict[str, Any]:
        """The busiest windows of one budget: "general" (default window 10 s, the burst limit) or "search"
        (1 s, the search limit)."""
        params: dict[str, Any] = {"budget": budget}
        if window_ms is not None:
            params["windowMs"] = window_ms
        if limit is not None:
            params["limit"] = limit
        return self._call("GET", self._portal(hub_id) + "/rate-windows", params=params)

    # --- portals and data -----------------------------------------------------------------------------
    def add_portal(self, hub_id: int | None = None, private_app_token: str | None = None) -> tuple[int, str]:
        body = self._call("POST", "/portals", json={"hubId": hub_id, "privateAppToken": private_app_token})
        return body["hubId"], body["privateAppToken"]

    def ui_edit(
        self,
        object_id: str | int,
        properties: dict[str, str],
        object_type: str = "contacts",
        hub_id: int | None = None,
        user_id: int = 4242,
        id_property: str | None = None,
    ) -> dict[str, Any]:
        """Edit a record as a person in HubSpot's UI would (changeSource CRM_UI; fires webhooks)."""
        return self._call(
            "POST",
            f"{self._portal(hub_id)}/objects/{object_type}/{object_id}/ui-edit",
            json={"properties": properties, "userId": user_id, "idProperty": id_property},
        )

    def restore(
        self, object_id: str | int, object_type: str = "contacts", hub_id: int | None = None
    ) -> dict[str, Any]:
        """Restore an archived record from the recycle bin, as a person would (fires `*.restore`)."""
        return self._call("POST", f"{self._portal(hub_id)}/objects/{object_type}/{object_id}/restore")

    def bulk_create(
        self,
        count: int,
        object_type: str = "contacts",
        properties: dict[str, str] | None = None,
        timestamp_ms: int | None = None,
        hub_id: int | None = None,
    ) -> dict[str, Any]:
        """Create many records stamped with one identical timestamp ("{i}" in values becomes the index)."""
        return self._call(
            "POST",
            f"{self._portal(hub_id)}/objects/{object_type}/bulk-create",
            json={"count": count, "properties": properties or {}, "timestampMs": timestamp_ms},
        )

    def bulk_load(
        self,
        records: list[dict[str, Any]],
        object_type: str = "contacts",
        timestamp_ms: int | None = None,
        hub_id: int | None = None,
        chunk: int = 20_000,
    ) -> list[str]:
        """Load records as given ({"properties": {...}, "timestampMs": optional}) without the API's budget;
        returns their ids in order (what a benchmark uses to fill a portal with a million contacts)."""
        ids: list[str] = []
        for start in range(0, len(records), chunk):
            body = self._call(
                "POST",
                f"{self._portal(hub_id)}/objects/{object_type}/bulk-create",
                json={"records": records[start : start + chunk], "timestampMs": timestamp_ms},
            )
            ids.extend(body["ids"])
        return ids

    def touch(
        self,
        ids: list[str | int] | None = None,
        object_type: str = "contacts",
        timestamp_ms: int | None = None,
        hub_id: int | None = None,
    ) -> dict[str, Any]:
        """Stamp records (all when ids is None) with one identical last-modified time, as bulk jobs do."""
        return self._call(
            "POST",
            f"{self._portal(hub_id)}/objects/{object_type}/touch",
            json={"ids": ids, "timestampMs": timestamp_ms},
        )

    def issue_oauth_token(
        self, scopes: list[str] | None = None, expires_in: int | None = None, hub_id: int | None = None
    ) -> dict[str, Any]:
        """An OAuth access + refresh token for the portal, without the authorize redirect."""
        return self._call(
            "POST", self._portal(hub_id) + "/oauth-tokens", json={"scopes": scopes, "expiresIn": expires_in}
        )

    def add_flow(
        self,
        name: str,
        workflow_id: int | None = None,
        object_type_id: str = "0-1",
        enabled: bool = True,
        hub_id: int | None = None,
    ) -> dict[str, Any]:
        return self._call(
            "POST",
            self._portal(hub_id) + "/flows",
            json={
                "name": name,
                "workflowId": workflow_id,
                "objectTypeId": object_type_id,
                "isEnabled": enabled,
            },
        )

    def enrollments(self, hub_id: int | None = None) -> list[dict[str, Any]]:
        return self._call("GET", self._portal(hub_id) + "/enrollments")["results"]

    def timeline_events(self, hub_id: int | None = None) -> list[dict[str, Any]]:
        """Every timeline event of the portal: eventTemplateId, id, objectId, tokens, timestamp (ms)."""
        return self._call("GET", self._portal(hub_id) + "/timeline-events")["results"]

    def gdpr_deletions(self, hub_id: int | None = None) -> dict[str, Any]:
        """GDPR deletes asked: {"results": [{objectId, idProperty, deletedId, at}], "blocklist": [emails]}."""
        return self._call("GET", self._portal(hub_id) + "/gdpr-deletions")

    # --- webhooks -------------------------------------------------------------------------------------
    def webhooks(self) -> dict[str, Any]:
        """Delivery statistics, pending retries and the log of every delivery attempt."""
        return self._call("GET", "/webhooks")

    def flush_webhooks(self) -> dict[str, Any]:
        """Send every queued event now and wait for the answers (retries due later stay scheduled)."""
        return self._call("POST", "/webhooks/flush")
