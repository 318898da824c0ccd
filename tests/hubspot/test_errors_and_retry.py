"""Typed errors (what they carry, that they never show a token) and the retry policy as pure decisions.
Protocol-level behaviour over HTTP is in test_transport.py; against the sandbox in test_client_sandbox.py."""

from __future__ import annotations

import itertools
import random

import httpx
import pytest

from hubspot_pipeline.hubspot.errors import (
    HubSpotAuthError,
    HubSpotRateLimitError,
    HubSpotSyncError,
    HubSpotValidationError,
    error_from_response,
    register_secret,
)
from hubspot_pipeline.hubspot.retry import Attempts, RetryPolicy, backoff, decide_network, decide_response

POLICY = RetryPolicy()


def test_errors_carry_status_category_correlation_id_and_context() -> None:
    body = {
        "status": "error",
        "message": "Property values were not valid",
        "correlationId": "c-1",
        "category": "VALIDATION_ERROR",
        "context": {"propertyName": ["discount"]},
    }
    error = error_from_response(400, body, "POST /crm/v3/objects/contacts/batch/upsert")
    assert isinstance(error, HubSpotValidationError)
    assert (error.status, error.category, error.correlation_id) == (400, "VALIDATION_ERROR", "c-1")
    assert error.context["propertyName"] == ["discount"]
    assert "POST /crm/v3/objects/contacts/batch/upsert" in str(error)


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (401, HubSpotAuthError),
        (403, HubSpotAuthError),
        (429, HubSpotRateLimitError),
        (404, HubSpotValidationError),
        (409, HubSpotValidationError),
        (502, HubSpotSyncError),
    ],
)
def test_each_status_maps_to_its_error_type(status: int, kind: type) -> None:
    assert isinstance(error_from_response(status, {"message": "x"}, "GET /x"), kind)


def test_a_registered_token_never_appears_in_an_error_message_or_context() -> None:
    token = "CJSP5qf1KhICAQEYs-gDIIGOBii1hQIyGQAf3xBKmlwHjX7OIpuIFEavB2-qYAGQsF4"
    register_secret(token)
    error = error_from_response(
        401, {"message": f"bad token {token}", "context": {"token": [token]}}, "GET /x"
    )
    assert token not in str(error)
    assert token not in repr(error.context)
    assert "[redacted]" in str(error)


def test_a_private_app_token_shape_is_scrubbed_even_unregistered() -> None:
    error = HubSpotValidationError("failed for pat-na1-0123abcd-4567-89ab-cdef-0123456789ab")
    assert "pat-na1" not in str(error)


def test_ten_secondly_429_waits_the_interval_and_blocks_the_portal() -> None:
    headers = {"x-hubspot-ratelimit-interval-milliseconds": "10000"}
    decision = decide_response(
        POLICY, Attempts(), 429, {"policyName": "TEN_SECONDLY_ROLLING"}, headers, idempotent=False
    )
    assert (decision.retry, decision.wait, decision.block_policy) == (True, 10.0, "TEN_SECONDLY_ROLLING")


def test_secondly_429_waits_about_a_second_even_without_policy_name() -> None:
    body = {"message": "You have reached your secondly limit.", "errorType": "RATE_LIMIT"}
    decision = decide_response(POLICY, Attempts(), 429, body, {}, idempotent=True)
    assert (decision.retry, decision.wait) == (True, 1.0)


def test_retry_after_wins_over_the_policy_default() -> None:
    decision = decide_response(
        POLICY, Attempts(), 429, {"policyName": "TEN_SECONDLY_ROLLING"}, {"Retry-After": "3"}, idempotent=True
    )
    assert decision.wait == 3.0


def test_daily_429_is_never_retried() -> None:
    decision = decide_response(POLICY, Attempts(), 429, {"policyName": "DAILY"}, {}, idempotent=True)
    assert not decision.retry


def test_423_waits_at_least_two_seconds() -> None:
    decision = decide_response(POLICY, Attempts(), 423, {}, {"Retry-After": "1"}, idempotent=False)
    assert decision.retry and decision.wait >= 2.0


def test_5xx_is_retried_with_growing_backoff_only_when_idempotent() -> None:
    attempts = Attempts()
    waits = [
        decide_response(POLICY, attempts, 503, {}, {}, idempotent=True, rng=random.Random(1)).wait
        for _ in range(5)
    ]
    assert all(later > earlier / 2 for earlier, later in itertools.pairwise(waits))
    assert not decide_response(POLICY, attempts, 503, {}, {}, idempotent=True).retry  # 6th: exhausted
    assert not decide_response(POLICY, Attempts(), 500, {}, {}, idempotent=False).retry


def test_other_4xx_is_not_retried() -> None:
    for status in (400, 401, 403, 404, 409, 414):
        assert not decide_response(POLICY, Attempts(), status, {}, {}, idempotent=True).retry


def test_network_errors_are_retried_three_times_with_jittered_exponential_backoff() -> None:
    attempts = Attempts()
    error = httpx.ReadTimeout("slow")
    decisions = [decide_network(POLICY, attempts, error, idempotent=True) for _ in range(4)]
    assert [d.retry for d in decisions] == [True, True, True, False]
    rng = random.Random(7)
    assert {round(backoff(POLICY, 2, rng), 6) for _ in range(5)} != {2.0}  # jittered
    assert all(1.0 <= backoff(POLICY, 2, rng) <= 2.0 for _ in range(50))


def test_a_request_that_may_have_reached_hubspot_is_retried_only_if_idempotent() -> None:
    assert not decide_network(POLICY, Attempts(), httpx.ReadTimeout("x"), idempotent=False).retry
    assert decide_network(POLICY, Attempts(), httpx.ConnectError("x"), idempotent=False).retry
