"""Regressions of issue #9 on the real engine: PostgreSQL, the sandbox over HTTP, the real client. Each test
replays an everyday two-sided history that once lost or corrupted data, and checks both sides afterwards.

Random two-sided histories are the stateful test's job; these pin the six defects it was written to catch,
one named history each.
"""

from __future__ import annotations

import time
import uuid

import pytest
import sqlalchemy as sa

from hubspot_pipeline.db.tables import (
    hubspot_field_mappings,
    hubspot_sync_status,
    leads,
    sync_conflicts,
    webhook_events,
)
from hubspot_pipeline.hubspot import HubSpotClient
from hubspot_pipeline.sandbox.testing import SandboxHandle
from hubspot_pipeline.sync.core.mapping import DEFAULT_CONTACT_MAPPINGS
from tests.sync.test_engine_sandbox import (
    add_leads,
    contacts,
    lead_rows,
    set_config,
    sync,
    update_lead,
    write_calls,
)


def use_mappings(engine: sa.Engine, workspace_id: uuid.UUID, *extra: dict[str, str]) -> None:
    """The default contact mappings plus `extra` ones, as rows of the workspace's mapping table."""
    rows = [
        {
            "workspace_id": workspace_id,
            "coldcopy_field": m.coldcopy_field,
            "hubspot_property": m.hubspot_property,
            "direction": m.direction,
            "transform_function": m.transform_function,
            "object_type": m.object_type,
        }
        for m in DEFAULT_CONTACT_MAPPINGS
    ]
    defaults = {"direction": "bidirectional", "transform_function": None, "object_type": "contact"}
    # Every row with the same keys: an executemany takes its columns from the first row.
    rows += [{"workspace_id": workspace_id, **defaults, **m} for m in extra]
    with engine.begin() as conn:
        conn.execute(sa.insert(hubspot_field_mappings), rows)


def queue_webhook(
    engine: sa.Engine,
    workspace_id: uuid.UUID,
    object_id: str,
    subscription_type: str,
    payload: dict | None = None,
) -> None:
    """An event as the API's webhook endpoint stores it for the next run."""
    with engine.begin() as conn:
        event_id = conn.execute(sa.select(sa.func.count()).select_from(webhook_events)).scalar_one() + 1
        conn.execute(
            sa.insert(webhook_events).values(
                portal_id=1,
                workspace_id=workspace_id,
                subscription_id=1,
                event_id=event_id,
                object_id=int(object_id),
                occurred_at=event_id,
                subscription_type=subscription_type,
                payload=payload or {},
            )
        )


def pair_state(engine: sa.Engine, workspace_id: uuid.UUID, email: str) -> sa.Row:
    with engine.connect() as conn:
        return conn.execute(
            sa.select(hubspot_sync_status)
            .join(leads, leads.c.id == hubspot_sync_status.c.entity_id)
            .where(hubspot_sync_status.c.workspace_id == workspace_id, leads.c.email == email)
        ).one()


def custom_fields(engine: sa.Engine, workspace_id: uuid.UUID, email: str) -> object:
    with engine.connect() as conn:
        return conn.execute(
            sa.select(leads.c.custom_fields).where(
                leads.c.workspace_id == workspace_id, leads.c.email == email
            )
        ).scalar_one()


