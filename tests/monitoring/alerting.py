"""The alert cycle wired to a local receiver for apprise's json:// webhook (what a Slack or generic webhook URL
would get): the `alerting` fixture of the monitoring and Dagster tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime

import orjson
import pytest
import sqlalchemy as sa

from hubspot_pipeline.monitoring.cycle import CycleReport, evaluate_alerts
from hubspot_pipeline.monitoring.notify import AppriseNotifier
from hubspot_pipeline.monitoring.rules import Thresholds
from tests.sandbox.receiver import Receiver, run_receiver


@dataclass
class Alerting:
    engine: sa.Engine
    receiver: Receiver
    thresholds: Thresholds

    @property
    def url(self) -> str:
        return "json://" + self.receiver.url.removeprefix("http://")

    def evaluate(self, now: datetime | None = None) -> CycleReport:
        return evaluate_alerts(self.engine, self.thresholds, AppriseNotifier([self.url]), now=now)

    def messages(self, key: str) -> list[dict]:
        """The notifications the receiver got that name this alert key, oldest first."""
        bodies = [orjson.loads(delivery.body) for delivery in self.receiver.deliveries]
        return [body for body in bodies if key in body["message"]]


@pytest.fixture
def alerting(engine: sa.Engine) -> Iterator[Alerting]:
    with run_receiver("/alerts") as receiver:
        yield Alerting(engine, receiver, Thresholds())


def fires_once_then_resolves(
    alerting: Alerting,
    keys: list[str],
    end_condition: Callable[[], object],
    resolve_at: datetime | None = None,
) -> None:
    """The keys open on the next evaluation with one message each, a second evaluation sends nothing, and once
    `end_condition()` has run (and time is at `resolve_at`) they resolve with one message each, then stay
    quiet."""
    first = alerting.evaluate()
    for key in keys:
        assert key in first.opened, f"{key} did not fire: {first.describe()}"
        fired = alerting.messages(key)
        assert len(fired) == 1 and "firing" in fired[0]["title"]
    alerting.evaluate()  # still firing: no second message
    assert [len(alerting.messages(key)) for key in keys] == [1] * len(keys)
    end_condition()
    later = alerting.evaluate(now=resolve_at)
    for key in keys:
        assert key in later.resolved, f"{key} did not resolve: {later.describe()}"
        messages = alerting.messages(key)
        assert len(messages) == 2 and "resolved" in messages[1]["title"]
    alerting.evaluate(now=resolve_at)
    assert [len(alerting.messages(key)) for key in keys] == [2] * len(keys)
