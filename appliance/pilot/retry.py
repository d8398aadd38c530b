"""Automatic retries of a latched fault: a wait after each trip, a limited number per plug-in."""

from __future__ import annotations


class RetryBudget:
    """Counts trips for one plug-in; each trip restarts the wait, the last one latches until unplug."""

    def __init__(self, wait_s: float, max_retries: int) -> None:
        self.wait_s = wait_s
        self.max_retries = max_retries
        self.trips = 0
        self.retry_at: float | None = None

    def trip(self, now: float) -> str:
        """Record a trip; the returned note says what happens next."""
        self.trips += 1
        left = self.max_retries - self.trips + 1
        if left > 0:
            self.retry_at = now + self.wait_s
            wait = f"{self.wait_s / 60:.0f} min" if self.wait_s >= 60 else f"{self.wait_s:g} s"
            return f"trip {self.trips} of this plug-in, retry in {wait} ({left} left)"
        self.retry_at = None
        return f"trip {self.trips} of this plug-in: latched until the car is unplugged"

    def due(self, now: float) -> bool:
        return self.retry_at is not None and now >= self.retry_at

    def retried(self) -> None:
        self.retry_at = None

    def reset(self) -> None:
        """A new plug-in: the count starts again."""
        self.trips = 0
        self.retry_at = None