def test_a_custom_field_pulled_from_hubspot_keeps_custom_fields_an_object(
    engine, workspace_id, hubspot_client: HubSpotClient, hubspot_sandbox: SandboxHandle
):
    # Regression #9.1: the pull's `custom_fields || value` encoded the value twice, so the column became
    # [{"industry": "Media"}, "{\"industry\": \"Publishing\"}"]; the next run read the field as empty and
    # cleared it in HubSpot too.
    use_mappings(
        engine, workspace_id, {"coldcopy_field": "custom_fields.industry", "hubspot_property": "industry_cc"}
    )
    add_leads(
        engine,
        workspace_id,
        [
            {
                "email": "media@example.com",
                "custom_fields": {"industry": "Media", "seats": 12, "note": "née ✓"},
            }
        ],
    )
    sync(engine, hubspot_client, workspace_id)
    contact_id = contacts(hubspot_client)["media@example.com"]["id"]
    hubspot_sandbox.admin.ui_edit(contact_id, {"industry_cc": "Publishing"})

    assert sync(engine, hubspot_client, workspace_id).errors == 0
    assert custom_fields(engine, workspace_id, "media@example.com") == {
        "industry": "Publishing",
        "seats": 12,
        "note": "née ✓",
    }
    before = write_calls(hubspot_sandbox)
    again = sync(engine, hubspot_client, workspace_id)
    assert again.counts["push"] == 0 and again.counts["pull"] == 0
    assert write_calls(hubspot_sandbox) == before
    [record] = hubspot_client.batch_read("contacts", [contact_id], ["industry_cc"]).results
    assert record["properties"]["industry_cc"] == "Publishing"


def test_an_ended_pair_stays_ended_and_later_runs_that_read_its_lead_succeed(
    engine, workspace_id, hubspot_client: HubSpotClient, hubspot_sandbox: SandboxHandle
):
    # Regression #9.2: the tombstone was stored in `agreed` double-encoded (a JSON string); build_plan no
    # longer saw the pair as ended and every run that read the lead crashed until a full resync.
    add_leads(engine, workspace_id, [{"email": "archived@example.com", "title": "CTO"}])
    sync(engine, hubspot_client, workspace_id)
    contact_id = contacts(hubspot_client)["archived@example.com"]["id"]
    hubspot_client.archive("contacts", contact_id)
    queue_webhook(engine, workspace_id, contact_id, "contact.deletion")
    assert sync(engine, hubspot_client, workspace_id).counts["tombstones"] == 1

    agreed = pair_state(engine, workspace_id, "archived@example.com").agreed
    assert isinstance(agreed, dict) and agreed["_tombstone"] == "hubspot_archived"
    assert agreed["jobtitle"] == "CTO"  # the last agreed values are kept next to the tombstone
    update_lead(engine, workspace_id, "archived@example.com", title="CEO")  # the run reads this lead again
    for _ in range(2):
        report = sync(engine, hubspot_client, workspace_id)
        assert report.errors == 0 and report.counts["push"] == 0 and report.counts["tombstones"] == 0
    assert "archived@example.com" not in contacts(hubspot_client)  # not re-created


def merge_contacts(client: HubSpotClient, primary: str, other: str) -> str:
    """A person merges two contacts in HubSpot; returns the survivor's id (a new one, as HubSpot does)."""
    path = "/crm/v3/objects/contacts/merge"
    body = {"primaryObjectId": primary, "objectIdToMerge": other}
    return str(client.call("POST", path, json=body, endpoint=f"POST {path}").body["id"])


