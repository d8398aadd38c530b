"""Vehicle states on the control pilot and their voltage bands."""

from __future__ import annotations

from enum import Enum


class VehicleState(str, Enum):
    """What the car shows on the CP positive plateau (IEC 61851-1 Table A.3)."""

    A = "A"  # no EV connected, 12 V
    B = "B"  # connected, not ready, 9 V
    C = "C"  # ready, charging, 6 V
    D = "D"  # ready, charging with ventilation, 3 V
    E = "E"  # CP shorted to PE / EVSE without power, 0 V
    F = "F"  # EVSE error: -12 V on the pilot


class PilotMode(str, Enum):
    """What the EVSE drives on the pilot."""

    X1 = "X1"  # constant +12 V: charging not offered
    X2 = "X2"  # 1 kHz PWM: charging offered
    F = "F"  # constant -12 V: EVSE not available


# Inclusive bands of the positive plateau in volts, in order of rising voltage.
BANDS: tuple[tuple[VehicleState, float, float], ...] = (
    (VehicleState.F, -13.0, -11.0),
    (VehicleState.E, -1.0, 1.0),
    (VehicleState.D, 2.0, 4.0),
    (VehicleState.C, 5.0, 7.0),
    (VehicleState.B, 8.0, 10.0),
    (VehicleState.A, 11.0, 13.0),
)

# The negative plateau while PWM runs: the car's diode blocks, so the EVSE sees its own -12 V.
DIODE_OK_BAND_V = (-13.0, -11.0)

_ORDER = {s: i for i, (s, _, _) in enumerate(BANDS)}


def classify(plateau_v: float) -> VehicleState | None:
    """The state whose band holds `plateau_v`, or None between bands."""
    for state, lo, hi in BANDS:
        if lo <= plateau_v <= hi:
            return state
    return None


def is_rise(old: VehicleState, new: VehicleState) -> bool:
    """True for transitions towards a higher plateau (C->B, C->A, B->A, D->C...)."""
    return _ORDER[new] > _ORDER[old] and new in (VehicleState.A, VehicleState.B, VehicleState.C)


def diode_ok(negative_plateau_v: float) -> bool:
    lo, hi = DIODE_OK_BAND_V
    return lo <= negative_plateau_v <= hi


def wants_power(state: VehicleState) -> bool:
    return state in (VehicleState.C, VehicleState.D)
