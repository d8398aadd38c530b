"""Control pilot generation and sensing, and the proximity pilot, per station.

Driver: the GPIO PWM (0/3.3 V) goes into an op-amp used as a comparator against 1.65 V, whose
rail-to-rail output swings between the regulated +/-12 V rails, then through the 1 kOhm 1 %
source resistor (IEC 61851-1) and a bidirectional TVS to the cable. While the Pi boots the
GPIO floats, the pull-down holds the input low and the pilot shows -12 V (state F).

Sensing: two precision peak detectors per CP (positive and negative plateau). Each is an
op-amp charging the hold capacitor through a low-leakage diode, a unity-gain buffer, and a
feedback resistor from the buffer back to the first op-amp, so the diode drop is inside the
loop. The capacitor from the op-amp output to its inverting input (in-loop compensation) keeps
the loop stable while it drives 100 nF, and a second diode stops the op-amp from saturating
between plateaus. The hold capacitor decays to 0 V through the bleed resistor (board.toml).
The buffered output goes through the level-shift network of the board description and a
unity-gain buffer (hat.design.adc.adc_buffers) into the ADC.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from appliance.board import BoardDescription
from appliance.board.description import LevelShift, PeakDetector, StationPins
from hat.design.adc import adc_input
from hat.design.builder import Builder
from hat.design.parts import (
    EV_CONNECTOR,
    LOW_LEAKAGE_DIODE,
    OPA2197,
    OPA4197,
    SIGNAL_DIODE,
    TVS_15V,
)
from hat.design.pi import gpio
from hat.design.power import Rails

SENSE_OHM = 10e3             # CP into the detector inputs: limits fault current
# Loop values found by simulation (hat/sim): recharge within a 40 us plateau (96 % duty)
# with < 50 mV overshoot.
CHARGE_OHM = 10.0            # diode to hold capacitor
FEEDBACK_OHM = 10e3          # buffer output to detector inverting input
COMPENSATION_F = 1e-9        # detector output to inverting input
PP_SERIES_OHM = 1e3          # PP node to ADC pin (no DC current: no error)
PWM_SERIES_OHM = 1e3
PWM_PULLDOWN_OHM = 100e3
LEVEL_SHIFT_EMI_F = 100e-12  # at the network node; 1.3 us with its 13 kOhm


@dataclass(frozen=True)
class StationPilot:
    """What the shared blocks need from a station: driver in/out, level-shifted CP nodes."""

    pwm: Any
    drive: Any
    level_shifted: dict[str, Any]   # ADC channel-map key -> node


def _peak_detector(b: Builder, rails: Rails, pd: PeakDetector, station: int, kind: str,
                   sense: Any, det: str, buf: str) -> tuple[dict[str, Any], Any]:
    """One detector on op-amp units `det` (detector) and `buf` (buffer).

    Returns the op-amp pin connections and the buffered output net.
    """
    positive = kind == "high"
    role = f"S{station} CP-{kind} peak detector"
    prefix = f"S{station}_{kind.upper()}"
    out = b.net(f"S{station}_CP_{kind.upper()}")
    fb, oa, nd, hold = (b.net(f"{prefix}_{x}") for x in ("FB", "OA", "ND", "HOLD"))
    charge = {"A": oa, "K": nd} if positive else {"A": nd, "K": oa}
    b.add(LOW_LEAKAGE_DIODE, role, charge)
    b.r(CHARGE_OHM, nd, hold, role)
    b.c(pd.hold_capacitor_f, hold, rails.gnd, role, "C0G", "1206")
    b.r(pd.bleed_resistor_ohm, hold, rails.gnd, role)
    b.r(FEEDBACK_OHM, out, fb, role)
    b.c(COMPENSATION_F, oa, fb, role, "C0G")
    clamp = {"A": fb, "K": oa} if positive else {"A": oa, "K": fb}
    b.add(SIGNAL_DIODE, role, clamp)
    conn = {f"IN{det}_P": sense, f"IN{det}_N": fb, f"OUT{det}": oa,
            f"IN{buf}_P": hold, f"IN{buf}_N": out, f"OUT{buf}": out}
    return conn, out


def _level_shift(b: Builder, rails: Rails, ls: LevelShift, source: Any, signal: str,
                 vref: Any) -> Any:
    """Rin from the detector, Rbias from the reference, Rgnd to ground (board.toml)."""
    node = b.net(f"LS_{signal.upper()}")
    role = f"level shift {signal}"
    b.r(ls.input_ohm, source, node, role)
    b.r(ls.bias_ohm, vref, node, role)
    b.r(ls.ground_ohm, node, rails.gnd, role)
    b.c(LEVEL_SHIFT_EMI_F, node, rails.gnd, role, "C0G")
    return node


def _proximity(b: Builder, rails: Rails, board: BoardDescription, station: int,
               vref: Any) -> Any:
    if board.proximity.pullup_to != "vref":
        raise ValueError("the PP pull-up is wired to the ADC reference (ratiometric)")
    role = f"S{station} proximity pilot"
    pp = b.net(f"S{station}_PP")
    b.r(board.proximity.pullup_ohm, vref, pp, role)
    b.r(PP_SERIES_OHM, pp, adc_input(b, rails, f"pp_{station}"), role)
    return pp


def station_pilot(b: Builder, rails: Rails, board: BoardDescription, pins: StationPins,
                  vref: Any) -> StationPilot:
    """Everything of one station's CP and PP except the shared driver and ADC buffer."""
    n = pins.station
    role = f"S{n} pilot"
    pwm, drv, cp, sense = (b.net(f"S{n}_{x}") for x in ("PWM", "PILOT_DRV", "CP", "CP_SENSE"))
    b.r(PWM_SERIES_OHM, gpio(b, pins.pilot_pwm), pwm, role)
    b.r(PWM_PULLDOWN_OHM, pwm, rails.gnd, role)
    b.r(board.pilot.source_resistance_ohm, drv, cp, role, size="2512")
    b.add(TVS_15V, role, {"A1": cp, "A2": rails.gnd})
    b.r(SENSE_OHM, cp, sense, role)

    pd = board.pilot.peak_detector
    high_conn, high = _peak_detector(b, rails, pd, n, "high", sense, "A", "B")
    low_conn, low = _peak_detector(b, rails, pd, n, "low", sense, "C", "D")
    detectors = f"S{n} CP peak detectors"
    b.add(OPA4197, detectors, {**high_conn, **low_conn, "VPOS": rails.p15v,
                               "VNEG": rails.n15v})
    b.decouple(rails.p15v, rails.gnd, detectors)
    b.decouple(rails.n15v, rails.gnd, detectors)
    shifted = {signal: _level_shift(b, rails, board.pilot.level_shift, source, signal, vref)
               for source, signal in ((high, f"cp_high_{n}"), (low, f"cp_low_{n}"))}

    pp = _proximity(b, rails, board, n, vref)
    b.add(EV_CONNECTOR, f"S{n} EV cable", {"CP": cp, "PP": pp, "PE": rails.gnd})
    for net in (cp, high, low):
        b.tp(net, f"S{n} pilot test point")
    return StationPilot(pwm, drv, shifted)


def pilot_drivers(b: Builder, rails: Rails, stations: list[StationPilot]) -> None:
    """One dual op-amp drives both pilots (unit A station 1, unit B station 2)."""
    role = "pilot drivers"
    threshold = b.net("PWM_THRESHOLD")
    b.r(10e3, rails.p3v3, threshold, role)
    b.r(10e3, threshold, rails.gnd, role)
    b.decouple(threshold, rails.gnd, role)
    conn: dict[str, Any] = {"VPOS": rails.p12v, "VNEG": rails.n12v}
    for unit, station in zip("AB", stations, strict=True):
        conn.update({f"IN{unit}_P": station.pwm, f"IN{unit}_N": threshold,
                     f"OUT{unit}": station.drive})
    b.add(OPA2197, role, conn)
    b.decouple(rails.p12v, rails.gnd, role)
    b.decouple(rails.n12v, rails.gnd, role)
