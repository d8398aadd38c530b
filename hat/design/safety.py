"""The hardware safety chain: watchdog, RCD interlock, contactor drivers.

contactor coil = software request AND watchdog alive AND NOT (RCD fault DC OR RCD fault AC)

All in 74HCT logic between the GPIOs and the relay driver: if the pilot process dies (no
kick edges for the watchdog period) or an RDC-DD module reports a fault, the relay drops with
no software in the path. Every input fails safe: a floating request GPIO is pulled down, a
missing or unpowered RDC-DD module reads as a fault (pull-ups on its open-collector outputs),
and the watchdog output is low from power-up until the first kick.

Each contactor's auxiliary (mirror) contact comes back on a GPIO so the software sees what the
main contacts really do; a broken aux wire reads "open", never a false "closed".
"""

from __future__ import annotations

from typing import Any

from appliance.board import BoardDescription
from appliance.board.description import StationPins
from hat.design.builder import NC, Builder
from hat.design.parts import (
    CONTACTOR_AUX_CONNECTOR,
    CONTACTOR_CONNECTOR,
    HCT02,
    HCT11,
    HCT123,
    HCT123_K,
    LED_GREEN,
    N_MOSFET,
    RCD_CONNECTOR,
    RELAY,
    SIGNAL_DIODE,
)
from hat.design.passives import e96
from hat.design.pi import gpio
from hat.design.power import Rails

WATCHDOG_C_F = 470e-9
GPIO_SERIES_OHM = 1e3
PULL_OHM = 100e3
FAULT_PULLUP_OHM = 10e3
AUX_WETTING_OHM = 1e3      # 3.3 mA through the aux contact keeps a dry contact clean
AUX_SERIES_OHM = 10e3      # with AUX_FILTER_F: 1 ms low-pass against coil switching spikes
AUX_FILTER_F = 100e-9


def watchdog_resistor(timeout_s: float) -> float:
    """Timing resistor (E96) for the 74HCT123 with the design's capacitor."""
    return e96(timeout_s / (HCT123_K * WATCHDOG_C_F))


def watchdog(b: Builder, rails: Rails, board: BoardDescription) -> Any:
    """Retriggerable monostable: every rising edge on the kick GPIO restarts the period."""
    role = "hardware watchdog"
    kick, ok, rc, cext, clr = (b.net(n) for n in
                               ("WDOG_KICK", "WDOG_OK", "WDOG_RC", "WDOG_CEXT", "WDOG_CLR"))
    b.r(GPIO_SERIES_OHM, gpio(b, board.gpio.watchdog_kick), kick, role)
    b.r(PULL_OHM, kick, rails.gnd, role)
    b.r(watchdog_resistor(board.watchdog.timeout_ms / 1000), rc, rails.p5v, role)
    b.c(WATCHDOG_C_F, cext, rc, role, "X7R", "1206")
    b.r(10e3, clr, rails.p5v, role)
    b.add(HCT123, role, {
        "A1N": rails.gnd, "B1": kick, "CLR1N": clr, "Q1": ok, "Q1N": NC,
        "CEXT1": cext, "RCEXT1": rc,
        "A2N": rails.p5v, "B2": rails.gnd, "CLR2N": rails.gnd, "Q2": NC, "Q2N": NC,
        "CEXT2": NC, "RCEXT2": NC,
        "VCC": rails.p5v, "GND": rails.gnd,
    })
    b.decouple(rails.p5v, rails.gnd, role)
    led = b.net("WDOG_LED_A")
    b.r(1.5e3, ok, led, "watchdog LED")
    b.add(LED_GREEN, "watchdog LED", {"A": led, "K": rails.gnd})
    for net in (ok, clr):
        b.tp(net, "watchdog test point")
    return ok


