"""What the board description predicts for the pilot plateaus, per car state.

The conversion of these plateaus into ADC volts is not repeated here: callers use
`appliance.board.Scaling`, the same code the pilot process runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from math import exp

from appliance.board import BoardDescription

# Car-side resistance per state (SPEC §3 seed table, IEC 61851-1 Annex A).
CAR_OHMS = {"B": 2740.0, "C": 882.0, "D": 246.0}


@dataclass(frozen=True)
class CarLoad:
    """What hangs on the CP: state A (nothing), B/C/D (resistor, with or without the car's
    diode), E (CP shorted to PE)."""

    state: str
    diode: bool = True


def plateau_high(board: BoardDescription, load: CarLoad) -> float:
    """Positive plateau: the +rail_v source through the 1 kOhm into the car."""
    p = board.pilot
    if load.state == "A":
        return p.rail_v
    if load.state == "E":
        return 0.0
    r = CAR_OHMS[load.state]
    vd = p.car_diode_drop_v if load.diode else 0.0
    return vd + (p.rail_v - vd) * r / (r + p.source_resistance_ohm)


def plateau_low(board: BoardDescription, load: CarLoad) -> float:
    """Negative plateau: the car's diode blocks; without it the resistor loads -rail_v too."""
    p = board.pilot
    if load.state == "E":
        return 0.0
    if load.state == "A" or load.diode:
        return -p.rail_v
    r = CAR_OHMS[load.state]
    return -p.rail_v * r / (r + p.source_resistance_ohm)


def detector_outputs(board: BoardDescription, load: CarLoad, duty: float) -> tuple[float, float]:
    """(CP-high, CP-low) detector outputs at their peak, in steady state.

    duty 1 = constant +12 V (X1), duty 0 = constant -12 V (F). A detector whose plateau never
    comes decays to 0 V through its bleed resistor.
    """
    high = plateau_high(board, load) if duty > 0 else 0.0
    low = plateau_low(board, load) if duty < 1 else 0.0
    return high, low


def hold_droop(board: BoardDescription, hold_s: float) -> float:
    """Fraction a detector output loses while it holds for `hold_s` (tau = R_bleed * C_hold)."""
    return 1.0 - exp(-hold_s / board.pilot.peak_detector.tau_s)
