"""Fixtures of the monitoring tests: the sandbox over HTTP, a local receiver for apprise's json:// webhook
(what a Slack or generic webhook URL would get), and the alert cycle wired to it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

import orjson
import pytest
import sqlalchemy as sa

from hubspot_pipeline.monitoring.cycle import CycleReport, evaluate_alerts
from hubspot_pipeline.monitoring.notify import AppriseNotifier
from hubspot_pipeline.monitoring.rules import Thresholds
from hubspot_pipeline.sandbox.pytest_plugin import hubspot_sandbox, hubspot_sandbox_server  # noqa: F401
from tests.sandbox.receiver import Receiver, run_receiver


@dataclass
class Alerting:
    engine: sa.Engine
    receiver: Receiver
    thresholds: Thresholds

    def evaluate(self, now: datetime | None = None) -> CycleReport:
        url = "json://" + self.receiver.url.removeprefix("http://")
        return evaluate_alerts(self.engine, self.thresholds, AppriseNotifier([url]), now=now)

    def messages(self, key: str) -> list[dict]:
        """The notifications the receiver got that name this alert key, oldest first."""
        bodies = [orjson.loads(delivery.body) for delivery in self.receiver.deliveries]
        return [body for body in bodies if key in body["message"]]


@pytest.fixture
def alerting(engine: sa.Engine) -> Iterator[Alerting]:
    with run_receiver("/alerts") as receiver:
        yield Alerting(engine, receiver, Thresholds())
