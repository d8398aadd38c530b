"""Simulated time that runs at any speed in the simulator (the real one is `appliance.clock`)."""

from __future__ import annotations

import time


class SimClock:
    """Simulated time.

    speed 0: stepped, as fast as possible; time moves only by `advance_to`, so a run is
    deterministic. speed > 0: paced, `now()` follows the wall clock scaled by `speed`
    (1 = real time), so the loop's real scheduling jitter shows in the results.
    """

    def __init__(self, speed: float = 0.0, start: float = 0.0) -> None:
        if speed < 0:
            raise ValueError("speed must be >= 0")
        self.speed = speed
        self._t = start
        self._wall_origin = time.monotonic()
        self._sim_origin = start

    @property
    def paced(self) -> bool:
        return self.speed > 0

    def now(self) -> float:
        if self.paced:
            return self._sim_origin + (time.monotonic() - self._wall_origin) * self.speed
        return self._t

    def advance_to(self, t: float) -> None:
        """Stepped: move time to `t`. Paced: sleep until `t` has come (no-op if it has)."""
        if self.paced:
            delay = (t - self.now()) / self.speed
            if delay > 0:
                time.sleep(delay)
            return
        if t < self._t:
            raise ValueError("simulated time never runs backwards")
        self._t = t
