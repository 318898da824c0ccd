"""The pure rules of workflow triggers: the model refuses what cannot run, conditions compare data (never
code), templates fill fields, a threshold fires once per crossing and re-arms, cooldowns, event matching,
retry backoff and the addresses a custom action may reach. No database, no network."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from hubspot_pipeline.workflows.core.addresses import Target, address_problem, parse_target
from hubspot_pipeline.workflows.core.conditions import evaluate, passes
from hubspot_pipeline.workflows.core.decide import LeadState, decide, plan_actions
from hubspot_pipeline.workflows.core.events import Event, evaluation_context, trigger_types
from hubspot_pipeline.workflows.core.fields import MISSING
from hubspot_pipeline.workflows.core.model import Condition, TriggerDefinition
from hubspot_pipeline.workflows.core.retry import MAX_ATTEMPTS, next_attempt
from hubspot_pipeline.workflows.core.templates import render
from hubspot_pipeline.workflows.core.threshold import in_cooldown, threshold_step

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
WS, LEAD = uuid.uuid4(), uuid.uuid4()


def trigger(**overrides) -> TriggerDefinition:
    values = {
        "name": "Hot",
        "event_type": "high_engagement",
        "threshold": 70,
        "actions": [{"type": "enroll", "workflow_id": "5150"}],
    }
    return TriggerDefinition.model_validate({**values, **overrides})


def score_event(old: float | None, new: float, source_id: str = "1") -> Event:
    return Event(
        "engagement", source_id, "score_changed", WS, LEAD, NOW, {"old_score": old, "new_score": new}
    )


def email_event(kind: str, **fields) -> Event:
    return Event("email", str(uuid.uuid4()), kind, WS, LEAD, NOW, {"type": kind, **fields})


def context(event: Event, **lead) -> dict:
    return evaluation_context({"email": "ada@x.com", "title": "Founder", **lead}, {"opened": 3}, event)


# -- the model refuses what could not run, naming it -------------------------------------------------------
@pytest.mark.parametrize(
    ("condition", "message"),
    [
        ({"field": "lead.password", "op": "eq", "value": "x"}, "unknown field 'lead.password'"),
        ({"field": "__import__('os').system('id')", "op": "eq", "value": 1}, "unknown field"),
        ({"field": "lead.title", "op": "in", "value": "founder"}, "needs a list"),
        ({"field": "lead.title", "op": "exists", "value": "yes"}, "takes true or false"),
        ({"field": "event.new_score", "op": "gt", "value": [1]}, "needs one value"),
        ({"field": "event.new_score", "op": "gt", "value": True}, "needs a number"),
        ({"field": "event.new_score", "op": "regex", "value": ".*"}, "Input should be"),
    ],
)
def test_a_condition_on_an_unknown_field_or_with_a_wrong_value_is_refused(condition, message) -> None:
    with pytest.raises(ValidationError, match=message):
        Condition.model_validate(condition)


def test_a_template_naming_an_unknown_field_is_refused() -> None:
    with pytest.raises(ValidationError, match=r"unknown field \{\{lead.__class__\}\}"):
        trigger(actions=[{"type": "update_properties", "properties": {"x": "{{lead.__class__}}"}}])


def test_high_engagement_needs_a_threshold_and_others_refuse_one() -> None:
    with pytest.raises(ValidationError, match="needs a threshold"):
        trigger(threshold=None)
    with pytest.raises(ValidationError, match="only high_engagement"):
        trigger(event_type="positive_reply")
    with pytest.raises(ValidationError, match="flow_id"):
        trigger(actions=[{"type": "enroll"}])
    with pytest.raises(ValidationError):
        trigger(actions=[])


def test_custom_fields_are_fields() -> None:
    assert Condition(field="lead.custom_fields.industry", op="eq", value="saas").field.endswith("industry")


# -- conditions -------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("op", "actual", "expected", "result"),
    [
        ("eq", "Founder", "founder", True),
        ("eq", "70", 70, True),
        ("eq", 70.0, "70", True),
        ("neq", "CEO", "founder", True),
        ("neq", MISSING, "founder", True),
        ("eq", MISSING, "founder", False),
        ("gt", 71, 70, True),
        ("gt", "71", 70, True),
        ("gt", "seventy", 70, False),
        ("gte", 70, 70, True),
        ("lt", MISSING, 70, False),
        ("lte", "2026-11-01T00:00:00", "2026-11-29", True),
        ("in", "interested", ["Interested", "referral"], True),
        ("in", "neutral", ["interested"], False),
        ("contains", "Co-Founder & CEO", "founder", True),
        ("contains", ["a", "b"], "b", True),
        ("exists", "x", None, True),
        ("exists", "", True, False),
        ("exists", MISSING, False, True),
        ("gt", float("nan"), 1, False),
    ],
)
def test_each_operator_compares_data(op, actual, expected, result) -> None:
    assert passes(op, actual, expected) is result


def test_every_condition_result_is_reported_with_its_actual_value() -> None:
    event = score_event(60, 75)
    conditions = [
        Condition(field="lead.title", op="contains", value="found"),
        Condition(field="engagement.opened", op="gte", value=5),
        Condition(field="lead.custom_fields.size", op="exists"),
    ]
    matched, results = evaluate(conditions, context(event))
    assert matched is False
    assert [(r.actual, r.passed) for r in results] == [("Founder", True), (3, False), (None, False)]


def test_templates_fill_lead_and_event_fields_and_nothing_else() -> None:
    ctx = context(score_event(60, 75), first_name="Ada")
    assert render("{{lead.first_name}} hit {{ event.new_score }}{{lead.phone}}", ctx) == "Ada hit 75"
    assert render("{{7*7}} {{lead.__class__}}", ctx) == " "


# -- thresholds and cooldowns -----------------------------------------------------------------------------
def test_a_threshold_fires_once_per_crossing_and_rearms_below_it() -> None:
    armed: bool | None = None
    fired = []
    for old, new in [(50, 65), (65, 72), (72, 90), (90, 71), (71, 60), (60, 80), (80, 85)]:
        step = threshold_step(armed, old, new, 70)
        fired.append(step.fires)
        armed = step.armed
    assert fired == [False, True, False, False, False, True, False]


def test_a_lead_already_above_the_threshold_waits_for_the_next_crossing() -> None:
    assert threshold_step(None, 80, 85, 70).fires is False
    assert threshold_step(None, None, 85, 70).fires is True  # a first score is a crossing from nothing


def test_cooldown() -> None:
    assert in_cooldown(NOW - timedelta(minutes=5), NOW, timedelta(minutes=10)) is True
    assert in_cooldown(NOW - timedelta(minutes=15), NOW, timedelta(minutes=10)) is False
    assert in_cooldown(NOW, NOW, timedelta(0)) is False
    assert in_cooldown(None, NOW, timedelta(days=1)) is False


# -- which events fire which trigger types ----------------------------------------------------------------
def test_each_event_fires_its_trigger_types() -> None:
    assert trigger_types(email_event("opened")) == {"email_opened"}
    assert trigger_types(email_event("clicked")) == {"email_clicked"}
    assert trigger_types(email_event("replied")) == {"email_replied"}
    assert trigger_types(email_event("bounced")) == {"email_bounced"}
    assert trigger_types(email_event("unsubscribed")) == {"unsubscribe"}
    assert trigger_types(email_event("sent")) == set()
    assert trigger_types(score_event(1, 2)) == {"score_changed", "high_engagement"}
    intent = Event("engagement", "9", "intent_decided", WS, LEAD, NOW, {"intent": "interested"}, "m1")
    assert trigger_types(intent) == {"positive_reply"}
    removal = Event("engagement", "9", "intent_decided", WS, LEAD, NOW, {"intent": "unsubscribe_request"})
    assert trigger_types(removal) == {"unsubscribe"}
    crossing = Event("engagement", "10", "threshold_crossed", WS, LEAD, NOW, {"threshold": 70})
    assert trigger_types(crossing) == set()


def test_a_replys_intent_has_one_key_whichever_path_decided_it() -> None:
    from_api = Event("email", "e1", "intent_decided", WS, LEAD, NOW, {"intent": "interested"}, "m1")
    from_scoring = Event("engagement", "77", "intent_decided", WS, LEAD, NOW, {"intent": "interested"}, "m1")
    assert from_api.key == from_scoring.key == "reply:m1"
    assert email_event("opened").key.startswith("email:")


# -- the decision ---------------------------------------------------------------------------------------
def test_a_matching_trigger_fires_and_plans_its_actions_with_values_filled_in() -> None:
    t = trigger(
        conditions=[{"field": "lead.title", "op": "contains", "value": "founder"}],
        actions=[
            {"type": "enroll", "workflow_id": "5150"},
            {"type": "update_properties", "properties": {"coldcopy_hot": "score {{event.new_score}}"}},
            {"type": "custom_action", "url": "https://hooks.example.com/x"},
        ],
    )
    event = score_event(60, 75)
    decision = decide(t, event, context(event), LeadState(), NOW)
    assert decision.outcome == "fire" and decision.armed is False
    planned = [a.describe() for a in plan_actions(t, context(event))]
    assert planned == [
        {"label": "0:enroll", "type": "enroll", "workflow_id": "5150"},
        {
            "label": "1:update_properties",
            "type": "update_properties",
            "properties": {"coldcopy_hot": "score 75"},
        },
        {"label": "2:custom_action", "type": "custom_action", "url": "https://hooks.example.com/x"},
    ]


def test_a_disabled_trigger_never_fires() -> None:
    event = score_event(60, 75)
    decision = decide(trigger(enabled=False), event, context(event), LeadState(), NOW)
    assert decision.outcome == "no_match" and "disabled" in decision.reason


def test_a_lead_in_cooldown_is_skipped_with_the_time_it_ends() -> None:
    t = trigger(event_type="email_opened", threshold=None, cooldown_minutes=60)
    event = email_event("opened")
    decision = decide(t, event, context(event), LeadState(last_fired_at=NOW - timedelta(minutes=10)), NOW)
    assert decision.outcome == "skip" and "2026-11-29T12:50:00+00:00" in decision.reason


def test_a_high_engagement_trigger_that_fired_does_not_fire_again_until_rearmed() -> None:
    t = trigger()
    first = decide(t, score_event(60, 75), context(score_event(60, 75)), LeadState(), NOW)
    again = decide(t, score_event(75, 90), context(score_event(75, 90)), LeadState(armed=first.armed), NOW)
    assert (first.outcome, again.outcome) == ("fire", "no_match")


def test_failed_conditions_are_named() -> None:
    t = trigger(conditions=[{"field": "lead.title", "op": "eq", "value": "CTO"}])
    event = score_event(60, 75)
    decision = decide(t, event, context(event), LeadState(), NOW)
    assert decision.outcome == "no_match" and "lead.title eq" in decision.reason


# -- retries ----------------------------------------------------------------------------------------------
def test_failed_executions_back_off_then_are_given_up() -> None:
    delays = [next_attempt(n, NOW) for n in range(1, MAX_ATTEMPTS + 1)]
    assert [d - NOW for d in delays[:-1] if d] == [
        timedelta(seconds=30 * 2**i) for i in range(MAX_ATTEMPTS - 1)
    ]
    assert delays[-1] is None


# -- where a custom action may go -------------------------------------------------------------------------
@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "::1",
        "fe80::1",
        "fd00::1",
        "::ffff:127.0.0.1",
        "0.0.0.0",
        "100.64.0.1",
        "224.0.0.1",
    ],
)
def test_private_loopback_and_link_local_addresses_are_refused(address: str) -> None:
    assert address_problem(address) is not None


def test_public_addresses_pass() -> None:
    assert address_problem("93.184.216.34") is None
    assert address_problem("2606:2800:220:1:248:1893:25c8:1946") is None


def test_only_https_unless_private_targets_are_allowed() -> None:
    assert parse_target("http://hooks.example.com/x", allow_private=False) == "must use https"
    assert parse_target("ftp://x", allow_private=True) != Target("ftp", "x", 21)
    assert parse_target("https://user:pw@hooks.example.com", allow_private=False) == (
        "must not carry a user name or password (the body is signed instead)"
    )
    assert parse_target("http://127.0.0.1:9000/a", allow_private=True) == Target("http", "127.0.0.1", 9000)
    assert parse_target("https://[::1", allow_private=False) == "is not a valid URL"
