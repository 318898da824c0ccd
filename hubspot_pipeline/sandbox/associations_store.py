"""Associations between records of one portal, kept in both directions so reads from either side are O(1)."""

from __future__ import annotations

from collections import defaultdict

from hubspot_pipeline.sandbox.association_types import KINDS

# (category, type id)
Label = tuple[str, int]
RecordKey = tuple[str, int]  # (object type id, record id)


class AssociationStore:
    def __init__(self) -> None:
        self._links: dict[RecordKey, dict[str, dict[int, set[Label]]]] = defaultdict(dict)

    def labels(self, source: RecordKey, to_type: str, to_id: int) -> set[Label]:
        return set(self._links.get(source, {}).get(to_type, {}).get(to_id, set()))

    def targets(self, source: RecordKey, to_type: str) -> dict[int, set[Label]]:
        return self._links.get(source, {}).get(to_type, {})

    def add(self, source: RecordKey, target: RecordKey, category: str, type_id: int) -> bool:
        """Adds the label and its inverse; True when it was new."""
        existing = self._links[source].setdefault(target[0], {}).setdefault(target[1], set())
        if (category, type_id) in existing:
            return False
        existing.add((category, type_id))
        kind = KINDS.get(type_id)
        inverse = kind.inverse if kind is not None else type_id
        self._links[target].setdefault(source[0], {}).setdefault(source[1], set()).add((category, inverse))
        return True

    def remove_label(self, source: RecordKey, target: RecordKey, category: str, type_id: int) -> bool:
        labels = self._links.get(source, {}).get(target[0], {}).get(target[1])
        if not labels or (category, type_id) not in labels:
            return False
        labels.discard((category, type_id))
        kind = KINDS.get(type_id)
        inverse = kind.inverse if kind is not None else type_id
        back = self._links.get(target, {}).get(source[0], {}).get(source[1])
        if back is not None:
            back.discard((category, inverse))
        self._prune(source, target)
        return True

    def remove_pair(self, source: RecordKey, target: RecordKey) -> bool:
        """Removes every label between the two records; True when there was any."""
        removed = self._links.get(source, {}).get(target[0], {}).pop(target[1], None)
        self._links.get(target, {}).get(source[0], {}).pop(source[1], None)
        return bool(removed)

    def _prune(self, source: RecordKey, target: RecordKey) -> None:
        for a, b in ((source, target), (target, source)):
            by_type = self._links.get(a, {}).get(b[0], {})
            if b[1] in by_type and not by_type[b[1]]:
                del by_type[b[1]]

    def all_of(self, record: RecordKey) -> list[tuple[RecordKey, set[Label]]]:
        return [
            ((to_type, to_id), set(labels))
            for to_type, by_id in self._links.get(record, {}).items()
            for to_id, labels in by_id.items()
        ]

    def drop_record(self, record: RecordKey) -> list[tuple[RecordKey, set[Label]]]:
        """Forgets a record (merged away); returns what it was linked to, so a merge can move it."""
        links = self.all_of(record)
        for target, _ in links:
            self.remove_pair(record, target)
        self._links.pop(record, None)
        return links
