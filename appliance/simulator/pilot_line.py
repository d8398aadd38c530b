"""Physics of the control pilot: generator, 1 kOhm source, the car's resistors and diode."""

from __future__ import annotations

import math
from dataclasses import dataclass

from appliance.board.description import Pilot

# Car-side resistances (SAE J1772 / IEC 61851-1 Annex A)
R_STATE_B = 2740.0
R_STATE_C = 882.0  # 2.74 k || 1.3 k
R_STATE_D = 246.0  # 2.74 k || 270


@dataclass(frozen=True)
class CarLoad:
    """What hangs on the CP line: nothing (inf), a resistor with or without diode, or a short."""

    ohms: float = math.inf
    diode: bool = True


def cp_plateau(generator_v: float, load: CarLoad, pilot: Pilot) -> float:
    """CP voltage when the generator drives `generator_v` into `load`."""
    if math.isinf(load.ohms):
        return generator_v
    if load.ohms <= 0:
        return 0.0
    rs = pilot.source_resistance_ohm
    if load.diode:
        vd = pilot.car_diode_drop_v
        if generator_v <= vd:
            return generator_v  # diode blocks: no current, the EVSE sees its own level
        return (generator_v * load.ohms + vd * rs) / (load.ohms + rs)
    return generator_v * load.ohms / (load.ohms + rs)