def _rcd_module(b: Builder, rails: Rails, pins: StationPins) -> tuple[Any, Any]:
    """RDC-DD connector: fault lines with fail-safe pull-ups, test line held low at boot."""
    n = pins.station
    role = f"S{n} RDC-DD"
    dc, ac, test = (b.net(f"S{n}_RCD_{x}") for x in ("FAULT_DC", "FAULT_AC", "TEST"))
    b.add(RCD_CONNECTOR, role, {"VCC": rails.p5v, "GND": rails.gnd, "FAULT_DC": dc,
                                "FAULT_AC": ac, "TEST": test})
    for line, bcm in ((dc, pins.rcd_fault_dc), (ac, pins.rcd_fault_ac)):
        b.r(FAULT_PULLUP_OHM, line, rails.p3v3, role)
        b.r(GPIO_SERIES_OHM, line, gpio(b, bcm), role)
    b.r(GPIO_SERIES_OHM, gpio(b, pins.rcd_test), test, role)
    b.r(PULL_OHM, test, rails.gnd, role)
    return dc, ac


def _contactor_aux(b: Builder, rails: Rails, pins: StationPins) -> None:
    """Aux contact to GND, pulled up at the terminal, filtered into its GPIO: low = closed."""
    n = pins.station
    role = f"S{n} contactor aux"
    line, sense = b.net(f"S{n}_CONTACTOR_AUX"), gpio(b, pins.contactor_aux)
    b.add(CONTACTOR_AUX_CONNECTOR, role, {"AUX": line, "GND": rails.gnd})
    b.r(AUX_WETTING_OHM, line, rails.p3v3, role)
    b.r(AUX_SERIES_OHM, line, sense, role)
    b.c(AUX_FILTER_F, sense, rails.gnd, role)


def _contactor_driver(b: Builder, rails: Rails, station: int, drive: Any) -> None:
    """Gate driver, relay with flyback diode, terminal block for the contactor coil circuit."""
    role = f"S{station} contactor driver"
    gate, coil, com, no = (b.net(f"S{station}_{x}") for x in
                           ("RELAY_GATE", "RELAY_COIL", "CONTACTOR_COM", "CONTACTOR_NO"))
    b.r(100.0, drive, gate, role)
    b.r(PULL_OHM, gate, rails.gnd, role)
    b.add(N_MOSFET, role, {"G": gate, "S": rails.gnd, "D": coil})
    b.add(SIGNAL_DIODE, role, {"A": coil, "K": rails.p5v})
    b.add(RELAY, role, {"COIL1": rails.p5v, "COIL2": coil, "COM": com, "NO": no})
    b.add(CONTACTOR_CONNECTOR, f"S{station} contactor", {"COM": com, "NO": no})
    b.tp(drive, f"S{station} contactor test point")


def safety_chain(b: Builder, rails: Rails, board: BoardDescription) -> None:
    wdog_ok = watchdog(b, rails, board)
    nor_conn: dict[str, Any] = {"VCC": rails.p5v, "GND": rails.gnd}
    and_conn: dict[str, Any] = {"VCC": rails.p5v, "GND": rails.gnd}
    for gate, pins in enumerate(board.gpio.stations, start=1):
        n = pins.station
        dc, ac = _rcd_module(b, rails, pins)
        rcd_ok, request, drive = (b.net(f"S{n}_{x}") for x in
                                  ("RCD_OK", "CONTACTOR_REQ", "CONTACTOR_DRIVE"))
        nor_conn.update({f"A{gate}": dc, f"B{gate}": ac, f"Y{gate}": rcd_ok})
        b.r(GPIO_SERIES_OHM, gpio(b, pins.contactor), request, f"S{n} contactor request")
        b.r(PULL_OHM, request, rails.gnd, f"S{n} contactor request")
        and_conn.update({f"A{gate}": request, f"B{gate}": wdog_ok, f"C{gate}": rcd_ok,
                         f"Y{gate}": drive})
        _contactor_driver(b, rails, n, drive)
        _contactor_aux(b, rails, pins)
    for gate in range(len(board.gpio.stations) + 1, 5):
        nor_conn.update({f"A{gate}": rails.gnd, f"B{gate}": rails.gnd, f"Y{gate}": NC})
    for gate in range(len(board.gpio.stations) + 1, 4):
        and_conn.update({f"A{gate}": rails.gnd, f"B{gate}": rails.gnd, f"C{gate}": rails.gnd,
                         f"Y{gate}": NC})
    b.add(HCT02, "RCD interlock", nor_conn)
    b.add(HCT11, "contactor interlock", and_conn)
    b.decouple(rails.p5v, rails.gnd, "RCD interlock")
    b.decouple(rails.p5v, rails.gnd, "contactor interlock")
