"""Where the demo's Dagster runs log: a file in the data folder, and the console too with `--verbose`. The
console is for the demo's summary; the ~250 lines of step events a run logs are there when wanted."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import dagster as dg

FORMAT = "%(asctime)s - %(levelname)s - %(message)s"


def _file_logger(path: Path) -> dg.LoggerDefinition:
    handler = logging.FileHandler(path, encoding="utf-8")  # one for all the demo's runs
    handler.setFormatter(logging.Formatter(FORMAT))

    @dg.logger(description="Dagster's run log, appended to a file.")
    def to_file(init_context: dg.InitLoggerContext) -> logging.Logger:
        logger = logging.Logger(f"hubspot_pipeline.demo.run_log.{init_context.run_id}", level=logging.DEBUG)
        logger.addHandler(handler)
        return logger

    return to_file


def demo_loggers(path: Path, verbose: bool) -> tuple[dict[str, dg.LoggerDefinition], dict[str, Any]]:
    """The logger definitions for the demo's jobs, and the run config that turns them on."""
    loggers = {"file": _file_logger(path), "console": dg.colored_console_logger}
    config: dict[str, Any] = {"file": {}}
    if verbose:
        config["console"] = {"config": {"log_level": "DEBUG"}}
    return loggers, config
