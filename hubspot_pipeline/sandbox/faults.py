"""Seeded fault injection: latency (fixed plus jitter) and, with configured probabilities, 429s, 5xx,
timeouts and dropped connections, the failures a client must survive against the real HubSpot."""

from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Literal

from hubspot_pipeline.sandbox.options import FaultOptions

FaultKind = Literal["drop", "timeout", "429", "500", "502", "503"]


@dataclass(frozen=True)
class FaultPlan:
    delay_seconds: float
    fault: FaultKind | None
    # The request is handled (its writes applied), then answered with this gateway error instead.
    after_write: Literal["502", "timeout"] | None = None


def plan_fault(options: FaultOptions, rng: random.Random, *, write: bool = False) -> FaultPlan:
    delay = options.latency_ms / 1000
    if options.jitter_ms:
        delay += rng.uniform(0, options.jitter_ms) / 1000
    if write and options.error_after_write and rng.random() < options.error_after_write:
        return FaultPlan(delay, None, "502" if rng.random() < 0.5 else "timeout")
    roll = rng.random()
    for kind, probability in (
        ("drop", options.drop_connection),
        ("timeout", options.timeout),
        ("429", options.rate_limit_429),
        ("500", options.error_500),
        ("502", options.error_502),
        ("503", options.error_503),
    ):
        if roll < probability:
            return FaultPlan(delay, kind)  # type: ignore[arg-type]
        roll -= probability
    return FaultPlan(delay, None)


# Bodies as HubSpot's edge sends them: 5xx from the gateway are HTML-ish text, not the JSON envelope.
GATEWAY_BODIES: dict[str, tuple[int, bytes]] = {
    "500": (500, b'{"status":"error","message":"internal error","category":"INTERNAL_ERROR"}'),
    "502": (502, b"<html><body><h1>502 Bad Gateway</h1></body></html>"),
    "503": (503, b"<html><body><h1>503 Service Unavailable</h1></body></html>"),
    "timeout": (504, b"<html><body><h1>504 Gateway Time-out</h1></body></html>"),
}
