"""How long a condition has held: in consecutive readings, or in seconds.

The pilot acts on conditions that persist, never on one reading; these two counters are
what every part of the station uses to say so.
"""

from __future__ import annotations


class Consecutive:
    """Counts how many readings in a row a condition held."""

    def __init__(self) -> None:
        self.count = 0

    def update(self, holds: bool) -> int:
        self.count = self.count + 1 if holds else 0
        return self.count


class Since:
    """When a condition started to hold, while it holds."""

    def __init__(self) -> None:
        self.start: float | None = None

    def held(self, now: float, holds: bool) -> float:
        """Seconds the condition has held up to `now` (0 when it does not)."""
        if not holds:
            self.start = None
            return 0.0
        if self.start is None:
            self.start = now
        return now - self.start