def test_a_merge_of_two_linked_contacts_keeps_the_lead_whose_email_the_survivor_holds(
    engine, workspace_id, hubspot_client: HubSpotClient, hubspot_sandbox: SandboxHandle
):
    # Regression #9.3: the lead kept on the survivor was whichever state row came first; when that was the
    # merged-away contact's lead, it took the survivor's email, which the other lead has, and failed every
    # run ("another lead of this workspace already has that email"). Both orders are merged here, so one
    # of the two merges meets the state rows in the unlucky order whatever order PostgreSQL returns.
    add_leads(
        engine,
        workspace_id,
        [
            {"email": "first1@example.com", "title": "CTO"},
            {"email": "second1@example.com", "title": "CEO"},
            {"email": "first2@example.com", "title": "CFO"},
            {"email": "second2@example.com", "title": "COO"},
        ],
    )
    sync(engine, hubspot_client, workspace_id)
    ids = {email: c["id"] for email, c in contacts(hubspot_client).items()}
    survivors = {
        "second1@example.com": merge_contacts(
            hubspot_client, ids["second1@example.com"], ids["first1@example.com"]
        ),
        "first2@example.com": merge_contacts(
            hubspot_client, ids["first2@example.com"], ids["second2@example.com"]
        ),
    }
    losers = {"second1@example.com": "first1@example.com", "first2@example.com": "second2@example.com"}

    for _ in range(2):
        report = sync(engine, hubspot_client, workspace_id)
        assert report.errors == 0, report.error_samples
    for kept, survivor in survivors.items():
        state = pair_state(engine, workspace_id, kept)
        assert (state.hubspot_id, state.status) == (survivor, "synced")
        assert "_tombstone" not in state.agreed
        ended = pair_state(engine, workspace_id, losers[kept])
        assert ended.status == "synced" and ended.agreed["_tombstone"] == "merged"
    assert set(lead_rows(engine, workspace_id)) == {
        *survivors,
        *losers.values(),
    }  # every lead keeps its email
    in_hubspot = contacts(hubspot_client)
    assert set(in_hubspot) == set(survivors)  # the merged-away contacts are not re-created
    assert {in_hubspot[e]["id"] for e in survivors} == set(survivors.values())
    update_lead(engine, workspace_id, "second1@example.com", title="Chair")  # the kept lead still syncs
    assert sync(engine, hubspot_client, workspace_id).errors == 0
    assert contacts(hubspot_client)["second1@example.com"]["jobtitle"] == "Chair"
    before = write_calls(hubspot_sandbox)
    sync(engine, hubspot_client, workspace_id)
    assert write_calls(hubspot_sandbox) == before


def merged_pairs_after_an_email_edit(
    engine, workspace_id, client: HubSpotClient, sandbox: SandboxHandle, *, edited: str, webhook: bool
) -> dict[str, str]:
    """Four leads synced; HubSpot merges them two by two (the primary's lead first in one merge, second in
    the other, so one merge meets the state rows in the unlucky order whatever order PostgreSQL returns),
    then, before any sync, the survivor's email is edited in HubSpot (`edited="hubspot"`) or the primary's
    lead's email in ColdCopy (`"coldcopy"`). `webhook`: the merges' events reach the queue as well (else
    the sync learns of them from the survivors' hs_merged_object_ids only). Returns kept email -> survivor."""
    add_leads(
        engine,
        workspace_id,
        [{"email": f"{who}{n}@example.com", "title": who} for n in (1, 2) for who in ("first", "second")],
    )
    sync(engine, client, workspace_id)
    ids = {email: c["id"] for email, c in contacts(client).items()}
    survivors = {}
    for primary, other in (("second1", "first1"), ("first2", "second2")):
        primary_id, other_id = ids[f"{primary}@example.com"], ids[f"{other}@example.com"]
        survivor = merge_contacts(client, primary_id, other_id)
        if webhook:
            payload = {
                "primaryObjectId": int(primary_id),
                "mergedObjectIds": [int(other_id)],
                "newObjectId": int(survivor),
            }
            queue_webhook(engine, workspace_id, survivor, "contact.merge", payload)
            for gone in (primary_id, other_id):
                queue_webhook(engine, workspace_id, gone, "contact.deletion")
        if edited == "hubspot":
            sandbox.admin.ui_edit(survivor, {"email": f"{primary}-renamed@example.com"})
        else:
            update_lead(
                engine, workspace_id, f"{primary}@example.com", email=f"{primary}-renamed@example.com"
            )
            # The other lead is edited too, so both leads' state rows are read in one order or another.
            update_lead(engine, workspace_id, f"{other}@example.com", first_name="Edited")
        survivors[f"{primary}-renamed@example.com"] = survivor
    return survivors


