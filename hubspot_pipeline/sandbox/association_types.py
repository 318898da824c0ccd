"""HubSpot's HUBSPOT_DEFINED association type ids (reference §5.4). They are directional: each id has an
inverse for the other direction, and each belongs to exactly one (from type, to type) pair."""

from __future__ import annotations

from dataclasses import dataclass

CONTACT, COMPANY, NOTE, EMAIL = "0-1", "0-2", "0-46", "0-49"


@dataclass(frozen=True)
class AssociationKind:
    type_id: int
    from_type: str
    to_type: str
    inverse: int
    label: str | None = None  # "Primary" for the primary company; None for unlabeled
    primary: bool = False


_PAIRS = [
    # (id, from, to, inverse id, label)
    (279, CONTACT, COMPANY, 280, None),
    (1, CONTACT, COMPANY, 2, "Primary"),
    (449, CONTACT, CONTACT, 449, None),
    (450, COMPANY, COMPANY, 450, None),
    (13, COMPANY, COMPANY, 14, "Parent Company"),
    (198, EMAIL, CONTACT, 197, None),
    (186, EMAIL, COMPANY, 185, None),
    (202, NOTE, CONTACT, 201, None),
    (190, NOTE, COMPANY, 189, None),
]

KINDS: dict[int, AssociationKind] = {}
for _id, _from, _to, _inverse, _label in _PAIRS:
    KINDS[_id] = AssociationKind(_id, _from, _to, _inverse, _label, primary=_label == "Primary")
    if _inverse != _id:
        KINDS[_inverse] = AssociationKind(_inverse, _to, _from, _id, _label, primary=_label == "Primary")

# The unlabeled default for each direction: what "associate/default" and v3 paths create.
DEFAULT_TYPE: dict[tuple[str, str], int] = {
    (kind.from_type, kind.to_type): kind.type_id for kind in KINDS.values() if kind.label is None
}


def legacy_name(kind: AssociationKind, singular_from: str, singular_to: str) -> str:
    """The v3 `associations` type name: contact_to_company (primary), contact_to_company_unlabeled."""
    base = f"{singular_from}_to_{singular_to}"
    if {kind.from_type, kind.to_type} == {CONTACT, COMPANY} and not kind.primary:
        return base + "_unlabeled"
    return base
