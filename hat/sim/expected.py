"""What the software's own models predict for the car states the simulation sets up.

Plateaus come from `appliance.simulator.pilot_line` (the simulated HAT's pilot physics) with
the board description's pilot values; converting them to ADC volts is left to
`appliance.board.Scaling`. Nothing here re-derives either.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from appliance.board import BoardDescription
from appliance.simulator.pilot_line import R_STATE_B, R_STATE_C, R_STATE_D, cp_plateau
from appliance.simulator.pilot_line import CarLoad as LineLoad

# Car-side resistance per state: A nothing, E CP shorted to PE.
CAR_OHMS = {"A": math.inf, "B": R_STATE_B, "C": R_STATE_C, "D": R_STATE_D, "E": 0.0}


@dataclass(frozen=True)
class CarLoad:
    """A car state A-E, with or without the car's diode."""

    state: str
    diode: bool = True

    @property
    def ohms(self) -> float:
        return CAR_OHMS[self.state]

    def line_load(self) -> LineLoad:
        return LineLoad(self.ohms, self.diode)


def plateau_high(board: BoardDescription, load: CarLoad) -> float:
    return cp_plateau(board.pilot.rail_v, load.line_load(), board.pilot)


def plateau_low(board: BoardDescription, load: CarLoad) -> float:
    return cp_plateau(-board.pilot.rail_v, load.line_load(), board.pilot)


def detector_outputs(board: BoardDescription, load: CarLoad, duty: float) -> tuple[float, float]:
    """(CP-high, CP-low) detector peaks in steady state.

    duty 1 = constant +12 V (X1), duty 0 = constant -12 V (F). A detector whose plateau never
    comes decays to 0 V through its bleed resistor.
    """
    high = plateau_high(board, load) if duty > 0 else 0.0
    low = plateau_low(board, load) if duty < 1 else 0.0
    return high, low
