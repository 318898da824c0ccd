"""Batch writes and reads: chunks of 100, de-duplicated, run concurrently, failures reported per row.

    result = client.batch_upsert("contacts", [{"email": "a@x.com", "firstname": "A"}], id_property="email")
    result.results            # HubSpot objects, one per distinct key
    result.by_key["a@x.com"]  # the object written for that key
    result.errors             # [RowError(key, status, category, message, context)]: log them, skip the rows

- Inputs with the same key are merged before chunking (later values win), so no batch holds one record
  twice (HubSpot rejects that) and every record is written once.
- Every create/update/upsert input carries an `objectWriteTraceId`, so a 207 names the failed rows.
- A batch refused as a whole (400, 409) is split in halves until the bad rows are isolated; the good rows
  are written, the bad ones become `RowError`s. A 409 "Existing ID: N" on a create resolves to record N.
- 5xx, network errors and rate limits are retried by the transport (every batch operation here is
  idempotent: upserts by key, updates and archives by id; creates resolve their own 409s). A batch whose
  retries run out becomes `RowError(retryable=True)` for its rows; the other batches still complete.
  Auth errors and the DAILY cap stop the whole call (nothing more can succeed).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from hubspot_pipeline.hubspot.errors import HubSpotError, HubSpotSyncError, HubSpotValidationError
from hubspot_pipeline.hubspot.transport import Transport

BATCH_SIZE = 100
HISTORY_BATCH_SIZE = 50  # HubSpot refuses more inputs per batch read that asks for property history
EXISTING_ID = re.compile(r"Existing ID:\s*(\d+)")


@dataclass(frozen=True)
class RowError:
    key: str
    status: int | None
    category: str | None
    message: str
    context: dict[str, Any] = field(default_factory=dict)
    # True when HubSpot kept failing (5xx, network): the row itself may be fine, try it again later.
    retryable: bool = False


@dataclass
class BatchResult:
    results: list[dict[str, Any]] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    by_key: dict[str, dict[str, Any]] = field(default_factory=dict)

    def merge(self, other: BatchResult) -> None:
        self.results.extend(other.results)
        self.errors.extend(other.errors)
        self.by_key.update(other.by_key)


def normalise_key(value: Any, id_property: str) -> str:
    text = str(value).strip()
    return text.lower() if id_property in ("email", "domain") else text


def dedupe(rows: Iterable[tuple[str, dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    """key -> merged properties, in first-seen order; later values of a property win."""
    merged: dict[str, dict[str, Any]] = {}
    for key, properties in rows:
        merged.setdefault(key, {}).update(properties)
    return merged


def chunks(items: Sequence[Any], size: int = BATCH_SIZE) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def existing_id(error: HubSpotError) -> str | None:
    return existing_id_in(error.message)


def existing_id_in(message: str) -> str | None:
    """The record id in HubSpot's "Contact already exists. Existing ID: N" (it is only in the text)."""
    match = EXISTING_ID.search(message)
    return match.group(1) if match else None


Send = Callable[[list[tuple[str, dict[str, Any]]]], BatchResult]


