"""What queued webhook events say about one object type's records (core/webhooks.py). Pure."""

from __future__ import annotations

from hubspot_pipeline.sync.core.webhooks import event_effects, is_event_of


def event(
    kind: str, object_id: int, *, prop: str | None = None, at: int = 0, payload: dict | None = None
) -> dict:
    return {
        "object_id": object_id,
        "subscription_type": kind,
        "property_name": prop,
        "occurred_at": at,
        "payload": payload or {},
    }


def test_each_object_type_reads_only_its_own_events() -> None:
    generic_company = event("object.propertyChange", 7, payload={"objectTypeId": "0-2"})
    assert is_event_of(event("contact.deletion", 7), "contact")
    assert not is_event_of(event("company.deletion", 7), "contact")
    assert not is_event_of(generic_company, "contact") and is_event_of(generic_company, "company")
    effects = event_effects([event("company.deletion", 7), event("contact.propertyChange", 8)], "contact")
    assert effects.archived == set() and effects.wanted == {"8"}


def test_deletions_merges_restores_and_property_times_in_queue_order() -> None:
    effects = event_effects(
        [
            event("contact.deletion", 1),
            event("contact.restore", 1),
            event("contact.restore", 2),
            event("contact.deletion", 2),
            event("contact.merge", 3, payload={"primaryObjectId": 3, "mergedObjectIds": [3, 4]}),
            event("contact.propertyChange", 5, prop="firstname", at=20),
            event("contact.propertyChange", 5, prop="firstname", at=10),
        ],
        "contact",
    )
    assert effects.archived == {"2"} and effects.restored == {"1"}
    assert effects.merges == {"4": "3"}
    assert effects.wanted == {"1", "2", "3", "5"}  # the reader drops the archived ones
    assert effects.times == {"5": {"firstname": 20}}
