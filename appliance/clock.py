"""Clocks: the time source the pilot runs on, whatever drives it (the real HAT or the simulator)."""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float:
        """Seconds since an arbitrary origin."""
        ...


class MonotonicClock:
    """Wall-clock monotonic time, for the real HAT."""

    def __init__(self) -> None:
        self._origin = time.monotonic()

    def now(self) -> float:
        return time.monotonic() - self._origin
