"""The activity log's pure rules: which object each event type becomes on each kind of portal, what each
content level lets through, the keys that find an object again, what makes an event unusable, and how a
batch is planned. No database, no HTTP (the sandbox tests are in test_log_sandbox.py)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hubspot_pipeline.activities.core.content import (
    MAX_VALUE_LENGTH,
    email_properties,
    link_at,
    note_body,
    timeline_event,
)
from hubspot_pipeline.activities.core.events import ActivitySettings, EmailEvent, Message
from hubspot_pipeline.activities.core.ids import headers_message_id, note_event_id, note_marker
from hubspot_pipeline.activities.core.plan import plan_events
from hubspot_pipeline.activities.core.targets import TIMELINE_TYPES, target_of
from hubspot_pipeline.activities.core.templates import TEMPLATES, same_template
from hubspot_pipeline.activities.core.validation import problem_of

AT = datetime(2026, 11, 2, 9, 30, tzinfo=UTC)
LEAD = "11111111-1111-4111-8111-111111111111"
EVENT = "22222222-2222-4222-8222-222222222222"
TEMPLATE_IDS = {kind: str(1000 + i) for i, kind in enumerate(TIMELINE_TYPES)}


def message(direction: str = "sent", **changes: object) -> Message:
    values: dict = {
        "id": "33333333-3333-4333-8333-333333333333",
        "lead_id": LEAD,
        "direction": direction,
        "message_id_header": "<abc123@mail.coldcopy.example.com>"
        if direction == "sent"
        else "<re456@example.com>",
        "in_reply_to_header": "<first@mail.coldcopy.example.com>" if direction == "received" else None,
        "from_address": "sam@coldcopy.example.com",
        "from_name": "Sam Carter",
        "to_address": "ada@example.com",
        "to_name": "Ada Byron King",
        "subject": "Quick question",
        "body_text": "Hi Ada",
        "body_html": "<p>Hi Ada</p>",
        "campaign_step": 2,
        "sent_at": AT,
    }
    if direction == "received":  # the lead writes back
        values["from_address"], values["to_address"] = values["to_address"], values["from_address"]
        values["from_name"], values["to_name"] = values["to_name"], values["from_name"]
    values.update(changes)
    return Message(**values)


def event(kind: str, **changes: object) -> EmailEvent:
    values: dict = {
        "id": EVENT,
        "lead_id": LEAD,
        "event_type": kind,
        "occurred_at": AT,
        "campaign_name": "Q4 outbound",
        "message": message("received" if kind == "replied" else "sent"),
        "contact_id": "601",
        "link_url": "https://coldcopy.example.com/pricing?lead=ada%40example.com#plans"
        if kind == "clicked"
        else None,
        "bounce_reason": "550 5.1.1 no such user" if kind == "bounced" else None,
    }
    values.update(changes)
    return EmailEvent(**values)


@pytest.mark.parametrize(
    ("kind", "oauth", "private_notes", "private_skip"),
    [
        ("sent", "email", "email", "email"),
        ("replied", "email", "email", "email"),
        ("delivered", "timeline_event", "note", "skip"),
        ("opened", "timeline_event", "note", "skip"),
        ("clicked", "timeline_event", "note", "skip"),
        ("bounced", "timeline_event", "note", "skip"),
        ("unsubscribed", "timeline_event", "note", "skip"),
    ],
)
def test_each_event_type_becomes_its_object_on_each_kind_of_portal(
    kind: str, oauth: str, private_notes: str, private_skip: str
) -> None:
    assert target_of(kind, timeline_supported=True, fallback="notes") == oauth
    assert target_of(kind, timeline_supported=False, fallback="notes") == private_notes
    assert target_of(kind, timeline_supported=False, fallback="skip") == private_skip


def test_a_sent_email_is_an_outgoing_engagement_with_its_message_id_in_the_headers() -> None:
    properties = email_properties(event("sent"), "full")
    assert properties["hs_email_direction"] == "EMAIL" and properties["hs_email_status"] == "SENT"
    assert properties["hs_timestamp"] == "2026-11-02T09:30:00.000Z"
    assert properties["hs_email_subject"] == "Quick question" and properties["hs_email_text"] == "Hi Ada"
    assert properties["hs_email_html"] == "<p>Hi Ada</p>"
    headers = json.loads(properties["hs_email_headers"])
    assert headers["from"] == {"email": "sam@coldcopy.example.com", "firstName": "Sam", "lastName": "Carter"}
    assert headers["to"] == [{"email": "ada@example.com", "firstName": "Ada", "lastName": "Byron King"}]
    assert headers["messageId"] == "<abc123@mail.coldcopy.example.com>" and "inReplyTo" not in headers
    assert headers_message_id(properties["hs_email_headers"]) == "<abc123@mail.coldcopy.example.com>"


def test_a_reply_is_an_incoming_engagement_carrying_in_reply_to() -> None:
    properties = email_properties(event("replied"), "full")
    assert properties["hs_email_direction"] == "INCOMING_EMAIL" and "hs_email_status" not in properties
    headers = json.loads(properties["hs_email_headers"])
    assert headers["inReplyTo"] == "<first@mail.coldcopy.example.com>"
    assert headers["from"]["email"] == "ada@example.com"


@pytest.mark.parametrize(
    ("level", "subject", "body", "url", "reason"),
    [
        ("full", True, True, "https://coldcopy.example.com/pricing?lead=ada%40example.com#plans", True),
        ("subject", True, False, "https://coldcopy.example.com/pricing", True),
        ("metadata", False, False, "https://coldcopy.example.com", False),
    ],
)
def test_each_content_level_lets_through_only_what_it_names(
    level: str, subject: bool, body: bool, url: str, reason: bool
) -> None:
    sent = email_properties(event("sent"), level)  # type: ignore[arg-type]
    assert ("hs_email_subject" in sent) is subject
    assert ("hs_email_text" in sent) is body and ("hs_email_html" in sent) is body
    assert headers_message_id(sent["hs_email_headers"])  # every level keeps what finds the email again
    clicked = timeline_event(event("clicked"), "1", level, TEMPLATES["clicked"])  # type: ignore[arg-type]
    assert clicked["tokens"]["url"] == url
    assert ("subject" in clicked["tokens"]) is subject
    assert clicked["tokens"]["campaign"] == "Q4 outbound" and clicked["tokens"]["step"] == "2"
    bounced = timeline_event(event("bounced"), "1", level, TEMPLATES["bounced"])  # type: ignore[arg-type]
    assert ("bounce_reason" in bounced["tokens"]) is reason
    note = note_body(event("clicked"), level)  # type: ignore[arg-type]
    assert ("Quick question" in note) is subject and url.replace("&", "&amp;") in note


def test_a_timeline_event_is_on_the_contact_by_id_with_the_events_id_as_key() -> None:
    body = timeline_event(event("opened"), "1001", "full", TEMPLATES["opened"])
    assert body["id"] == EVENT and body["objectId"] == "601" and body["eventTemplateId"] == "1001"
    assert "email" not in body  # an email would let HubSpot create a contact
    assert set(body["tokens"]) <= TEMPLATES["opened"].token_names()


def test_values_longer_than_hubspot_takes_are_cut_and_an_oversized_html_body_is_left_out() -> None:
    long = message(body_text="x" * 100_000, body_html="<p>" + "y" * 100_000 + "</p>", subject="s" * 70_000)
    properties = email_properties(event("sent", message=long), "full")
    assert len(properties["hs_email_text"]) == MAX_VALUE_LENGTH
    assert len(properties["hs_email_subject"]) == MAX_VALUE_LENGTH
    assert "hs_email_html" not in properties


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"message": None}, "has no message"),
        ({"message": message("received")}, "needs a sent one"),
        ({"message": message(lead_id="99999999-9999-4999-8999-999999999999")}, "belongs to another lead"),
        ({"message": message(message_id_header="abc123")}, "not of the form <local@domain>"),
        ({"message": message(to_address="nobody")}, "no valid to address"),
        ({"event_type": "forwarded"}, "unknown type"),
    ],
)
def test_an_unusable_sent_event_says_what_is_wrong(changes: dict, expected: str) -> None:
    problem = problem_of(event("sent", **changes))
    assert problem is not None and expected in problem and EVENT in problem


@pytest.mark.parametrize(
    "url", [None, "javascript:alert(1)", "ftp://files.example.com/x", "https://", "data:text/html,<b>x</b>"]
)
def test_a_click_needs_an_http_url(url: str | None) -> None:
    problem = problem_of(event("clicked", link_url=url))
    assert problem is not None and "clicked event" in problem


def test_a_plan_sorts_events_into_writes_waits_and_errors() -> None:
    events = [
        event("sent", id="a0000000-0000-4000-8000-000000000001"),
        event("replied", id="a0000000-0000-4000-8000-000000000002"),
        event("opened", id="a0000000-0000-4000-8000-000000000003"),
        event("opened", id="a0000000-0000-4000-8000-000000000004", contact_id=None),
        event("clicked", id="a0000000-0000-4000-8000-000000000005", link_url="javascript:x"),
        # A second `sent` about the same message would be a second email engagement for one email.
        event("sent", id="a0000000-0000-4000-8000-000000000006"),
    ]
    plan = plan_events(events, ActivitySettings(), timeline_supported=True, template_ids=TEMPLATE_IDS)
    assert plan.counts() == {
        "emails": 2,
        "notes": 0,
        "timeline_events": 1,
        "skipped": 0,
        "invalid": 2,
        "waiting_for_contact": 1,
    }
    assert [e.match_key for e in plan.engagements] == [
        "<abc123@mail.coldcopy.example.com>",
        "<re456@example.com>",
    ]
    assert [e.id for e in plan.waiting] == ["a0000000-0000-4000-8000-000000000004"]
    duplicate = dict((e.id, why) for e, why in plan.invalid)["a0000000-0000-4000-8000-000000000006"]
    assert "already logged by event a0000000-0000-4000-8000-000000000001" in duplicate


def test_on_a_private_app_portal_timeline_types_become_notes_or_are_skipped_as_chosen() -> None:
    events = [event("opened"), event("sent", id="a0000000-0000-4000-8000-000000000009")]
    notes = plan_events(events, ActivitySettings(), timeline_supported=False, template_ids={})
    assert [e.object_type for e in notes.engagements] == ["note", "email"]
    assert notes.engagements[0].match_key == note_marker(EVENT)
    skip = plan_events(
        events, ActivitySettings(timeline_fallback="skip"), timeline_supported=False, template_ids={}
    )
    assert [e.id for e in skip.skipped] == [EVENT] and len(skip.engagements) == 1


def test_templates_compare_on_what_matters_and_hash_their_definition() -> None:
    definition = TEMPLATES["clicked"]
    found = {**definition.as_json(), "id": "9", "createdAt": "2026-01-01T00:00:00Z"}
    found["tokens"] = [{**t, "createdAt": "x", "updatedAt": "y"} for t in found["tokens"]]
    assert same_template(definition, found)
    assert not same_template(definition, {**found, "headerTemplate": "Clicked"})
    assert definition.digest() != TEMPLATES["opened"].digest()


# -- what strangers control: subjects, bodies, URLs and reasons come from leads and their mail servers --------


@given(st.text(max_size=300), st.text(max_size=200))
def test_a_note_always_names_its_own_event_whatever_the_subject_and_reason_say(
    subject: str, reason: str
) -> None:
    spoof = f"{subject} ColdCopy event 99999999-9999-4999-8999-999999999999 {reason}"
    note = note_body(event("bounced", message=message(subject=spoof), bounce_reason=spoof), "full")
    assert note_event_id(note) == EVENT


@given(st.text(max_size=300))
def test_a_subject_cannot_inject_html_into_a_note(subject: str) -> None:
    note = note_body(event("opened", message=message(subject=subject)), "full")
    # <p><strong>title</strong>: “subject”</p><p>Campaign…</p><p>marker</p>: eight tags, none from the subject
    assert note.count("<") == 8


@given(st.text(max_size=200), st.text(max_size=200))
def test_a_subject_or_name_cannot_forge_the_message_id_in_the_headers(subject: str, name: str) -> None:
    forged = '","messageId":"<forged@x>' + subject
    properties = email_properties(
        event("sent", message=message(subject=forged, from_name=name + forged)), "full"
    )
    assert headers_message_id(properties["hs_email_headers"]) == "<abc123@mail.coldcopy.example.com>"


@given(
    st.sampled_from(["http", "https"]),
    st.from_regex(r"[a-z]{1,10}\.[a-z]{2,5}", fullmatch=True),
    st.text(alphabet="abc/-_%", max_size=20),
    st.text(alphabet="abc=&%@", max_size=30),
)
def test_below_full_content_a_link_never_keeps_its_query(
    scheme: str, host: str, path: str, query: str
) -> None:
    url = f"{scheme}://{host}/{path}?{query}#frag"
    assert "?" not in link_at(url, "subject") and "#" not in link_at(url, "subject")
    assert link_at(url, "metadata") == f"{scheme}://{host}"


def test_days_are_utc_and_a_new_workspace_starts_ninety_days_back() -> None:
    from datetime import date, timedelta, timezone

    from hubspot_pipeline.activities.core.days import (
        FIRST_DAY,
        day_to_close,
        day_window,
        first_connect_since,
        requested_days,
        utc_day,
    )

    late_evening_in_new_york = datetime(2026, 11, 28, 22, 30, tzinfo=timezone(timedelta(hours=-5)))
    assert utc_day(late_evening_in_new_york) == date(2026, 11, 29)
    assert day_window(date(2026, 11, 29)) == (
        datetime(2026, 11, 29, tzinfo=UTC),
        datetime(2026, 11, 30, tzinfo=UTC),
    )
    since = first_connect_since(datetime(2026, 11, 29, 10, 0, tzinfo=UTC))
    assert since == datetime(2026, 9, 1, tzinfo=UTC)  # 90 days, today included
    now = datetime(2026, 11, 29, 0, 5, tzinfo=UTC)
    assert day_to_close(now, None) == date(2026, 11, 28)
    assert day_to_close(now, date(2026, 11, 28)) is None
    today = date(2026, 11, 29)
    assert requested_days(date(2026, 11, 27), None, [], today) == [
        date(2026, 11, 27),
        date(2026, 11, 28),
        today,
    ]
    assert requested_days(None, None, [date(2026, 5, 1), date(2023, 1, 1), date(2026, 5, 1)], today) == [
        date(2026, 5, 1)
    ]
    assert requested_days(date(2020, 1, 1), date(2024, 1, 2), [], today) == [FIRST_DAY, date(2024, 1, 2)]
