"""What `hubspot-pipeline dev` prints of Dagster's output, on lines captured from a real `make dev`."""

from __future__ import annotations

from hubspot_pipeline.dev_console import ConsoleFilter

CAPTURED = """\
\x1b[32m2026-11-29 10:06:22 +0000\x1b[0m - dagster - \x1b[34mWARNING\x1b[0m - Found a dagster instance configuration value (dagster.yaml) in the current folder, but your DAGSTER_HOME environment variable is set to /x/.data/dagster.
/x/.venv/lib/python3.11/site-packages/click/core.py:911: SupersessionWarning: Function `dev_command` is superseded and its usage is discouraged. Use 'dg dev' instead.
  return callback(*args, **kwargs)
\x1b[32m2026-11-29 10:06:33 +0000\x1b[0m - dagster.daemon.SchedulerDaemon - \x1b[34mWARNING\x1b[0m - contacts_sync_schedule has no partition set, so not trying to catch up
\x1b[32m2026-11-29 10:06:34 +0000\x1b[0m - dagster.daemon.SensorDaemon - \x1b[34mINFO\x1b[0m - Checking for new runs for sensor: workspace_partitions_sensor
\x1b[32m2026-11-29 10:06:35 +0000\x1b[0m - dagster.daemon.SensorDaemon - \x1b[34mINFO\x1b[0m - Sensor workspace_partitions_sensor skipped: 3 workspace partitions, all current
\x1b[32m2026-11-29 10:06:37 +0000\x1b[0m - dagster-webserver - \x1b[34mINFO\x1b[0m - Serving dagster-webserver on http://127.0.0.1:3000 in process 5049
2026-11-29 10:06:41 +0000 - dagster - DEBUG - contacts_reconcile_job - f7500289-a05a-4a67-8181-40a9d170fc34 - 5764 - RUN_START - Started execution of run for "contacts_reconcile_job".
2026-11-29 10:06:41 +0000 - dagster - DEBUG - contacts_reconcile_job - f7500289-a05a-4a67-8181-40a9d170fc34 - 5764 - contacts_sync - STEP_START - Started execution of step "contacts_sync".
2026-11-29 10:06:46 +0000 - dagster - DEBUG - contacts_reconcile_job - f7500289-a05a-4a67-8181-40a9d170fc34 - 5764 - RUN_SUCCESS - Finished execution of run for "contacts_reconcile_job".
2026-11-29 10:07:46 +0000 - dagster - ERROR - contacts_sync_job - 0b4a3c1d-6e0f-4a52-9d2b-1c2d3e4f5a6b - 5999 - contacts_sync - STEP_FAILURE - Execution of step "contacts_sync" failed.
dagster._core.errors.DagsterExecutionStepExecutionError: Error occurred while executing op "contacts_sync":
2026-11-29 10:07:47 +0000 - dagster - DEBUG - contacts_sync_job - 0b4a3c1d-6e0f-4a52-9d2b-1c2d3e4f5a6b - 5999 - RUN_FAILURE - Execution of run for "contacts_sync_job" failed.
\x1b[32m2026-11-29 10:07:49 +0000\x1b[0m - dagster.daemon.SensorDaemon - \x1b[34mINFO\x1b[0m - Sensor sync_request_sensor skipped: no sync requests after #3; 0 outcomes recorded
"""


def test_the_console_keeps_what_a_person_acts_on_and_drops_sensor_ticks_and_step_events() -> None:
    shown = list(ConsoleFilter("http://127.0.0.1:3000/").lines(CAPTURED.splitlines()))
    assert shown == [
        "10:06:37 Dagster UI ready: http://127.0.0.1:3000",
        "10:06:46 contacts_reconcile_job run f7500289 succeeded: "
        "http://127.0.0.1:3000/runs/f7500289-a05a-4a67-8181-40a9d170fc34",
        "10:07:46 ERROR contacts_sync_job - 0b4a3c1d-6e0f-4a52-9d2b-1c2d3e4f5a6b - 5999 - contacts_sync - "
        'STEP_FAILURE - Execution of step "contacts_sync" failed.',
        'dagster._core.errors.DagsterExecutionStepExecutionError: Error occurred while executing op "contacts_sync":',
        "10:07:47 contacts_sync_job run 0b4a3c1d FAILED: "
        "http://127.0.0.1:3000/runs/0b4a3c1d-6e0f-4a52-9d2b-1c2d3e4f5a6b",
    ]
