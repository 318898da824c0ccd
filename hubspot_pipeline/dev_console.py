"""What `hubspot-pipeline dev` shows of Dagster's output: what a person acts on. Everything goes to a log file
in the data folder; the console gets warnings and errors (with the lines that follow them, up to a limit),
where the UI listens, and one line per finished run with its link. Sensor ticks ("skipped: no webhook
events after id 2600", about 35 lines a minute) and a run's step-by-step DEBUG events stay in the file."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
# "2026-11-29 10:06:41 +0000 - dagster.daemon.SensorDaemon - INFO - message"
_LINE = re.compile(r"^\d{4}-\d\d-\d\d (\d\d:\d\d:\d\d) [+-]\d{4} - (\S+) - ([A-Z]+) - (.*)$")
_RUN_END = re.compile(r"^(\S+) - ([0-9a-f-]{36}) - \d+ - (RUN_SUCCESS|RUN_FAILURE|RUN_CANCELED) - ")
SHOWN_LEVELS = {"WARNING", "ERROR", "CRITICAL"}
FOLLOWING_LINES = 12  # of a traceback under a shown error; the rest is in the log file
# Warnings that ask nothing of the person running `dev`.
EXPECTED = (
    # dev copies dagster.yaml into DAGSTER_HOME and runs Dagster from the project folder, where it also is.
    "Found a dagster instance configuration value (dagster.yaml) in the current folder",
    # The schedules ask for each workspace themselves; ticks missed while `dev` was stopped need nothing.
    "has no partition set, so not trying to catch up",
)
OUTCOMES = {"RUN_SUCCESS": "succeeded", "RUN_FAILURE": "FAILED", "RUN_CANCELED": "was canceled"}


class ConsoleFilter:
    def __init__(self, ui_url: str) -> None:
        self.ui_url = ui_url.rstrip("/")
        self.following = 0  # lines still shown under the last shown one

    def shown(self, raw: str) -> str | None:
        """The console's version of one line of Dagster's output, or None to keep it for the file only."""
        line = _ANSI.sub("", raw.rstrip("\n"))
        match = _LINE.match(line)
        if match is None:  # a continuation: a traceback, a warning's source line, a Python warning
            if self.following > 0:
                self.following -= 1
                return line
            return None
        time, _source, level, message = match.groups()
        self.following = 0
        run_end = _RUN_END.match(message)
        if run_end:
            job, run_id, event = run_end.groups()
            return f"{time} {job} run {run_id[:8]} {OUTCOMES[event]}: {self.ui_url}/runs/{run_id}"
        if "Serving dagster-webserver on" in message:
            return f"{time} Dagster UI ready: {self.ui_url}"
        if level in SHOWN_LEVELS and not any(text in message for text in EXPECTED):
            self.following = FOLLOWING_LINES
            return f"{time} {level} {message}"
        return None

    def lines(self, raw_lines: Iterable[str]) -> Iterator[str]:
        for raw in raw_lines:
            shown = self.shown(raw)
            if shown is not None:
                yield shown
