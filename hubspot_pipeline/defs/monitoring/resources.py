"""`monitoring`: where the alert sensors find the database, their thresholds (the ALERT_* settings, read when
the code location loads) and the notification URLs. The URLs are secrets: they are read from settings.py when
a notification is sent, never part of this resource's config, so the UI and Dagster's storage never hold them."""

from __future__ import annotations

from typing import Self

import dagster as dg
import sqlalchemy as sa
from pydantic import Field

from hubspot_pipeline.monitoring.notify import AppriseNotifier, notify_urls
from hubspot_pipeline.monitoring.rules import Thresholds
from hubspot_pipeline.settings import Settings, get_settings


class MonitoringResource(dg.ConfigurableResource):
    """The alert rules' thresholds (ALERT_* settings) and the database. Notifications go to ALERT_NOTIFY_URLS,
    read from the environment when they are sent; with none set, alerts are recorded and shown, not sent."""

    error_rate: float = Field(
        0.10, description="ALERT_ERROR_RATE: share of failed calls or records that alerts."
    )
    error_window_minutes: float = Field(
        15, description="ALERT_ERROR_WINDOW_MINUTES: the window of rates and counts."
    )
    error_min_calls: int = Field(20, description="ALERT_ERROR_MIN_CALLS: fewer calls or records never alert.")
    queue_delay_minutes: float = Field(
        10, description="ALERT_QUEUE_DELAY_MINUTES: oldest waiting event or change."
    )
    cursor_lag_minutes: float = Field(60, description="ALERT_CURSOR_LAG_MINUTES: HubSpot read position age.")
    sync_missed_minutes: float = Field(
        60, description="ALERT_SYNC_MISSED_MINUTES: no run of a workspace since."
    )
    daily_budget_ratio: float = Field(
        0.8, description="ALERT_DAILY_BUDGET_RATIO: share of a portal's daily calls."
    )
    rate_limited_count: int = Field(20, description="ALERT_RATE_LIMITED_COUNT: 429s in the window.")
    renotify_minutes: float = Field(
        240, description="ALERT_RENOTIFY_MINUTES: reminder of a still-firing alert."
    )
    max_notifications: int = Field(
        3, description="ALERT_MAX_NOTIFICATIONS: messages per alert, reminders included."
    )
    database_url: str | None = Field(
        None, description="Override of DATABASE_URL (tests); unset: settings.py's, never shown here."
    )

    @classmethod
    def from_settings(cls, settings: Settings) -> Self:
        thresholds = Thresholds.from_settings(settings)
        return cls(**{name: getattr(thresholds, name) for name in Thresholds.__dataclass_fields__})

    def engine(self) -> sa.Engine:
        from hubspot_pipeline.db.connection import get_engine

        return get_engine(self.database_url)

    def thresholds(self) -> Thresholds:
        return Thresholds(**{name: getattr(self, name) for name in Thresholds.__dataclass_fields__})

    def notifier(self) -> AppriseNotifier | None:
        urls = notify_urls(get_settings().alert_notify_urls)
        return AppriseNotifier(urls) if urls else None


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(resources={"monitoring": MonitoringResource.from_settings(get_settings())})
