"""The sandbox's clock. Token expiry, rate-limit windows, index lag and webhook retries all read it, so a
test can jump forward (`advance`) or run time faster (`scale`) instead of waiting."""

from __future__ import annotations

import time


class SandboxClock:
    def __init__(self, scale: float = 1.0) -> None:
        self._base_real = time.monotonic()
        self._base_ms = time.time() * 1000
        self._scale = scale
        self._offset_ms = 0.0

    @property
    def scale(self) -> float:
        """Sandbox seconds per real second."""
        return self._scale

    def set_scale(self, scale: float) -> None:
        if scale <= 0:
            raise ValueError("clock scale must be positive")
        # Rebase so that changing the speed never moves the current time.
        self._base_ms = self._now_float()
        self._base_real = time.monotonic()
        self._scale = scale

    def _now_float(self) -> float:
        return self._base_ms + (time.monotonic() - self._base_real) * 1000 * self._scale + self._offset_ms

    def now_ms(self) -> int:
        return int(self._now_float())

    def advance(self, seconds: float) -> int:
        if seconds < 0:
            raise ValueError("the sandbox clock only moves forward")
        self._offset_ms += seconds * 1000
        return self.now_ms()

    def real_seconds(self, sandbox_seconds: float) -> float:
        """How long a sandbox duration lasts in real time at the current scale."""
        return sandbox_seconds / self._scale
