"""The developer app the sandbox hosts: its OAuth client, webhook settings and subscriptions, and its
timeline event templates (all app-level in HubSpot, shared by every installing portal)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any


@dataclass
class WebhookSettings:
    target_url: str
    max_concurrent_requests: int
    period: str
    created_ms: int
    updated_ms: int


@dataclass
class Subscription:
    id: int
    event_type: str
    active: bool
    created_ms: int
    updated_ms: int
    property_name: str | None = None
    object_type_id: str | None = None


@dataclass
class EventTemplate:
    id: str
    name: str
    object_type: str
    header_template: str | None
    detail_template: str | None
    tokens: list[dict[str, Any]]
    created_ms: int
    updated_ms: int

    def token_names(self) -> set[str]:
        return {token["name"] for token in self.tokens}


@dataclass
class DeveloperApp:
    app_id: int
    client_id: str
    client_secret: str
    settings: WebhookSettings | None = None
    subscriptions: dict[int, Subscription] = field(default_factory=dict)
    templates: dict[str, EventTemplate] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._subscription_ids = itertools.count(1)
        self._template_ids = itertools.count(1_000_001)

    def next_subscription_id(self) -> int:
        return next(self._subscription_ids)

    def next_template_id(self) -> str:
        return str(next(self._template_ids))
