"""Watching a site's supply: how long its line currents stayed over the limit, and their peak."""

from __future__ import annotations

import time
from collections.abc import Callable


def watch_supply(line_a: Callable[[], list[float]], limit_a: float, seconds: float,
                 every_s: float) -> tuple[float, float]:
    """The longest stretch (s) any line phase stayed over `limit_a`, and the highest phase current."""
    over_since: float | None = None
    longest = peak = 0.0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        line = line_a()
        peak = max(peak, *line)
        now = time.monotonic()
        if max(line) > limit_a:
            over_since = now if over_since is None else over_since
            longest = max(longest, now - over_since)
        else:
            over_since = None
        time.sleep(every_s)
    return longest, peak
