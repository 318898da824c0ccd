"""What a sync must leave behind, from the history of what people did on each side and when.

Told every change as it happens (a lead written at t, a contact edited at t, archived, merged ...), the
oracle says, at each sync, what both sides must hold. It knows nothing of the engine: no plan, no hash,
no cursor, no state row. Its rules are the product's, per field of a lead and its contact:

- one side changed the field since the two last agreed: that side's value;
- both changed it to different values: the field's policy (its own override, else the workspace's):
  `coldcopy_wins`, `hubspot_wins`, or under `latest` the later write (equal times go to ColdCopy;
  rewriting a lead's field in another case or padding is a write);
- a pair seen for the first time (a lead and a contact with one email) has agreed on nothing: an empty
  value takes the other side's, two values are a conflict as above;
- the lead's status only flows to HubSpot: HubSpot holds it unless someone changed it there since, until
  the lead's status changes again;
- a contact with the email of a deleted lead is not pulled back as a new lead;
- a deleted lead, an archived contact (`unlink`, `delete_lead`) and the lead of a contact merged into one
  that already has its own lead end the pair: neither side is synced or re-created again;
- an archived contact under `keep` forgets the pair: the lead rests until it changes, a full resync, or its
  contact coming back (restored) with its email; then it pairs again as a lead never synced;
- a lead HubSpot refuses (an invalid email) stays in the retry index, its pair frozen, until it is fixed.

Values are canonical (trimmed; emails lowercased), "" is empty. Times are world-clock milliseconds.
"""

from __future__ import annotations

from dataclasses import dataclass, field

BIDIRECTIONAL = ("email", "firstname", "jobtitle", "coldcopy_segment")
STATUS = "coldcopy_lead_status"
COLUMNS = (*BIDIRECTIONAL, STATUS)


@dataclass
class Side:
    """One record's values and, per column, when a person last changed it."""

    values: dict[str, str]
    changed_at: dict[str, int]

    @classmethod
    def new(cls, values: dict[str, str], at: int) -> Side:
        full = {c: values.get(c, "") for c in COLUMNS}
        return cls(full, {c: at for c in COLUMNS})

    def write(self, column: str, value: str, at: int, *, stored_changed: bool = False) -> None:
        """A person wrote `value`; its time counts when the value changed, or when what is stored did
        (ColdCopy's `Ada@X.com` over `ada@x.com`: the same canonical email, written later)."""
        if self.values[column] != value or stored_changed:
            self.values[column], self.changed_at[column] = value, at


@dataclass
class Lead:
    side: Side
    valid: bool = True  # HubSpot accepts its email
    deleted: bool = False
    resting: bool = False  # its contact was archived under `keep`: not synced until it changes
    gone: bool = False  # hard-deleted: its row, and so its email, is no more


@dataclass
class Contact:
    side: Side
    archived: bool = False
    gone: bool = False  # merged away: HubSpot no longer has it
    touched: bool = False  # created, edited or restored since the last sync: the sync reads it


@dataclass
class Pair:
    contact_id: str
    agreed: dict[str, str] | None  # None: first seen together, never agreed
    ended: str | None = None


@dataclass
class Expected:
    """After a sync. New records (ids not known before the sync) are keyed by their email."""

    pairs: dict[str, tuple[str | None, str | None, dict[str, str], dict[str, str]]] = field(
        default_factory=dict
    )  # email -> (lead id, contact id, lead values, contact values)
    failing: set[str] = field(default_factory=set)  # lead ids in the retry index
    frozen: set[str] = field(default_factory=set)  # lead ids whose pair waits for a valid email
    resting: set[str] = field(default_factory=set)  # lead ids whose contact was archived under `keep`
    ended: set[str] = field(default_factory=set)  # lead ids no longer synced
    dead_contacts: set[str] = field(default_factory=set)  # contacts no lead is synced with
    deleted_leads: set[str] = field(default_factory=set)  # leads the sync soft-deleted


def resolve(policy: str, agreed: str | None, lead: str, lead_at: int, contact: str, contact_at: int) -> str:
    lead_changed = lead != (agreed or "")
    contact_changed = contact != (agreed or "")
    if not contact_changed:
        return lead
    if not lead_changed or lead == contact:
        return contact
    if policy == "coldcopy_wins":
        return lead
    if policy == "hubspot_wins":
        return contact
    return lead if lead_at >= contact_at else contact


