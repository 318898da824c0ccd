"""Single CRM records and list scans: get, create, update, archive, paginated list (reference §2.1).

client.get("contacts", "123", properties=["email"])              # None when HubSpot says 404
client.get("contacts", "a@x.com", id_property="email")
client.create("contacts", {"email": "a@x.com"})                   # a 409 "Existing ID: N" returns record N
client.update("contacts", "123", {"firstname": "A"})
client.archive("contacts", "123")
client.gdpr_delete("123") / client.gdpr_delete("a@x.com", id_property="email")   # False: no such id (404)
for page in client.list_pages("contacts", properties=["email"], archived=False): ...
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from hubspot_pipeline.hubspot.batch import _strings, existing_id
from hubspot_pipeline.hubspot.errors import HubSpotValidationError
from hubspot_pipeline.hubspot.transport import Transport

LIST_PAGE_SIZE = 100


class ObjectOps(Transport):
    def get(
        self,
        object_type: str,
        object_id: str,
        properties: Sequence[str] = (),
        *,
        id_property: str | None = None,
        archived: bool = False,
    ) -> dict[str, Any] | None:
        base = self.objects_path(object_type)
        params: dict[str, Any] = {"archived": str(archived).lower()}
        if properties:
            params["properties"] = ",".join(properties)
        if id_property:
            params["idProperty"] = id_property
        response = self.call(
            "GET", f"{base}/{object_id}", params=params, endpoint=f"GET {base}/{{id}}", accept=(404,)
        )
        return None if response.status == 404 else response.body

    def create(
        self, object_type: str, properties: Mapping[str, Any], associations: Sequence[Mapping[str, Any]] = ()
    ) -> dict[str, Any]:
        """Create one record. A 409 "Existing ID: N" (the record exists) returns `{"id": N, "existing": True}`."""
        path = self.objects_path(object_type)
        payload: dict[str, Any] = {"properties": _strings(properties)}
        if associations:
            payload["associations"] = list(associations)
        try:
            return self.call("POST", path, json=payload, endpoint=f"POST {path}", idempotent=False).body
        except HubSpotValidationError as error:
            found = existing_id(error) if error.status == 409 else None
            if found is None:
                raise
            return {"id": found, "existing": True, "properties": dict(properties)}

    def update(
        self,
        object_type: str,
        object_id: str,
        properties: Mapping[str, Any],
        *,
        id_property: str | None = None,
    ) -> dict[str, Any]:
        base = self.objects_path(object_type)
        params = {"idProperty": id_property} if id_property else None
        return self.call(
            "PATCH",
            f"{base}/{object_id}",
            json={"properties": _strings(properties)},
            params=params,
            endpoint=f"PATCH {base}/{{id}}",
        ).body

    def archive(self, object_type: str, object_id: str) -> None:
        base = self.objects_path(object_type)
        self.call("DELETE", f"{base}/{object_id}", endpoint=f"DELETE {base}/{{id}}", accept=(404,))

    def list_pages(
        self,
        object_type: str,
        properties: Sequence[str] = (),
        *,
        archived: bool = False,
        associations: Sequence[str] = (),
        after: str | None = None,
        page_size: int = LIST_PAGE_SIZE,
    ) -> Iterator[tuple[list[dict[str, Any]], str | None]]:
        """Every record, a page at a time, with the `after` to resume from (None after the last page)."""
        path = self.objects_path(object_type)
        while True:
            params: dict[str, Any] = {"limit": page_size, "archived": str(archived).lower()}
            if properties:
                params["properties"] = ",".join(properties)
            if associations:
                params["associations"] = ",".join(associations)
            if after:
                params["after"] = after
            body = self.call("GET", path, params=params, endpoint=f"GET {path}").body or {}
            after = ((body.get("paging") or {}).get("next") or {}).get("after")
            yield body.get("results", []), after
            if not after:
                return

    def gdpr_delete(self, object_id: str, *, id_property: str | None = None) -> bool:
        """Permanently delete a contact and its associated content (GDPR), by id or by `id_property="email"`.
        True when HubSpot answered 204; False for a 404 (no contact with that id: already gone). By email,
        HubSpot answers 204 even when no contact holds the address (it blocklists it)."""
        path = self.objects_path("contacts") + "/gdpr-delete"
        payload: dict[str, Any] = {"objectId": str(object_id)}
        if id_property:
            payload["idProperty"] = id_property
        response = self.call("POST", path, json=payload, endpoint=f"POST {path}", accept=(404,))
        return response.status != 404
