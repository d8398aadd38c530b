"""An ideal precision peak detector with a bleed resistor, solved in closed form.

The hold capacitor charges at once to any input beyond it and otherwise decays to 0 V
with tau = R_bleed * C_hold. For a bleed to 0 V the exact solution is
c(t) = max(c0 * e^-(t-t0)/tau, max over s of x(s) * e^-(t-s)/tau), so for a square wave
only the last moment each level was touched matters. No time stepping: exact at any t.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Waveform:
    """A constant level (duty 1.0) or a square wave `high` for duty*period, then `low`."""

    high: float
    low: float
    duty: float  # 0..1
    period_s: float
    origin: float  # time the square wave started

    @staticmethod
    def constant(level: float, origin: float) -> Waveform:
        return Waveform(level, level, 1.0, 1.0, origin)

    def last_touch(self, t: float, level_is_high: bool) -> float | None:
        """Latest time <= t at which the high (or low) level was on the line."""
        if self.duty >= 1.0:
            return t if level_is_high else None
        if self.duty <= 0.0:
            return None if level_is_high else t
        phase = (t - self.origin) % self.period_s
        split = self.duty * self.period_s
        if level_is_high:
            last = t if phase < split else t - (phase - split)
        else:
            last = t if phase >= split else t - phase
        return last if last >= self.origin else None


class PeakDetector:
    def __init__(self, tau_s: float, positive: bool) -> None:
        self.tau = tau_s
        self.sign = 1.0 if positive else -1.0
        self._c0 = 0.0
        self._t0 = 0.0
        self._wave = Waveform.constant(0.0, 0.0)

    def set_input(self, t: float, wave: Waveform) -> None:
        self._c0 = self.value(t)
        self._t0 = t
        self._wave = wave

    def value(self, t: float) -> float:
        s, w = self.sign, self._wave
        best = s * self._c0 * math.exp(-(t - self._t0) / self.tau)
        for level, is_high in ((w.high, True), (w.low, False)):
            m = s * level
            if m <= 0:
                continue
            touch = w.last_touch(t, is_high)
            if touch is not None and touch >= self._t0:
                best = max(best, m * math.exp(-(t - touch) / self.tau))
        return s * best