@pytest.mark.parametrize("webhook", [False, True], ids=["search only", "merge webhook"])
@pytest.mark.parametrize("edited", ["hubspot", "coldcopy"])
def test_a_merge_keeps_the_primary_s_lead_when_an_email_changed_before_the_sync_saw_it(
    engine, workspace_id, hubspot_client: HubSpotClient, hubspot_sandbox: SandboxHandle, edited, webhook
):
    # Regression: merge_keepers chose the lead by current emails. Once the survivor's email was edited in
    # HubSpot, or the primary's lead's in ColdCopy, no lead matched and the first state row kept the
    # survivor: the merged-away contact's lead took the primary's email and values (or the edited email),
    # and the primary's lead, whose email was changed by a person, was ended as merged.
    survivors = merged_pairs_after_an_email_edit(
        engine, workspace_id, hubspot_client, hubspot_sandbox, edited=edited, webhook=webhook
    )
    losers = {
        "second1-renamed@example.com": "first1@example.com",
        "first2-renamed@example.com": "second2@example.com",
    }

    for _ in range(2):
        report = sync(engine, hubspot_client, workspace_id)
        assert report.errors == 0, report.error_samples
    for kept, survivor in survivors.items():
        state = pair_state(engine, workspace_id, kept)
        assert (state.hubspot_id, state.status) == (survivor, "synced"), f"{kept}: {state}"
        assert "_tombstone" not in state.agreed
        ended = pair_state(engine, workspace_id, losers[kept])
        assert ended.agreed["_tombstone"] == "merged", f"{losers[kept]}: {ended}"
    leads_now = lead_rows(engine, workspace_id)
    assert set(leads_now) == {*survivors, *losers.values()}  # the loser leads keep their own emails
    assert {leads_now[e]["title"] for e in losers.values()} == {"first", "second"}
    in_hubspot = contacts(hubspot_client)
    assert {e: in_hubspot[e]["id"] for e in in_hubspot} == survivors  # nothing re-created, emails agree
    before = write_calls(hubspot_sandbox)
    assert sync(engine, hubspot_client, workspace_id).errors == 0
    assert write_calls(hubspot_sandbox) == before


def test_a_merge_survivor_archived_before_the_sync_ends_the_pairs_as_the_merge_says(
    engine, workspace_id, hubspot_client: HubSpotClient, hubspot_sandbox: SandboxHandle
):
    # Regression (a4b7058, the stateful test's "survivor archived before the sync learns of the merge"): the
    # survivor, archived, is not read, and the merge event names only the merged-away contact, so the
    # primary (replaced by a new id) was not known as merged. The primary's lead stayed on the old id, and
    # the other lead was taken as the survivor's: under delete_lead both leads were deleted, where only the
    # kept one goes with its archived contact and the merged-away one's pair just ends.
    set_config(engine, workspace_id, on_hubspot_archive="delete_lead")
    add_leads(engine, workspace_id, [{"email": "kept@example.com"}, {"email": "merged@example.com"}])
    sync(engine, hubspot_client, workspace_id)
    ids = {email: c["id"] for email, c in contacts(hubspot_client).items()}
    primary, other = ids["kept@example.com"], ids["merged@example.com"]
    survivor = merge_contacts(hubspot_client, primary, other)
    hubspot_client.archive("contacts", survivor)
    payload = {"primaryObjectId": int(primary), "mergedObjectIds": [int(other)], "newObjectId": int(survivor)}
    queue_webhook(engine, workspace_id, survivor, "contact.merge", payload)
    for gone in (primary, other, survivor):  # HubSpot's deletions: the merged ids, then the archive
        queue_webhook(engine, workspace_id, gone, "contact.deletion")

    report = sync(engine, hubspot_client, workspace_id)
    assert report.errors == 0, report.error_samples
    assert set(lead_rows(engine, workspace_id)) == {"merged@example.com"}  # only the kept lead is deleted
    with engine.connect() as conn:
        ended = conn.execute(
            sa.select(leads.c.email, hubspot_sync_status.c.hubspot_id, hubspot_sync_status.c.agreed)
            .join(leads, leads.c.id == hubspot_sync_status.c.entity_id)
            .where(hubspot_sync_status.c.workspace_id == workspace_id)
        ).all()
    assert sorted((e, h, a["_tombstone"]) for e, h, a in ended) == [
        ("kept@example.com", survivor, "hubspot_archived"),
        ("merged@example.com", survivor, "merged"),
    ]