class BatchOps(Transport):
    def _fan_out(
        self, items: list[tuple[str, dict[str, Any]]], send: Send, size: int = BATCH_SIZE
    ) -> BatchResult:
        result = BatchResult()
        batches = [list(batch) for batch in chunks(items, size)]
        if len(batches) <= 1 or self.max_concurrency <= 1:
            for batch in batches:
                result.merge(self._isolating(batch, send))
            return result
        with ThreadPoolExecutor(max_workers=self.max_concurrency, thread_name_prefix="hubspot-batch") as pool:
            for part in pool.map(lambda batch: self._isolating(batch, send), batches):
                result.merge(part)
        return result

    def _isolating(self, batch: list[tuple[str, dict[str, Any]]], send: Send) -> BatchResult:
        """Send a batch; when HubSpot refuses it whole, bisect to find the rows at fault."""
        try:
            return send(batch)
        except HubSpotSyncError as error:
            # Retries are exhausted for this batch only: report its rows, keep the other batches' work.
            return BatchResult(errors=[_row_error(key, error) for key, _ in batch])
        except HubSpotValidationError as error:
            if len(batch) == 1:
                return BatchResult(errors=[_row_error(batch[0][0], error)])
            middle = len(batch) // 2
            result = self._isolating(batch[:middle], send)
            result.merge(self._isolating(batch[middle:], send))
            return result

    def _parse(
        self, body: Any, batch: list[tuple[str, dict[str, Any]]], id_property: str | None
    ) -> BatchResult:
        keys = [key for key, _ in batch]
        result = BatchResult()
        for item in (body or {}).get("results", []):
            result.results.append(item)
            key = _key_of(item, keys, id_property)
            if key is not None:
                result.by_key[key] = item
        for error in (body or {}).get("errors", []):
            context = error.get("context") or {}
            named = [
                keys[int(i)]
                for i in context.get("objectWriteTraceId", [])
                if str(i).isdigit() and int(i) < len(keys)
            ]
            named += [str(i) for i in context.get("ids", [])]
            for key in named or ["?"]:
                result.errors.append(
                    RowError(
                        key,
                        int(error["status"]) if str(error.get("status", "")).isdigit() else None,
                        error.get("category"),
                        str(error.get("message", "")),
                        context,
                    )
                )
        return result

    # -- the operations ---------------------------------------------------------------------------------
    def batch_upsert(
        self, object_type: str, records: Sequence[Mapping[str, Any]], id_property: str = "email"
    ) -> BatchResult:
        """Create or update by a unique property (email for contacts); each record is a properties dict."""
        rows = []
        for record in records:
            value = record.get(id_property)
            if value is None or str(value).strip() == "":
                continue
            rows.append((normalise_key(value, id_property), dict(record)))
        merged = dedupe(rows)
        missing = [
            RowError(
                "?", None, "VALIDATION_ERROR", f"A record has no '{id_property}' to upsert by; it was skipped"
            )
            for record in records
            if record.get(id_property) is None or str(record.get(id_property)).strip() == ""
        ]
        path = self.objects_path(object_type) + "/batch/upsert"

        def send(batch: list[tuple[str, dict[str, Any]]]) -> BatchResult:
            inputs = [
                {
                    "id": key,
                    "idProperty": id_property,
                    "properties": _strings(props),
                    "objectWriteTraceId": str(i),
                }
                for i, (key, props) in enumerate(batch)
            ]
            response = self.call("POST", path, json={"inputs": inputs}, endpoint=f"POST {path}")
            return self._parse(response.body, batch, id_property)

        result = self._fan_out(list(merged.items()), send)
        result.errors.extend(missing)
        return result

    def batch_update(self, object_type: str, records: Mapping[str, Mapping[str, Any]]) -> BatchResult:
        """Update records by HubSpot id: `{id: properties}`."""
        path = self.objects_path(object_type) + "/batch/update"

        def send(batch: list[tuple[str, dict[str, Any]]]) -> BatchResult:
            inputs = [
                {"id": key, "properties": _strings(props), "objectWriteTraceId": str(i)}
                for i, (key, props) in enumerate(batch)
            ]
            response = self.call("POST", path, json={"inputs": inputs}, endpoint=f"POST {path}")
            return self._parse(response.body, batch, None)

        return self._fan_out([(str(k), dict(v)) for k, v in records.items()], send)

    def batch_create(
        self,
        object_type: str,
        records: Sequence[Mapping[str, Any]],
        *,
        key_property: str | None = None,
        associations: Sequence[Sequence[Mapping[str, Any]]] | None = None,
    ) -> BatchResult:
        """Create records (properties dicts). With `key_property` (e.g. email) duplicates are merged and a
        409 "Existing ID: N" resolves to record N (`{"id": N, "existing": True}` in `by_key`)."""
        if key_property:
            items = list(
                dedupe(
                    (normalise_key(r.get(key_property, ""), key_property), dict(r)) for r in records
                ).items()
            )
        else:
            items = [(str(i), dict(r)) for i, r in enumerate(records)]
        links = (
            {items[i][0]: list(associations[i]) for i in range(len(items))}
            if associations and not key_property
            else {}
        )
        path = self.objects_path(object_type) + "/batch/create"

        def send(batch: list[tuple[str, dict[str, Any]]]) -> BatchResult:
            inputs = []
            for i, (key, props) in enumerate(batch):
                entry: dict[str, Any] = {"properties": _strings(props), "objectWriteTraceId": str(i)}
                if links.get(key):
                    entry["associations"] = links[key]
                inputs.append(entry)
            try:
                response = self.call(
                    "POST",
                    path,
                    json={"inputs": inputs},
                    endpoint=f"POST {path}",
                    idempotent=key_property is not None,
                )
            except HubSpotValidationError as error:
                found = existing_id(error) if len(batch) == 1 and error.status == 409 else None
                if found is None:
                    raise
                item = {"id": found, "existing": True, "properties": batch[0][1]}
                return BatchResult(results=[item], by_key={batch[0][0]: item})
            parsed = self._parse(response.body, batch, key_property)
            if not key_property:  # positions are the keys: map results in order
                parsed.by_key = {batch[i][0]: item for i, item in enumerate(parsed.results) if i < len(batch)}
            # A 207 names each row that exists already ("Existing ID: N"): that is success with record N.
            properties = dict(batch)
            for row in [e for e in parsed.errors if EXISTING_ID.search(e.message) and e.key in properties]:
                item = {
                    "id": existing_id_in(row.message),
                    "existing": True,
                    "properties": properties[row.key],
                }
                parsed.results.append(item)
                parsed.by_key[row.key] = item
                parsed.errors.remove(row)
            return parsed

        return self._fan_out(items, send)

    def batch_read(
        self,
        object_type: str,
        ids: Sequence[str],
        properties: Sequence[str] = (),
        *,
        id_property: str | None = None,
        properties_with_history: Sequence[str] = (),
    ) -> BatchResult:
        """Read records by id (or by a unique property); missing ones come back as `RowError`s. With
        `properties_with_history` each record also holds `propertiesWithHistory` (newest change first), and
        batches hold at most 50 records, HubSpot's limit when history is asked for."""
        path = self.objects_path(object_type) + "/batch/read"
        unique = list(dict.fromkeys(normalise_key(i, id_property or "id") for i in ids))

        def send(batch: list[tuple[str, dict[str, Any]]]) -> BatchResult:
            payload: dict[str, Any] = {
                "inputs": [{"id": key} for key, _ in batch],
                "properties": list(properties),
            }
            if properties_with_history:
                payload["propertiesWithHistory"] = list(properties_with_history)
            if id_property:
                payload["idProperty"] = id_property
            response = self.call("POST", path, json=payload, endpoint=f"POST {path}")
            return self._parse(response.body, batch, id_property)

        size = HISTORY_BATCH_SIZE if properties_with_history else BATCH_SIZE
        return self._fan_out([(key, {}) for key in unique], send, size)

    def batch_archive(self, object_type: str, ids: Sequence[str]) -> BatchResult:
        path = self.objects_path(object_type) + "/batch/archive"

        def send(batch: list[tuple[str, dict[str, Any]]]) -> BatchResult:
            self.call(
                "POST", path, json={"inputs": [{"id": key} for key, _ in batch]}, endpoint=f"POST {path}"
            )
            return BatchResult()

        return self._fan_out([(str(i), {}) for i in dict.fromkeys(ids)], send)


def _strings(properties: Mapping[str, Any]) -> dict[str, str]:
    """HubSpot property values are strings; None clears a value ("")."""
    out = {}
    for name, value in properties.items():
        if value is None:
            out[name] = ""
        elif isinstance(value, bool):
            out[name] = "true" if value else "false"
        else:
            out[name] = str(value)
    return out


def _key_of(item: Mapping[str, Any], keys: list[str], id_property: str | None) -> str | None:
    trace = item.get("objectWriteTraceId")
    if trace is not None and str(trace).isdigit() and int(trace) < len(keys):
        return keys[int(trace)]
    if id_property:
        value = (item.get("properties") or {}).get(id_property)
        if value is not None:
            return normalise_key(value, id_property)
    if not id_property and item.get("id") is not None:
        return str(item["id"])
    return None


def _row_error(key: str, error: HubSpotError) -> RowError:
    return RowError(key, error.status, error.category, error.message, error.context, error.retryable)
