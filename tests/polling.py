"""Waiting in tests for what another process (the sandbox, a killed batch, Dagster's daemon) will do."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


def wait_until(what: str, check: Callable[[], Any], seconds: float, interval: float = 0.25) -> Any:
    """`check()`'s first truthy value, polled until `seconds` have passed (then AssertionError naming `what`)."""
    deadline = time.monotonic() + seconds
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {seconds:.0f} s waiting for {what}")
        time.sleep(interval)