@pytest.mark.parametrize("hard", [True, False], ids=["hard delete", "soft delete"])
def test_a_merge_survivor_whose_kept_lead_was_deleted_is_not_pulled_back_as_a_new_lead(
    engine, workspace_id, hubspot_client: HubSpotClient, hubspot_sandbox: SandboxHandle, hard
):
    # Regression (found by the stateful test): a survivor the plan relinked counted as a free contact unless
    # its kept lead went on syncing. When that lead was deleted before the sync learnt of the merge, the
    # survivor was pulled back as a new lead (hard delete), or its lead could not be created over the deleted
    # one's email and the search cursor stopped there every run (soft delete).
    add_leads(engine, workspace_id, [{"email": "kept@example.com"}, {"email": "merged@example.com"}])
    sync(engine, hubspot_client, workspace_id)
    ids = {email: c["id"] for email, c in contacts(hubspot_client).items()}
    survivor = merge_contacts(hubspot_client, ids["kept@example.com"], ids["merged@example.com"])
    with engine.begin() as conn:
        where = (leads.c.workspace_id == workspace_id, leads.c.email == "kept@example.com")
        if hard:
            conn.execute(sa.delete(leads).where(*where))
        else:
            conn.execute(sa.update(leads).where(*where).values(deleted_at=sa.func.now()))

    report = sync(engine, hubspot_client, workspace_id)
    assert report.errors == 0 and report.counts["pull_new"] == 0, report.counts
    assert set(lead_rows(engine, workspace_id)) == {"merged@example.com"}  # nothing pulled back
    assert pair_state(engine, workspace_id, "merged@example.com").agreed["_tombstone"] == "merged"
    with engine.connect() as conn:
        ended = conn.execute(
            sa.select(hubspot_sync_status.c.hubspot_id, hubspot_sync_status.c.agreed).where(
                hubspot_sync_status.c.workspace_id == workspace_id,
                hubspot_sync_status.c.entity_type == "contact",
            )
        ).all()
    assert sorted((h, a["_tombstone"]) for h, a in ended) == [
        (survivor, "lead_deleted"),
        (survivor, "merged"),
    ]
    cursor_before = search_cursor(engine, workspace_id)
    again = sync(engine, hubspot_client, workspace_id)
    assert again.counts["pull_new"] == 0 and again.counts["tombstones"] == 0, again.counts
    assert set(lead_rows(engine, workspace_id)) == {"merged@example.com"}
    assert search_cursor(engine, workspace_id) == cursor_before  # settled: nothing left to read again


def search_cursor(engine: sa.Engine, workspace_id: uuid.UUID) -> object:
    from hubspot_pipeline.sync.store import queues

    with engine.connect() as conn:
        return queues.get_cursor(conn, workspace_id, queues.SEARCH_STREAM)


def conflicts_of(engine: sa.Engine, workspace_id: uuid.UUID) -> dict[str, sa.Row]:
    """The recorded conflicts by HubSpot id (one field in conflict per contact here)."""
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(sync_conflicts).where(sync_conflicts.c.workspace_id == workspace_id)
        ).all()
    return {row.hubspot_id: row for row in rows}


