"""Email activity logged to the sandbox over HTTP, from PostgreSQL, by the real engine: each event type as its
object on its contact, nothing twice, waiting for contacts, a workspace's choices, bad events as row errors.
Crash safety (SIGKILL, 5xx after a write) is in test_exactly_once_sandbox.py; templates in
test_templates_sandbox.py."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import httpx
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert

from hubspot_pipeline.activities.core.events import EVENT_TYPES
from hubspot_pipeline.activities.core.templates import TEMPLATES
from hubspot_pipeline.activities.engine import log_activities
from hubspot_pipeline.db.tables import hubspot_sync_config, hubspot_sync_status
from tests.activities.builders import add_event, add_lead, add_message, add_sequence, sync_contacts
from tests.activities.conftest import Portal
from tests.activities.hubspot_side import (
    activity_status,
    all_records,
    association_types,
    emails_by_message_id,
    log_rows,
    notes_by_event,
    write_calls,
)

TIMELINE = ("delivered", "opened", "clicked", "bounced", "unsubscribed")


def configure(engine: sa.Engine, workspace_id: uuid.UUID, **settings: object) -> None:
    c = hubspot_sync_config
    with engine.begin() as conn:
        conn.execute(
            insert(c)
            .values(workspace_id=workspace_id, **settings)
            .on_conflict_do_update(index_elements=[c.c.workspace_id], set_=settings)
        )


def _now() -> datetime:
    return datetime.now(UTC)


def contact_of(engine: sa.Engine, lead_id: uuid.UUID) -> str:
    s = hubspot_sync_status
    with engine.connect() as conn:
        return conn.execute(
            sa.select(s.c.hubspot_id).where(s.c.entity_type == "contact", s.c.entity_id == lead_id)
        ).scalar_one()


def test_each_event_type_arrives_as_its_object_on_the_leads_contact(
    engine: sa.Engine, oauth_portal: Portal
) -> None:
    portal, workspace = oauth_portal, oauth_portal.workspace_id
    configure(engine, workspace, activity_event_types=list(EVENT_TYPES))  # delivered too
    sequence = add_sequence(engine, workspace, "ada@example.com")
    sync_contacts(engine, portal.client, workspace)
    contact = contact_of(engine, sequence.lead_id)

    report = log_activities(engine, portal.client, workspace, developer=portal.developer)

    assert report.counts["logged"] == 7 and report.counts["failed"] == 0
    assert dict(report.logged_by_type) == dict.fromkeys(EVENT_TYPES, 1)
    emails = {e["id"]: e["properties"] for e in all_records(portal.client, "emails", [
        "hs_email_direction", "hs_email_status", "hs_email_subject", "hs_email_text", "hs_email_html",
        "hs_email_headers", "hs_timestamp", "hs_email_from_email", "hs_email_to_email",
    ])}  # fmt: skip
    by_direction = {p["hs_email_direction"]: (i, p) for i, p in emails.items()}
    assert set(by_direction) == {"EMAIL", "INCOMING_EMAIL"}
    sent_id, sent = by_direction["EMAIL"]
    assert sent["hs_email_status"] == "SENT" and sent["hs_email_subject"] == "Quick question"
    assert sent["hs_email_text"].startswith("Hi Ada") and sent["hs_email_html"].startswith("<p>")
    assert json.loads(sent["hs_email_headers"])["messageId"] == sequence.sent_header
    assert sent["hs_email_to_email"] == "ada@example.com"  # HubSpot reads the headers
    reply_id, reply = by_direction["INCOMING_EMAIL"]
    headers = json.loads(reply["hs_email_headers"])
    assert headers["inReplyTo"] == sequence.sent_header and headers["messageId"] == sequence.reply_header
    assert reply["hs_email_from_email"] == "ada@example.com"
    token = portal.client.auth.bearer()
    for email_id in (sent_id, reply_id):
        assert association_types(portal.sandbox, token, "emails", email_id, "contacts") == {contact: [198]}

    events = {e["id"]: e for e in portal.sandbox.admin.timeline_events(portal.hub_id)}
    assert set(events) == {str(sequence.events[kind]) for kind in TIMELINE}
    templates = httpx.get(
        f"{portal.sandbox.base_url}/integrators/timeline/v3/{portal.sandbox.app_id}/event-templates",
        params={"hapikey": portal.sandbox.developer_api_key},
    ).json()["results"]
    template_of = {t["id"]: t["name"] for t in templates}
    for kind in TIMELINE:
        event = events[str(sequence.events[kind])]
        assert event["objectId"] == contact and template_of[event["eventTemplateId"]] == TEMPLATES[kind].name
        assert event["tokens"]["campaign"] == "Q4 outbound" and event["tokens"]["subject"] == "Quick question"
    assert events[str(sequence.events["clicked"])]["tokens"]["url"].endswith(
        "/case-study?lead=ada%40x.com#top"
    )
    assert events[str(sequence.events["bounced"])]["tokens"]["bounce_reason"].startswith("550 5.1.1")
    clicked = events[str(sequence.events["clicked"])]
    rendered = httpx.get(
        f"{portal.sandbox.base_url}/integrators/timeline/v3/events/{clicked['eventTemplateId']}/{clicked['id']}/render",
        headers={"Authorization": f"Bearer {token}"},
    ).text
    assert rendered == "Clicked a link in “Quick question”"

    rows = {str(r.email_event_id): r for r in log_rows(engine, workspace)}
    assert len(rows) == 7 and {r.status for r in rows.values()} == {"logged"}
    assert rows[str(sequence.events["sent"])].hubspot_object_id == sent_id
    assert rows[str(sequence.events["replied"])].hubspot_object_type == "email"
    assert rows[str(sequence.events["opened"])].hubspot_object_type == "timeline_event"
    assert all(r.hubspot_contact_id == contact and r.synced_at is not None for r in rows.values())
    assert activity_status(engine, workspace) == {}


def test_a_second_run_logs_nothing_and_calls_nothing(engine: sa.Engine, oauth_portal: Portal) -> None:
    portal, workspace = oauth_portal, oauth_portal.workspace_id
    for n in range(3):
        add_sequence(engine, workspace, f"lead{n}@example.com")
    sync_contacts(engine, portal.client, workspace)
    first = log_activities(engine, portal.client, workspace, developer=portal.developer)
    assert first.counts["logged"] == 18  # six types each (delivered is off by default)
    portal.sandbox.admin.reset_counters()

    second = log_activities(engine, portal.client, workspace, developer=portal.developer)

    assert second.counts["logged"] == 0 and second.api_calls == 0
    assert portal.sandbox.admin.counters()["total"] == 0
    assert len(log_rows(engine, workspace)) == 18
    assert sum(emails_by_message_id(portal.client).values()) == 6
    assert len(portal.sandbox.admin.timeline_events(portal.hub_id)) == 12


def test_an_event_of_a_lead_without_a_contact_waits_and_is_logged_after_the_contact_sync(
    engine: sa.Engine, oauth_portal: Portal
) -> None:
    portal, workspace = oauth_portal, oauth_portal.workspace_id
    sequence = add_sequence(engine, workspace, "new@example.com", kinds=("sent", "opened"))
    portal.sandbox.admin.reset_counters()

    waiting = log_activities(engine, portal.client, workspace, developer=portal.developer)

    assert waiting.counts["waiting_for_contact"] == 2 and waiting.counts["logged"] == 0
    assert waiting.counts["failed"] == 0 and activity_status(engine, workspace) == {}  # not an error
    assert log_rows(engine, workspace) == [] and write_calls(portal.sandbox) == 0

    sync_contacts(engine, portal.client, workspace)
    logged = log_activities(engine, portal.client, workspace, developer=portal.developer)

    assert logged.counts["logged"] == 2 and logged.counts["waiting_for_contact"] == 0
    assert emails_by_message_id(portal.client) == {sequence.sent_header: 1}
    assert [e["id"] for e in portal.sandbox.admin.timeline_events(portal.hub_id)] == [
        str(sequence.events["opened"])
    ]


def test_a_workspace_with_sync_activities_off_sends_nothing(engine: sa.Engine, oauth_portal: Portal) -> None:
    portal, workspace = oauth_portal, oauth_portal.workspace_id
    add_sequence(engine, workspace, "quiet@example.com")
    sync_contacts(engine, portal.client, workspace)
    for settings in ({"sync_activities": False}, {"sync_activities": True, "enabled": False}):
        configure(engine, workspace, **settings)
        portal.sandbox.admin.reset_counters()

        report = log_activities(engine, portal.client, workspace, developer=portal.developer)

        assert report.enabled is False and report.counts["logged"] == 0
        assert portal.sandbox.admin.counters()["total"] == 0
        assert log_rows(engine, workspace) == []


def test_only_the_chosen_event_types_are_logged(engine: sa.Engine, oauth_portal: Portal) -> None:
    portal, workspace = oauth_portal, oauth_portal.workspace_id
    configure(engine, workspace, activity_event_types=["sent", "clicked"])
    sequence = add_sequence(engine, workspace, "picky@example.com")
    sync_contacts(engine, portal.client, workspace)

    report = log_activities(engine, portal.client, workspace, developer=portal.developer)

    assert dict(report.logged_by_type) == {"sent": 1, "clicked": 1}
    assert {str(r.email_event_id) for r in log_rows(engine, workspace)} == {
        str(sequence.events["sent"]),
        str(sequence.events["clicked"]),
    }
    # A request for some types logs only those of them the workspace chose.
    configure(engine, workspace, activity_event_types=list(EVENT_TYPES))
    only = log_activities(
        engine, portal.client, workspace, developer=portal.developer, event_types=["opened"]
    )
    assert dict(only.logged_by_type) == {"opened": 1}


def test_a_bad_event_is_a_row_error_with_a_message_and_the_rest_are_logged(
    engine: sa.Engine, oauth_portal: Portal
) -> None:
    portal, workspace = oauth_portal, oauth_portal.workspace_id
    good = add_sequence(engine, workspace, "good@example.com", kinds=("sent", "opened", "replied"))
    broken = add_sequence(engine, workspace, "broken@example.com", kinds=("sent", "opened"))
    sync_contacts(engine, portal.client, workspace)
    no_message = add_event(engine, workspace, good.lead_id, "sent", _now())
    bad_url = add_event(
        engine, workspace, good.lead_id, "clicked", _now(), url="javascript:alert(document.cookie)"
    )
    # HubSpot refuses what it cannot do: the broken lead's contact was deleted in HubSpot since the last sync.
    portal.client.archive("contacts", contact_of(engine, broken.lead_id))

    report = log_activities(engine, portal.client, workspace, developer=portal.developer)

    errors = activity_status(engine, workspace)
    assert set(errors) == {str(no_message), str(bad_url), *(str(e) for e in broken.events.values())}
    assert "has no message: set email_events.message_id" in errors[str(no_message)].error_message
    assert "not an http(s) URL" in errors[str(bad_url)].error_message
    assert "CONTACT" in errors[str(broken.events["sent"])].error_message  # HubSpot's own words
    assert all(row.status == "error" and row.attempts == 1 and row.dead_at is None for row in errors.values())
    assert report.counts["logged"] == 3 and report.counts["failed"] == 4
    assert {str(r.email_event_id) for r in log_rows(engine, workspace)} == {
        str(e) for e in good.events.values()
    }

    again = log_activities(
        engine, portal.client, workspace, developer=portal.developer
    )  # retried, still wrong
    assert again.counts["failed"] == 4 and again.counts["logged"] == 0
    assert {row.attempts for row in activity_status(engine, workspace).values()} == {2}


def test_a_private_app_portal_logs_timeline_types_as_notes_or_skips_them_as_chosen(
    engine: sa.Engine, private_portal: Portal
) -> None:
    portal, workspace = private_portal, private_portal.workspace_id
    sequence = add_sequence(engine, workspace, "private@example.com", kinds=("sent", "opened", "clicked"))
    sync_contacts(engine, portal.client, workspace)
    contact = contact_of(engine, sequence.lead_id)

    report = log_activities(engine, portal.client, workspace, developer=portal.developer)

    assert report.timeline_supported is False
    assert (
        report.counts["emails"] == 1 and report.counts["notes"] == 2 and report.counts["timeline_events"] == 0
    )
    assert portal.sandbox.admin.timeline_events(portal.hub_id) == []
    notes = {
        n["id"]: n["properties"]["hs_note_body"]
        for n in all_records(portal.client, "notes", ["hs_note_body"])
    }
    assert notes_by_event(portal.client) == {
        str(sequence.events["opened"]): 1,
        str(sequence.events["clicked"]): 1,
    }
    token = portal.sandbox.private_app_token
    for note_id, body in notes.items():
        assert association_types(portal.sandbox, token, "notes", note_id, "contacts") == {contact: [202]}
        assert "Campaign: Q4 outbound, step 1" in body and "Quick question" in body
    assert {r.hubspot_object_type for r in log_rows(engine, workspace)} == {"email", "note"}

    configure(engine, workspace, activity_timeline_fallback="skip")
    later = add_event(engine, workspace, sequence.lead_id, "opened", _now())
    skipped = log_activities(engine, portal.client, workspace, developer=portal.developer)
    assert skipped.counts["skipped"] == 1 and skipped.counts["notes"] == 0
    row = next(r for r in log_rows(engine, workspace) if r.email_event_id == later)
    assert row.status == "skipped" and row.hubspot_object_id is None
    assert len(notes_by_event(portal.client)) == 2


def test_metadata_only_content_sends_no_subject_or_body(engine: sa.Engine, oauth_portal: Portal) -> None:
    portal, workspace = oauth_portal, oauth_portal.workspace_id
    configure(engine, workspace, activity_content="metadata")
    sequence = add_sequence(engine, workspace, "private-content@example.com", kinds=("sent", "clicked"))
    sync_contacts(engine, portal.client, workspace)

    log_activities(engine, portal.client, workspace, developer=portal.developer)

    [email] = all_records(portal.client, "emails", ["hs_email_subject", "hs_email_text", "hs_email_headers"])
    assert "hs_email_subject" not in email["properties"] and "hs_email_text" not in email["properties"]
    assert json.loads(email["properties"]["hs_email_headers"])["messageId"] == sequence.sent_header
    [clicked] = portal.sandbox.admin.timeline_events(portal.hub_id)
    assert clicked["tokens"] == {
        "campaign": "Q4 outbound",
        "step": "1",
        "url": "https://coldcopy-test.example.com",
    }


def test_a_deleted_lead_keeps_its_activity_rows_without_its_content(
    engine: sa.Engine, oauth_portal: Portal
) -> None:
    from hubspot_pipeline.db.tables import leads

    portal, workspace = oauth_portal, oauth_portal.workspace_id
    sequence = add_sequence(engine, workspace, "gone@example.com", kinds=("sent", "opened"))
    sync_contacts(engine, portal.client, workspace)
    log_activities(engine, portal.client, workspace, developer=portal.developer)

    with engine.begin() as conn:  # the seed's FK had no ON DELETE: this used to fail
        conn.execute(sa.delete(leads).where(leads.c.id == sequence.lead_id))

    rows = log_rows(engine, workspace)
    assert (
        len(rows) == 2 and {r.lead_id for r in rows} == {None} and {r.email_event_id for r in rows} == {None}
    )
    assert {r.hubspot_object_type for r in rows} == {"email", "timeline_event"}
    assert all(r.hubspot_object_id for r in rows)


def test_a_lead_added_later_gets_only_its_own_events_logged(engine: sa.Engine, oauth_portal: Portal) -> None:
    """Incremental: events recorded after a run are logged by the next one, and only they."""
    portal, workspace = oauth_portal, oauth_portal.workspace_id
    add_sequence(engine, workspace, "early@example.com", kinds=("sent",))
    sync_contacts(engine, portal.client, workspace)
    log_activities(engine, portal.client, workspace, developer=portal.developer)
    lead = add_lead(engine, workspace, "late@example.com")
    message_id, header = add_message(engine, workspace, lead, "late@example.com", sent_at=_now())
    add_event(engine, workspace, lead, "sent", _now(), message_id=message_id)
    sync_contacts(engine, portal.client, workspace)

    report = log_activities(engine, portal.client, workspace, developer=portal.developer)

    assert dict(report.logged_by_type) == {"sent": 1}
    assert emails_by_message_id(portal.client)[header] == 1
