"""Associations v4 (reference §5): default and labelled links, batch create/read/archive.

client.associate_default("contacts", "1", "companies", "2")
client.batch_associate_default("contacts", "companies", [("1", "2"), ...])     # chunks of 100
client.batch_associate("emails", "contacts", [("10", "1")], type_id=198)      # HUBSPOT_DEFINED type
client.batch_read_associations("contacts", "companies", ["1", "2"])            # {from_id: [to_id, ...]}
client.associated_ids("contacts", "emails", ["1", "2"])                        # every page of each
client.batch_archive_associations("contacts", "companies", [("1", "2")])
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hubspot_pipeline.hubspot.batch import BATCH_SIZE, chunks
from hubspot_pipeline.hubspot.transport import Transport

V4 = "/crm/v4"
READ_INPUTS = 1_000  # inputs per associations batch read (reference §5.2)


class AssociationOps(Transport):
    def associate_default(self, from_type: str, from_id: str, to_type: str, to_id: str) -> None:
        template = f"{V4}/objects/{from_type}/{{id}}/associations/default/{to_type}/{{toId}}"
        self.call(
            "PUT",
            f"{V4}/objects/{from_type}/{from_id}/associations/default/{to_type}/{to_id}",
            endpoint=f"PUT {template}",
        )

    def batch_associate_default(self, from_type: str, to_type: str, pairs: Sequence[tuple[str, str]]) -> int:
        path = f"{V4}/associations/{from_type}/{to_type}/batch/associate/default"
        unique = list(dict.fromkeys((str(a), str(b)) for a, b in pairs))
        for batch in chunks(unique, BATCH_SIZE):
            inputs = [{"from": {"id": a}, "to": {"id": b}} for a, b in batch]
            self.call("POST", path, json={"inputs": inputs}, endpoint=f"POST {path}")
        return len(unique)

    def batch_associate(
        self,
        from_type: str,
        to_type: str,
        pairs: Sequence[tuple[str, str]],
        *,
        type_id: int,
        category: str = "HUBSPOT_DEFINED",
    ) -> list[dict[str, Any]]:
        """Create typed associations; returns HubSpot's per-row errors (empty when all succeeded)."""
        path = f"{V4}/associations/{from_type}/{to_type}/batch/create"
        errors: list[dict[str, Any]] = []
        unique = list(dict.fromkeys((str(a), str(b)) for a, b in pairs))
        for batch in chunks(unique, BATCH_SIZE):
            inputs = [
                {
                    "from": {"id": a},
                    "to": {"id": b},
                    "types": [{"associationCategory": category, "associationTypeId": type_id}],
                }
                for a, b in batch
            ]
            body = self.call("POST", path, json={"inputs": inputs}, endpoint=f"POST {path}").body or {}
            errors.extend(body.get("errors", []))
        return errors

    def batch_read_associations(
        self, from_type: str, to_type: str, ids: Sequence[str]
    ) -> dict[str, list[str]]:
        path = f"{V4}/associations/{from_type}/{to_type}/batch/read"
        out: dict[str, list[str]] = {}
        for batch in chunks(list(dict.fromkeys(str(i) for i in ids)), BATCH_SIZE):
            body = self.call(
                "POST", path, json={"inputs": [{"id": i} for i in batch]}, endpoint=f"POST {path}"
            ).body
            for row in (body or {}).get("results", []):
                # toObjectId is documented as a string but returned as a number: accept both.
                targets = out.setdefault(str(row["from"]["id"]), [])
                targets.extend(str(to["toObjectId"]) for to in row.get("to", []))
        return out

    def associated_ids(self, from_type: str, to_type: str, ids: Sequence[str]) -> dict[str, list[str]]:
        """Every record associated with each of `ids`, following each one's paging (500 a page): direct
        reads, consistent at once (search lags). Records with no association map to []."""
        path = f"{V4}/associations/{from_type}/{to_type}/batch/read"
        out: dict[str, list[str]] = {str(i): [] for i in ids}
        pending: list[dict[str, str]] = [{"id": i} for i in out]
        while pending:
            following: list[dict[str, str]] = []
            for batch in chunks(pending, READ_INPUTS):
                body = self.call("POST", path, json={"inputs": list(batch)}, endpoint=f"POST {path}").body
                for row in (body or {}).get("results", []):
                    from_id = str(row["from"]["id"])
                    out.setdefault(from_id, []).extend(str(to["toObjectId"]) for to in row.get("to", []))
                    after = ((row.get("paging") or {}).get("next") or {}).get("after")
                    if after:
                        following.append({"id": from_id, "after": str(after)})
            pending = following
        return out

    def batch_archive_associations(
        self, from_type: str, to_type: str, pairs: Sequence[tuple[str, str]]
    ) -> None:
        path = f"{V4}/associations/{from_type}/{to_type}/batch/archive"
        grouped: dict[str, list[str]] = {}
        for a, b in pairs:
            grouped.setdefault(str(a), []).append(str(b))
        for batch in chunks(list(grouped.items()), BATCH_SIZE):
            inputs = [{"from": {"id": a}, "to": [{"id": b} for b in targets]} for a, targets in batch]
            self.call("POST", path, json={"inputs": inputs}, endpoint=f"POST {path}")
