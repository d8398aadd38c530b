"""Clocks: real monotonic time on the Pi, simulated time that runs at any speed in the simulator."""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    def now(self) -> float:
        """Seconds since an arbitrary origin."""


class MonotonicClock:
    """Wall-clock monotonic time, for the real HAT."""

    def __init__(self) -> None:
        self._origin = time.monotonic()

    def now(self) -> float:
        return time.monotonic() - self._origin


class SimClock:
    """Simulated time, advanced explicitly. `speed` paces it against the wall clock.

    speed 0 runs as fast as possible; speed 1 is real time; speed 10 runs ten times faster.
    """

    def __init__(self, speed: float = 0.0, start: float = 0.0) -> None:
        if speed < 0:
            raise ValueError("speed must be >= 0")
        self.speed = speed
        self._t = start
        self._wall_origin = time.monotonic()
        self._sim_origin = start

    def now(self) -> float:
        return self._t

    def advance_to(self, t: float) -> None:
        """Move simulated time to `t`, sleeping first when pacing against the wall clock."""
        if t < self._t:
            raise ValueError("simulated time never runs backwards")
        if self.speed > 0:
            due = self._wall_origin + (t - self._sim_origin) / self.speed
            delay = due - time.monotonic()
            if delay > 0:
                time.sleep(delay)
        self._t = t
