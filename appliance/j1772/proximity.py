"""Type 2 proximity pilot (IEC 62196-2): cable resistor -> current rating of the cable."""

from __future__ import annotations

import math

VALID_RANGE_OHM = (60.0, 4500.0)

# (low, high, rating A): inclusive low, exclusive high.
CABLE_BANDS: tuple[tuple[float, float, float], ...] = (
    (75.0, 150.0, 63.0),
    (150.0, 330.0, 32.0),
    (330.0, 1000.0, 20.0),
    (1000.0, 2200.0, 13.0),
)


class PPInvalid(ValueError):
    """The PP resistance fits no cable: treat as a fault, never as a rating."""


def cable_rating(ohms: float) -> float | None:
    """Cable current rating in A; None when no cable is plugged in (open PP).

    Raises PPInvalid outside 60 Ohm..4.5 kOhm or between the coded bands.
    """
    if math.isinf(ohms) or ohms > 100_000:
        return None
    lo, hi = VALID_RANGE_OHM
    if not lo <= ohms <= hi:
        raise PPInvalid(f"PP resistance {ohms:.0f} Ohm is outside {lo:.0f}..{hi:.0f} Ohm")
    for band_lo, band_hi, amps in CABLE_BANDS:
        if band_lo <= ohms < band_hi:
            return amps
    raise PPInvalid(f"PP resistance {ohms:.0f} Ohm matches no cable coding")
