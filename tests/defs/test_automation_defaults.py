"""Every sensor and schedule of both code locations starts running on a fresh instance: an operator who
deploys the project should not have to find a toggle in the Automation page before scores, syncs or alerts
happen (round 2 saw `engagement_daily_schedule` off in `make dev`, so no score was ever built)."""

from __future__ import annotations

import dagster as dg


def _automations(definitions: dg.Definitions) -> list[tuple[str, object]]:
    repository = definitions.get_repository_def()
    return [(s.name, s.default_status) for s in repository.sensor_defs] + [
        (s.name, s.default_status) for s in repository.schedule_defs
    ]


def test_every_sensor_and_schedule_of_both_locations_defaults_to_running() -> None:
    from hubspot_pipeline.definitions import defs as main_defs
    from hubspot_pipeline.engagement_location.definitions import defs as engagement_defs

    automations = _automations(main_defs()) + _automations(engagement_defs())
    stopped = [name for name, status in automations if status.value != "RUNNING"]
    assert len(automations) >= 13
    assert stopped == []
