"""Property definitions and groups (reference §4): read them, create what the sync needs.

client.list_properties("contacts")                                    # [Property]
client.create_property("contacts", {"name": "coldcopy_score", "label": "ColdCopy score", "type": "number",
                                    "fieldType": "number", "groupName": "coldcopy"})   # exists -> returned
client.list_property_groups("contacts"); client.create_property_group("contacts", "coldcopy", "ColdCopy")
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hubspot_pipeline.hubspot.transport import Transport


class PropertyOps(Transport):
    def list_properties(self, object_type: str, *, archived: bool = False) -> list[dict[str, Any]]:
        path = self.properties_path(object_type)
        body = self.call("GET", path, params={"archived": str(archived).lower()}, endpoint=f"GET {path}").body
        return list((body or {}).get("results", []))

    def get_property(self, object_type: str, name: str) -> dict[str, Any] | None:
        base = self.properties_path(object_type)
        response = self.call("GET", f"{base}/{name}", endpoint=f"GET {base}/{{name}}", accept=(404,))
        return None if response.status == 404 else response.body

    def create_property(self, object_type: str, definition: Mapping[str, Any]) -> dict[str, Any]:
        """Create a property; if it already exists (409), the existing definition is returned."""
        path = self.properties_path(object_type)
        response = self.call("POST", path, json=dict(definition), endpoint=f"POST {path}", accept=(409,))
        if response.status == 409:
            existing = self.get_property(object_type, str(definition["name"]))
            if existing is not None:
                return existing
        return response.body

    def list_property_groups(self, object_type: str) -> list[dict[str, Any]]:
        path = self.properties_path(object_type) + "/groups"
        return list((self.call("GET", path, endpoint=f"GET {path}").body or {}).get("results", []))

    def create_property_group(
        self, object_type: str, name: str, label: str, display_order: int = -1
    ) -> dict[str, Any]:
        path = self.properties_path(object_type) + "/groups"
        response = self.call(
            "POST",
            path,
            json={"name": name, "label": label, "displayOrder": display_order},
            endpoint=f"POST {path}",
            accept=(409,),
        )
        if response.status == 409:
            return {"name": name, "label": label, "existing": True}
        return response.body