def test_latest_compares_each_field_s_own_change_times_not_the_record_s(
    engine, workspace_id, hubspot_client: HubSpotClient, hubspot_sandbox: SandboxHandle
):
    # Regression #9.4: without a webhook every HubSpot field was dated by the record's lastmodifieddate, so
    # an old HubSpot jobtitle beat a newer ColdCopy title as soon as HubSpot edited any other field. Sixty
    # conflicts: their history is read in batches of at most 50, as HubSpot requires.
    emails = [f"t{i}@example.com" for i in range(60)]
    add_leads(engine, workspace_id, [{"email": e, "title": "CTO"} for e in emails])
    sync(engine, hubspot_client, workspace_id)
    ids = {email: c["id"] for email, c in contacts(hubspot_client).items()}
    coldcopy_newer, hubspot_newer = emails[:30], emails[30:]

    hubspot_client.batch_update("contacts", {ids[e]: {"jobtitle": "Chair"} for e in coldcopy_newer})  # t0
    time.sleep(0.5)
    with engine.begin() as conn:  # t1
        conn.execute(
            sa.update(leads)
            .where(leads.c.workspace_id == workspace_id, leads.c.email.in_(emails))
            .values(title="Founder")
        )
    time.sleep(0.5)
    hubspot_client.batch_update(  # t2: another field on the first group, jobtitle on the second
        "contacts",
        {ids[e]: {"firstname": "Pat"} for e in coldcopy_newer}
        | {ids[e]: {"jobtitle": "Owner"} for e in hubspot_newer},
    )
    hubspot_sandbox.admin.reset_counters()

    assert sync(engine, hubspot_client, workspace_id).errors == 0
    in_hubspot, in_coldcopy = contacts(hubspot_client), lead_rows(engine, workspace_id)
    for email in coldcopy_newer:
        assert in_hubspot[email]["jobtitle"] == in_coldcopy[email]["title"] == "Founder", email
        assert in_coldcopy[email]["first_name"] == "Pat"  # HubSpot's own edit still flows
    for email in hubspot_newer:
        assert in_hubspot[email]["jobtitle"] == in_coldcopy[email]["title"] == "Owner", email
    recorded = conflicts_of(engine, workspace_id)
    for email in emails:
        conflict = recorded[ids[email]]
        assert conflict.field == "jobtitle" and conflict.policy == "latest"
        newer = "coldcopy" if email in coldcopy_newer else "hubspot"
        assert conflict.winner == newer, email
        assert (conflict.coldcopy_changed_at > conflict.hubspot_changed_at) == (newer == "coldcopy"), email
    assert hubspot_sandbox.admin.calls("POST /crm/v3/objects/contacts/batch/read", 400) == 0
    before = write_calls(hubspot_sandbox)
    sync(engine, hubspot_client, workspace_id)
    assert write_calls(hubspot_sandbox) == before


def test_latest_dates_a_retried_pair_s_lead_fields_by_its_newest_outbox_rows(
    engine, workspace_id, hubspot_client: HubSpotClient, hubspot_sandbox: SandboxHandle
):
    # Regression #9.4: a pair that failed is retried after its outbox rows were read; its lead fields had no
    # change time any more, so any HubSpot edit beat the ColdCopy edit that was still waiting to go out.
    add_leads(engine, workspace_id, [{"email": "retry@example.com", "title": "CTO"}])
    sync(engine, hubspot_client, workspace_id)
    contact_id = contacts(hubspot_client)["retry@example.com"]["id"]

    hubspot_sandbox.admin.ui_edit(contact_id, {"jobtitle": "Chair"})  # t0
    time.sleep(0.5)
    update_lead(engine, workspace_id, "retry@example.com", title="Founder", email="retry@example")  # t1
    failed = sync(engine, hubspot_client, workspace_id)  # HubSpot refuses the email: the pair is retried
    assert failed.errors == 1
    time.sleep(0.5)
    hubspot_sandbox.admin.ui_edit(contact_id, {"firstname": "Pat"})  # t2, after the ColdCopy title
    update_lead(engine, workspace_id, "retry@example", email="retry@example.com")  # only the email changes

    assert sync(engine, hubspot_client, workspace_id).errors == 0
    [record] = hubspot_client.batch_read("contacts", [contact_id], ["jobtitle", "firstname"]).results
    lead = lead_rows(engine, workspace_id)["retry@example.com"]
    assert record["properties"]["jobtitle"] == lead["title"] == "Founder"
    assert record["properties"]["firstname"] == lead["first_name"] == "Pat"
    assert pair_state(engine, workspace_id, "retry@example.com").status == "synced"


