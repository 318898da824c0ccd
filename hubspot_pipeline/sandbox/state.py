"""The whole sandbox's state: options, clock, portals, tokens, the developer app, counters, randomness."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from hubspot_pipeline.sandbox.clock import SandboxClock
from hubspot_pipeline.sandbox.counters import CallCounters
from hubspot_pipeline.sandbox.developer_app import DeveloperApp
from hubspot_pipeline.sandbox.options import SandboxOptions
from hubspot_pipeline.sandbox.portal import Portal
from hubspot_pipeline.sandbox.tokens import TokenStore

EventSink = Callable[[Portal, dict[str, Any]], None]


class Sandbox:
    def __init__(self, options: SandboxOptions, event_sink: EventSink | None = None) -> None:
        self.options = options
        self.clock = SandboxClock(options.clock_scale)
        self.counters = CallCounters()
        self._event_sink = event_sink
        self.webhooks: Any = None  # the WebhookDispatcher, set by the app
        self._reset_data()

    def _reset_data(self) -> None:
        options = self.options
        self.rng = random.Random(options.seed)
        self.portals: dict[int, Portal] = {}
        self.private_tokens: dict[str, int] = {}
        self.tokens = TokenStore()
        self.app = DeveloperApp(options.app_id, options.client_id, options.client_secret)
        self.add_portal(options.hub_id, options.private_app_token)

    def reset(self) -> None:
        """Forget all data, tokens, subscriptions and counters; keep the options and the clock."""
        self._reset_data()
        self.counters.reset()
        if self.webhooks is not None:
            self.webhooks.reset()

    def set_event_sink(self, sink: EventSink) -> None:
        self._event_sink = sink

    def add_portal(self, hub_id: int | None = None, private_app_token: str | None = None) -> Portal:
        if hub_id is None:
            hub_id = max(self.portals, default=self.options.hub_id) + 1
        if hub_id in self.portals:
            raise ValueError(f"portal {hub_id} already exists")
        token = private_app_token or f"pat-na1-sandbox-{hub_id}"
        if token in self.private_tokens:
            raise ValueError(
                f"private-app token {token!r} already belongs to portal {self.private_tokens[token]}"
            )
        portal = Portal(hub_id, {token})
        portal.emit = lambda event, _portal=portal: self._emit(_portal, event)
        portal.listening = lambda: self.app.settings is not None and bool(self.app.subscriptions)
        self.portals[hub_id] = portal
        self.private_tokens[token] = hub_id
        return portal

    def _emit(self, portal: Portal, event: dict[str, Any]) -> None:
        if self._event_sink is not None:
            self._event_sink(portal, event)

    def visible_at(self, now_ms: int) -> int | None:
        """When a write made now becomes visible to search; None: at once."""
        lag = self.options.index_lag_seconds
        return None if lag <= 0 else now_ms + int(lag * 1000)

    def portal(self, hub_id: int) -> Portal | None:
        return self.portals.get(hub_id)
