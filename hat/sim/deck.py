"""ngspice decks written from the netlist itself, so the simulation is of the circuit as drawn.

Every part with a SPICE template in its `PartSpec` goes into the deck with its real value and
connections; digital and off-board parts stay out (their nets float, held by rshunt). The test
bench adds what is outside the HAT: the PWM on the GPIO pins, the car on each CP, the cable's
PP resistor, the board temperature. Results come back as `.meas` values, nothing is plotted.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from appliance.board import BoardDescription
from hat.design.netlist import Netlist
from hat.sim.expected import CarLoad, detector_outputs
from hat.sim.models import TEMPERATURE_PARAM, model_library

GPIO_HIGH_V = 3.3
CAR_CAPACITANCE_F = 2.4e-9     # EV input capacitance, SAE J1772 maximum
SHORT_OHM = 0.01               # state E: CP shorted to PE
PERIODS = 6                    # simulated PWM periods; the last one is measured
MAX_STEP_S = 0.2e-6
# Blocks outside the analog paths: their behaviour is digital timing (watchdog, contactor
# logic) or needs mains stimulus (meters). They are checked by calculation in the tests;
# leaving them out keeps the deck free of capacitor-only nodes on floating islands.
NOT_SIMULATED = ("meter", "watchdog", "contactor")


@dataclass(frozen=True)
class StationStimulus:
    duty: float                # 0 = constant low (-12 V, F), 1 = constant high (X1)
    load: CarLoad
    pp_ohms: float | None      # None = no cable plugged


@dataclass(frozen=True)
class Case:
    name: str
    stations: tuple[StationStimulus, ...]   # station 1, station 2
    temperature_c: float = 25.0


def node(net: str) -> str:
    """SPICE node name for a net: ground is 0, the rest lower case without punctuation."""
    if net == "GND":
        return "0"
    return re.sub(r"[^a-z0-9_]", "_", net.lower().replace("+", "p").replace("-", "n"))


def _fill(template: str, subst: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: subst[m[1]], template)


def circuit_lines(netlist: Netlist) -> list[str]:
    lines = []
    for ref in sorted(netlist.parts):
        part = netlist.parts[ref]
        if not part.spec.spice or any(word in part.role for word in NOT_SIMULATED):
            continue
        subst = {"ref": ref, "value": part.spice_value}
        subst |= {pin: node(net) if net else f"nc_{ref}_{pin}".lower()
                  for pin, net in part.pins.items()}
        lines.append(f"* {ref} {part.spec.name} {part.value} ({part.role})")
        lines.append(_fill(part.spec.spice, subst))
    return lines


def probes(netlist: Netlist, board: BoardDescription) -> dict[str, str]:
    """Logical probe name -> SPICE node, found through roles and pin names."""
    adc = netlist.one("ADC", "MCP3208")
    found = {f"adc_ch{ch}": node(adc.net(f"CH{ch}")) for ch in range(8)}
    header = netlist.one("Raspberry Pi header")
    for pins in board.gpio.stations:
        n = pins.station
        cable = netlist.one(f"S{n} EV cable")
        detectors = netlist.one(f"S{n} CP peak detectors", "OPA4197")
        found |= {
            f"s{n}_pwm": node(header.net(f"GPIO{pins.pilot_pwm}")),
            f"s{n}_cp": node(cable.net("CP")),
            f"s{n}_pp": node(cable.net("PP")),
            f"s{n}_det_high": node(detectors.net("OUTB")),
            f"s{n}_det_low": node(detectors.net("OUTD")),
        }
    found["rail_p12"] = node(netlist.one("P12 pilot rail", "TPS7A4901").net("OUT"))
    found["rail_n12"] = node(netlist.one("N12 pilot rail", "TPS7A3001").net("OUT"))
    return found


@dataclass(frozen=True)
class Timing:
    """Edges: rise at k*T + T/4, fall at k*T + T/4 + duty*T; the last period is measured."""

    period: float

    @property
    def delay(self) -> float:
        return self.period / 4

    @property
    def start(self) -> float:
        return (PERIODS - 1) * self.period + self.delay

    @property
    def stop(self) -> float:
        return PERIODS * self.period + self.delay


def _stimulus(n: int, s: StationStimulus, p: dict[str, str], t: Timing) -> list[str]:
    pwm, cp = p[f"s{n}_pwm"], p[f"s{n}_cp"]
    if s.duty <= 0 or s.duty >= 1:
        lines = [f"Vpwm{n} {pwm} 0 DC {GPIO_HIGH_V if s.duty >= 1 else 0}"]
    else:
        lines = [f"Vpwm{n} {pwm} 0 PULSE(0 {GPIO_HIGH_V} {t.delay:g} 10n 10n "
                 f"{s.duty * t.period:g} {t.period:g})"]
    ohms = s.load.ohms
    if ohms == 0:
        lines.append(f"Rshort{n} {cp} 0 {SHORT_OHM}")
    else:
        lines.append(f"Ccar{n} {cp} 0 {CAR_CAPACITANCE_F:g}")
    if 0 < ohms < math.inf:
        car = f"car{n}" if s.load.diode else cp
        if s.load.diode:
            lines.append(f"Dcar{n} {cp} {car} DCAR")
        lines.append(f"Rcar{n} {car} 0 {ohms:g}")
    if s.pp_ohms is not None:
        lines.append(f"Rpp{n} {p[f's{n}_pp']} 0 {s.pp_ohms:g}")
    return lines


def _station_meas(n: int, s: StationStimulus, board: BoardDescription, p: dict[str, str],
                  t: Timing) -> list[str]:
    cp, hi, lo = (f"v({p[f's{n}_{x}']})" for x in ("cp", "det_high", "det_low"))
    d, period, t0, t1 = s.duty, t.period, t.start, t.stop
    pwm = 0 < d < 1
    at_high = t0 + d * period / 2 if pwm else t1
    at_low = t0 + d * period + (1 - d) * period / 2 if pwm else t1
    meas = [
        f"meas tran m_s{n}_cp_high FIND {cp} AT={at_high:g}",
        f"meas tran m_s{n}_cp_low FIND {cp} AT={at_low:g}",
    ]
    for det, v in (("high", hi), ("low", lo)):
        meas += [f"meas tran m_s{n}_det_{det}_max MAX {v} FROM={t0:g} TO={t1:g}",
                 f"meas tran m_s{n}_det_{det}_min MIN {v} FROM={t0:g} TO={t1:g}"]
    high, low = detector_outputs(board, s.load, d)
    if pwm and high - low > 1.0:
        v10, v50, v90 = (low + f * (high - low) for f in (0.1, 0.5, 0.9))
        td = t0 - period / 8
        meas += [
            f"meas tran m_s{n}_rise TRIG {cp} VAL={v10:g} RISE=1 TD={td:g} "
            f"TARG {cp} VAL={v90:g} RISE=1 TD={td:g}",
            f"meas tran m_s{n}_high_time TRIG {cp} VAL={v50:g} RISE=1 TD={td:g} "
            f"TARG {cp} VAL={v50:g} FALL=1 TD={t0:g}",
        ]
        for det, v in (("high", hi), ("low", lo)):
            first, second = hold_samples(d, t, det)
            meas += [f"meas tran m_s{n}_det_{det}_hold1 FIND {v} AT={first:g}",
                     f"meas tran m_s{n}_det_{det}_hold2 FIND {v} AT={second:g}"]
    return meas


def hold_samples(duty: float, t: Timing, detector: str) -> tuple[float, float]:
    """Two times inside the measured period while `detector` holds (its plateau is absent):
    the positive detector while CP is low, the negative one while CP is high."""
    fall = t.start + duty * t.period
    begin, end = (fall, t.stop) if detector == "high" else (t.start, fall)
    span = end - begin
    return begin + 0.1 * span, end - 0.05 * span


def deck(netlist: Netlist, board: BoardDescription, case: Case) -> str:
    t = Timing(1.0 / board.pilot.pwm_frequency_hz)
    p = probes(netlist, board)
    bench: list[str] = []
    meas: list[str] = []
    for n, stim in enumerate(case.stations, start=1):
        bench += _stimulus(n, stim, p, t)
        meas += _station_meas(n, stim, board, p, t)
    meas += [f"meas tran m_adc_ch{ch}_max MAX v({p[f'adc_ch{ch}']}) FROM={t.start:g} TO={t.stop:g}"
             for ch in range(8)]
    meas += [f"meas tran m_adc_ch{ch}_min MIN v({p[f'adc_ch{ch}']}) FROM={t.start:g} TO={t.stop:g}"
             for ch in range(8)]
    meas += [f"meas tran m_{rail} FIND v({p[rail]}) AT={t.stop:g}" for rail in ("rail_p12",
                                                                             "rail_n12")]
    return "\n".join([
        f"* EVSE HAT analog simulation, case {case.name} (generated by hat.sim.deck)",
        model_library(),
        f".param {TEMPERATURE_PARAM}={case.temperature_c:g}",
        *circuit_lines(netlist),
        "* --- test bench: outside the HAT ---",
        *bench,
        ".options rshunt=1e12",
        ".control",
        f"tran {MAX_STEP_S:g} {t.stop:g} 0 {MAX_STEP_S:g}",
        *meas,
        ".endc",
        ".end",
        "",
    ])