def test_a_failed_lead_that_is_then_hard_deleted_leaves_the_retry_index(
    engine, workspace_id, hubspot_client: HubSpotClient, hubspot_sandbox: SandboxHandle
):
    # Regression #9.5: pair state was read only for leads that still exist, so a failed lead deleted from
    # `leads` was never ended: it was retried every run and counted as a sync error forever.
    add_leads(engine, workspace_id, [{"email": "linked@example.com"}, {"email": "never@example"}])
    sync(engine, hubspot_client, workspace_id)
    contact_id = contacts(hubspot_client)["linked@example.com"]["id"]
    update_lead(engine, workspace_id, "linked@example.com", email="linked@example")  # refused by HubSpot
    assert sync(engine, hubspot_client, workspace_id).errors == 2
    with engine.begin() as conn:
        conn.execute(sa.delete(leads).where(leads.c.workspace_id == workspace_id))

    report = sync(engine, hubspot_client, workspace_id)
    assert report.errors == 0 and report.counts["tombstones"] == 2
    with engine.connect() as conn:
        states = conn.execute(
            sa.select(hubspot_sync_status).where(
                hubspot_sync_status.c.workspace_id == workspace_id,
                hubspot_sync_status.c.entity_type == "contact",
            )
        ).all()
    assert sorted((s.status, s.agreed["_tombstone"]) for s in states) == [("synced", "lead_deleted")] * 2
    assert [s.hubspot_id for s in states if s.hubspot_id] == [contact_id]  # the link is kept
    hubspot_sandbox.admin.ui_edit(contact_id, {"firstname": "Still here"})
    again = sync(engine, hubspot_client, workspace_id)
    assert again.errors == 0 and again.counts["pull_new"] == 0  # the contact is not pulled back as a lead
    assert lead_rows(engine, workspace_id) == {}


def test_a_company_deletion_with_a_linked_contact_s_id_leaves_the_contact_pair_alone(
    engine, workspace_id, hubspot_client: HubSpotClient, hubspot_sandbox: SandboxHandle
):
    # Regression #9.6: webhook events were not filtered by object type; a company.deletion whose objectId
    # equals a linked contact's id archived the contact's pair, and deleted its lead under delete_lead.
    set_config(engine, workspace_id, on_hubspot_archive="delete_lead")
    add_leads(engine, workspace_id, [{"email": "kept@example.com", "title": "CTO"}])
    sync(engine, hubspot_client, workspace_id)
    sync(
        engine, hubspot_client, workspace_id
    )  # search has read the contact's last write: it is not read again
    contact_id = contacts(hubspot_client)["kept@example.com"]["id"]
    queue_webhook(engine, workspace_id, contact_id, "company.deletion")
    queue_webhook(engine, workspace_id, contact_id, "object.deletion", {"objectTypeId": "0-2"})
    report = sync(engine, hubspot_client, workspace_id)
    assert report.errors == 0 and report.counts["tombstones"] == report.counts["lead_deletes"] == 0
    company_merge = {"newObjectId": 987654321, "mergedObjectIds": [int(contact_id)]}  # a company merged away
    queue_webhook(engine, workspace_id, "987654321", "company.merge", company_merge)
    report = sync(engine, hubspot_client, workspace_id)
    assert report.errors == 0 and report.counts["relinks"] == report.counts["tombstones"] == 0

    state = pair_state(engine, workspace_id, "kept@example.com")
    assert (state.hubspot_id, state.status) == (contact_id, "synced") and "_tombstone" not in state.agreed
    with engine.connect() as conn:  # read and set aside, so the queue does not grow
        pending = conn.execute(
            sa.select(sa.func.count())
            .select_from(webhook_events)
            .where(webhook_events.c.workspace_id == workspace_id, webhook_events.c.processed_at.is_(None))
        ).scalar_one()
    assert pending == 0
    update_lead(engine, workspace_id, "kept@example.com", title="CEO")  # the pair still syncs
    assert sync(engine, hubspot_client, workspace_id).errors == 0
    assert contacts(hubspot_client)["kept@example.com"]["jobtitle"] == "CEO"