class Oracle:
    def __init__(self, policy: str, on_archive: str, overrides: dict[str, str] | None = None) -> None:
        self.policy, self.on_archive = policy, on_archive
        self.overrides = dict(overrides or {})  # column -> its own conflict policy
        self.leads: dict[str, Lead] = {}
        self.contacts: dict[str, Contact] = {}
        self.pairs: dict[str, Pair] = {}  # lead id -> pair

    # --- what people did --------------------------------------------------------------------------
    def lead_inserted(self, lead_id: str, values: dict[str, str], at: int, *, valid: bool) -> None:
        self.leads[lead_id] = Lead(Side.new(values | {STATUS: values.get(STATUS) or "new"}, at), valid)

    def lead_written(
        self, lead_id: str, column: str, value: str, at: int, *, stored_changed: bool, valid: bool = True
    ) -> None:
        lead = self.leads[lead_id]
        if lead.side.values[column] != value or stored_changed:
            lead.resting = False  # a change: the outbox brings the lead back
        lead.side.write(column, value, at, stored_changed=stored_changed)
        if column == "email":
            self.leads[lead_id].valid = valid

    def lead_touched(self, lead_id: str) -> None:
        """A lead field no mapping reads changed (its website): the outbox brings the lead back all the same."""
        self.leads[lead_id].resting = False

    def lead_deleted(self, lead_id: str, *, hard: bool) -> None:
        self.leads[lead_id].deleted = True
        self.leads[lead_id].gone = hard

    def contact_created(self, contact_id: str, values: dict[str, str], at: int) -> None:
        self.contacts[contact_id] = Contact(Side.new(values, at), touched=True)

    def contact_written(self, contact_id: str, column: str, value: str, at: int) -> None:
        self.contacts[contact_id].side.write(column, value, at)
        self.contacts[contact_id].touched = True

    def contact_archived(self, contact_id: str, archived: bool = True) -> None:
        self.contacts[contact_id].archived = archived
        self.contacts[contact_id].touched = not archived

    def contacts_merged(
        self, primary: str, other: str, survivor: str, values: dict[str, str], at: int
    ) -> None:
        """HubSpot merged `other` into `primary` as `survivor`. The lead of the contact whose email the
        survivor keeps (the primary's) goes on with the survivor; the other lead's pair ends."""
        old = {cid: self.contacts[cid].side for cid in (primary, other)}
        side = Side({c: values.get(c, "") for c in COLUMNS}, {})
        for column in COLUMNS:  # when HubSpot's history says each value was last changed
            source = primary if old[primary].values[column] == side.values[column] else other
            side.changed_at[column] = old[source].changed_at.get(column, at)
        self.contacts[survivor] = Contact(side, touched=True)
        for cid in (primary, other):
            self.contacts[cid].gone = True
        keeper = None
        for cid in (primary, other):  # the primary's lead first
            for lead_id, pair in self.pairs.items():
                if pair.contact_id == cid and pair.ended is None:
                    if keeper is None:
                        keeper, pair.contact_id = lead_id, survivor
                    else:
                        pair.ended = "merged"

    def linked_contact(self, lead_id: str) -> str | None:
        pair = self.pairs.get(lead_id)
        return pair.contact_id if pair and pair.ended is None else None

    def live_pairs(self) -> dict[str, Pair]:
        return {k: p for k, p in self.pairs.items() if p.ended is None}

    def unlinked_contacts(self) -> list[str]:
        """Live contacts no lead was ever paired with."""
        taken = {p.contact_id for p in self.pairs.values()}
        return [cid for cid, c in self.contacts.items() if not (c.archived or c.gone) and cid not in taken]

    def unlinked_leads(self) -> list[str]:
        return [
            k for k, lead in self.leads.items() if not (lead.deleted or lead.resting) and k not in self.pairs
        ]

    # --- a sync -----------------------------------------------------------------------------------
    def settle(self, *, full: bool = False) -> Expected:
        """What one complete sync leaves; the oracle then holds that state."""
        out = Expected()
        self._wake_resting(full)
        for lead_id, pair in self.live_pairs().items():
            lead, contact = self.leads[lead_id], self.contacts[pair.contact_id]
            if lead.deleted:
                pair.ended = "lead_deleted"
            elif contact.archived and self.on_archive == "keep":
                del self.pairs[lead_id]  # forgotten: the lead rests
                lead.resting = True
            elif contact.archived and self.on_archive in ("unlink", "delete_lead"):
                pair.ended = "hubspot_archived"
                if self.on_archive == "delete_lead":
                    lead.deleted = True
                    out.deleted_leads.add(lead_id)
        for lead_id, pair in self.pairs.items():
            if pair.ended is not None:
                out.ended.add(lead_id)
                out.dead_contacts.add(pair.contact_id)
        out.resting = {k for k, lead in self.leads.items() if lead.resting and not lead.deleted}
        by_email = {self.contacts[c].side.values["email"]: c for c in self.unlinked_contacts()}
        matched: set[str] = set()
        for lead_id in self.unlinked_leads():
            lead = self.leads[lead_id]
            if not lead.valid:
                out.failing.add(lead_id)
                continue
            contact_id = by_email.get(lead.side.values["email"])
            if contact_id is None:  # a new contact: the lead's values
                values = {c: v for c, v in lead.side.values.items()}
                out.pairs[values["email"]] = (lead_id, None, dict(values), dict(values))
                continue
            matched.add(contact_id)
            self.pairs[lead_id] = Pair(contact_id, None)
        for lead_id, pair in self.live_pairs().items():
            lead, contact = self.leads[lead_id], self.contacts[pair.contact_id]
            if not lead.valid:
                out.failing.add(lead_id)
                out.frozen.add(lead_id)
                continue
            agreed = pair.agreed or {}
            values = {}
            for column in BIDIRECTIONAL:
                values[column] = resolve(
                    self.overrides.get(column, self.policy),
                    agreed.get(column) if pair.agreed is not None else None,
                    lead.side.values[column],
                    lead.side.changed_at[column],
                    contact.side.values[column],
                    contact.side.changed_at[column],
                )
            status = lead.side.values[STATUS]
            pushed = pair.agreed is None or status != agreed.get(STATUS)
            contact_status = status if pushed else contact.side.values[STATUS]
            for column in BIDIRECTIONAL:
                lead.side.values[column] = contact.side.values[column] = values[column]
            contact.side.values[STATUS] = contact_status
            pair.agreed = values | {STATUS: status}
            out.pairs[values["email"]] = (
                lead_id,
                pair.contact_id,
                values | {STATUS: status},
                values | {STATUS: contact_status},
            )
        # New leads from new contacts: the contact's values, status "new". Not for the email of a deleted
        # lead: it is not pulled back from HubSpot.
        deleted = {k.side.values["email"] for k in self.leads.values() if k.deleted and not k.gone}
        for contact_id in self.unlinked_contacts():
            contact = self.contacts[contact_id]
            email = contact.side.values["email"]
            if contact_id in matched or not email or email in out.pairs:
                continue
            if email in deleted:
                out.dead_contacts.add(contact_id)
                continue
            values = {c: contact.side.values[c] for c in BIDIRECTIONAL}
            out.pairs[email] = (None, contact_id, values | {STATUS: "new"}, values | {STATUS: "new"})
        for contact in self.contacts.values():
            contact.touched = False
        return out

    def _wake_resting(self, full: bool) -> None:
        """Resting leads a sync takes up again: all on a full resync (it reads every lead never synced),
        else those whose email a contact read this run holds (a restore brings their contact back)."""
        read = {
            c.side.values["email"]
            for cid, c in self.contacts.items()
            if c.touched and not (c.archived or c.gone) and cid in self.unlinked_contacts()
        }
        for lead in self.leads.values():
            if lead.resting and (full or lead.side.values["email"] in read):
                lead.resting = False

    def adopt(
        self, lead_id: str, contact_id: str, values: dict[str, str], contact_values: dict[str, str]
    ) -> None:
        """A pair the sync created (a new lead or a new contact), once its ids are known."""
        if lead_id not in self.leads:
            self.leads[lead_id] = Lead(Side.new(values, 0))
        if contact_id not in self.contacts:
            self.contacts[contact_id] = Contact(Side.new(contact_values, 0))
        self.leads[lead_id].side.values.update(values)
        self.contacts[contact_id].side.values.update(contact_values)
        self.pairs[lead_id] = Pair(contact_id, {c: values[c] for c in COLUMNS})
