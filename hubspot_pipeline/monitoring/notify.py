"""Alert notifications through apprise: one message per evaluation for what started firing (and reminders),
one for what resolved, to every URL of ALERT_NOTIFY_URLS (Slack, mailto, json:// webhooks, ...).

The URLs are secrets (webhook tokens, passwords): they are read from settings, handed to apprise and never
logged or stored; the HTTP libraries' loggers stay at WARNING (hubspot_pipeline/logs.py). Messages are built
from the alerts' summaries and details: ids, slugs, counts and rates, no personal data.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

from pydantic import SecretStr

log = logging.getLogger(__name__)
MAX_LINES = 50  # alerts listed in one message; the rest are counted


class Notifier(Protocol):
    def send(self, title: str, body: str) -> bool: ...


class AppriseNotifier:
    """Sends to every configured URL; True when every one of them took the message."""

    def __init__(self, urls: Sequence[str]) -> None:
        self.urls = list(urls)

    def __repr__(self) -> str:
        return f"AppriseNotifier({len(self.urls)} URL(s))"

    def send(self, title: str, body: str) -> bool:
        import apprise

        targets = apprise.Apprise()
        for index, url in enumerate(self.urls):
            if not targets.add(url):
                log.warning(
                    "ALERT_NOTIFY_URLS entry #%d is not a URL apprise knows; it is skipped", index + 1
                )
        if not len(targets):
            return False
        return bool(targets.notify(title=title, body=body, body_format=apprise.NotifyFormat.TEXT))


def notify_urls(value: SecretStr | None) -> list[str]:
    """ALERT_NOTIFY_URLS split on commas and white space."""
    if value is None:
        return []
    return [url for url in re.split(r"[\s,]+", value.get_secret_value()) if url]


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M")


def _line(alert: dict[str, Any]) -> str:
    since = _utc(alert["first_seen_at"]) + " UTC"
    return f"[{alert['severity']}] {alert['rule']}: {alert['summary']} (since {since}; key {alert['key']})"


def _lines(rows: list[dict[str, Any]]) -> list[str]:
    lines = [_line(row) for row in rows[:MAX_LINES]]
    if len(rows) > MAX_LINES:
        lines.append(f"... and {len(rows) - MAX_LINES} more (GET /alerts, or the alerts table)")
    return lines


def firing_message(new: list[dict[str, Any]], reminders: list[dict[str, Any]]) -> tuple[str, str]:
    title = f"hubspot_pipeline: {len(new)} alert(s) firing" + (
        f", {len(reminders)} still firing" if reminders else ""
    )
    parts = []
    if new:
        parts += ["Firing:", *_lines(new)]
    if reminders:
        parts += ["", "Still firing (reminder):", *_lines(reminders)]
    return title, "\n".join(parts).strip()


def resolved_message(resolved: list[dict[str, Any]]) -> tuple[str, str]:
    lines = [
        f"[resolved] {row['rule']}: {row['summary']} (key {row['key']}, fired "
        f"{_utc(row['first_seen_at'])} to {_utc(row['resolved_at'])} UTC)"
        for row in resolved[:MAX_LINES]
    ]
    if len(resolved) > MAX_LINES:
        lines.append(f"... and {len(resolved) - MAX_LINES} more")
    return f"hubspot_pipeline: {len(resolved)} alert(s) resolved", "\n".join(lines)
