"""CRM records of one object type in one portal, with the indexes that keep batch work O(batch):
id → record, unique value → id (email and custom unique properties), and ids in creation order for
cursor paging."""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

from hubspot_pipeline.sandbox.search_index import SearchIndex


@dataclass(frozen=True)
class WriteSource:
    """Who made a change, as property history and webhooks report it."""

    change_source: str  # INTEGRATION, API, CRM_UI, MERGE ...
    source_id: str | None = None
    user_id: int | None = None


@dataclass(slots=True)
class HistoryEntry:
    timestamp_ms: int
    source: WriteSource
    values: dict[str, str]


@dataclass(slots=True)
class CrmRecord:
    id: int
    # Replaced, never mutated in place: the search index keeps a reference to the version it has seen.
    properties: dict[str, str]
    created_ms: int
    updated_ms: int
    history: list[HistoryEntry] = field(default_factory=list)
    archived_ms: int | None = None

    @property
    def archived(self) -> bool:
        return self.archived_ms is not None


class ObjectStore:
    def __init__(
        self, unique_properties: set[str], case_insensitive: set[str], aliases: dict[str, str] | None = None
    ) -> None:
        self.records: dict[int, CrmRecord] = {}
        self._ids: list[int] = []  # ascending; may hold ids of records since merged away
        self._unique: dict[str, dict[str, int]] = {name: {} for name in unique_properties}
        self._case_insensitive = case_insensitive
        # A unique property's ";"-separated alias values identify a record too: a contact is found by
        # any of its hs_additional_emails (reference §2.4), e.g. the email of a contact merged into it.
        self._aliases = aliases or {}
        self._alias_index: dict[str, dict[str, int]] = {name: {} for name in self._aliases}
        self.search = SearchIndex()

    # --- unique indexes -------------------------------------------------------------------------------
    def add_unique_property(self, name: str) -> None:
        index: dict[str, int] = {}
        for record in self.records.values():
            value = record.properties.get(name)
            if value and not record.archived:
                index[self._key(name, value)] = record.id
        self._unique[name] = index

    def unique_properties(self) -> set[str]:
        return set(self._unique)

    def _key(self, name: str, value: str) -> str:
        return value.lower() if name in self._case_insensitive else value

    def find_unique(self, name: str, value: str) -> CrmRecord | None:
        record_id = self.unique_owner(name, value) if value else None
        return self.records.get(record_id) if record_id is not None else None

    def unique_owner(self, name: str, value: str) -> int | None:
        index = self._unique.get(name)
        if index is None:
            return None
        key = self._key(name, value)
        owner = index.get(key)
        if owner is None and name in self._alias_index:
            owner = self._alias_index[name].get(key)
        return owner

    def _reindex(self, record: CrmRecord, old: dict[str, str], new: dict[str, str] | None) -> None:
        for name, index in self._unique.items():
            old_value = old.get(name)
            new_value = new.get(name) if new is not None else None
            if old_value == new_value:
                continue
            if old_value and index.get(self._key(name, old_value)) == record.id:
                del index[self._key(name, old_value)]
            if new_value:
                index[self._key(name, new_value)] = record.id
        for name, alias in self._aliases.items():
            old_values = {self._key(name, v) for v in old.get(alias, "").split(";") if v}
            new_values = {self._key(name, v) for v in (new or {}).get(alias, "").split(";") if v}
            aliases = self._alias_index[name]
            for value in old_values - new_values:
                if aliases.get(value) == record.id:
                    del aliases[value]
            for value in new_values - old_values:
                aliases[value] = record.id

    # --- writes ---------------------------------------------------------------------------------------
    def insert(self, record: CrmRecord, visible_at_ms: int | None) -> None:
        self.records[record.id] = record
        if not self._ids or record.id > self._ids[-1]:
            self._ids.append(record.id)
        else:
            bisect.insort(self._ids, record.id)
        self._reindex(record, {}, record.properties)
        self.search.put(record.id, record.properties, visible_at_ms)

    def replace(
        self, record: CrmRecord, properties: dict[str, str], updated_ms: int, visible_at_ms: int | None
    ) -> None:
        old = record.properties
        record.properties = properties
        record.updated_ms = updated_ms
        if not record.archived:
            self._reindex(record, old, properties)
            self.search.put(record.id, properties, visible_at_ms)

    def archive(self, record: CrmRecord, archived_ms: int, visible_at_ms: int | None) -> None:
        record.archived_ms = archived_ms
        self._reindex(record, record.properties, None)
        self.search.remove(record.id, visible_at_ms)

    def restore(self, record: CrmRecord, visible_at_ms: int | None) -> None:
        record.archived_ms = None
        self._reindex(record, {}, record.properties)
        self.search.put(record.id, record.properties, visible_at_ms)

    def delete(self, record: CrmRecord, visible_at_ms: int | None) -> None:
        """Gone for good (merged away, GDPR): not even archived=true lists it."""
        if not record.archived:
            self._reindex(record, record.properties, None)
        self.records.pop(record.id, None)
        self.search.remove(record.id, visible_at_ms)

    # --- reads ----------------------------------------------------------------------------------------
    def get(self, record_id: int, archived: bool = False) -> CrmRecord | None:
        record = self.records.get(record_id)
        if record is None or record.archived != archived:
            return None
        return record

    def page(self, after: int | None, limit: int, archived: bool) -> tuple[list[CrmRecord], int | None]:
        """Records with id > after in id order; and the cursor of the next page, if any."""
        start = 0 if after is None else bisect.bisect_right(self._ids, after)
        found: list[CrmRecord] = []
        position = start
        while position < len(self._ids):
            record = self.records.get(self._ids[position])
            position += 1
            if record is None or record.archived != archived:
                continue
            if len(found) == limit:
                return found, found[-1].id
            found.append(record)
        return found, None

    def count(self, archived: bool = False) -> int:
        return sum(1 for record in self.records.values() if record.archived == archived)