def test_a_nul_character_from_hubspot_fails_its_own_pair_and_the_rest_of_the_batch_syncs(
    engine, workspace_id, hubspot_client: HubSpotClient, hubspot_sandbox: SandboxHandle
):
    # Regression: PostgreSQL's text and jsonb refuse NUL (\x00). A contact property holding one, pulled into a
    # lead's custom field or column, failed the run's whole transaction: nothing of the batch was recorded.
    use_mappings(
        engine, workspace_id, {"coldcopy_field": "custom_fields.industry", "hubspot_property": "industry_cc"}
    )
    emails = ["nul-custom@example.com", "nul-name@example.com", "fine@example.com"]
    add_leads(engine, workspace_id, [{"email": e, "custom_fields": {"industry": "Media"}} for e in emails])
    sync(engine, hubspot_client, workspace_id)
    ids = {email: c["id"] for email, c in contacts(hubspot_client).items()}
    hubspot_sandbox.admin.ui_edit(ids["nul-custom@example.com"], {"industry_cc": "Pub\x00lishing"})
    hubspot_sandbox.admin.ui_edit(ids["nul-name@example.com"], {"firstname": "Ad\x00a"})
    hubspot_sandbox.admin.ui_edit(ids["fine@example.com"], {"industry_cc": "Retail", "firstname": "Bo"})
    hubspot_client.create("contacts", {"email": "nul-new@example.com", "industry_cc": "\x00"})
    hubspot_client.create("contacts", {"email": "new@example.com", "industry_cc": "Press"})

    for _ in range(2):  # and again: the refused pairs are retried, the others stay quiet
        report = sync(engine, hubspot_client, workspace_id)
        assert report.errors == 3, report.error_samples
    samples = " | ".join(report.error_samples)
    for field in ("custom_fields.industry", "first_name", "nul-new@example.com"):
        assert field in samples, samples
    leads_now = lead_rows(engine, workspace_id)
    assert leads_now["fine@example.com"]["custom_fields"] == {"industry": "Retail"}
    assert leads_now["fine@example.com"]["first_name"] == "Bo"
    assert leads_now["new@example.com"]["custom_fields"] == {"industry": "Press"}
    assert "nul-new@example.com" not in leads_now
    assert leads_now["nul-custom@example.com"]["custom_fields"] == {"industry": "Media"}
    for email, field in (
        ("nul-custom@example.com", "custom_fields.industry"),
        ("nul-name@example.com", "first_name"),
    ):
        state = pair_state(engine, workspace_id, email)
        assert state.status == "error" and field in state.error_message, state.error_message
        assert str(state.entity_id) in state.error_message and "\x00" not in state.error_message
    assert pair_state(engine, workspace_id, "fine@example.com").status == "synced"

    hubspot_sandbox.admin.ui_edit(ids["nul-custom@example.com"], {"industry_cc": "Publishing"})  # fixed
    report = sync(engine, hubspot_client, workspace_id)
    assert report.errors == 2, report.error_samples
    assert lead_rows(engine, workspace_id)["nul-custom@example.com"]["custom_fields"] == {
        "industry": "Publishing"
    }
    assert pair_state(engine, workspace_id, "nul-custom@example.com").status == "synced"
