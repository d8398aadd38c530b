"""The wiring agrees with the board description: GPIOs, chip selects, ADC channels, and the
hardware safety chain. Checked by following the netlist, not by trusting net names."""

from __future__ import annotations

import csv

import pytest

from hat.build import Design
from hat.design.netlist import Netlist
from hat.outputs.pinmap import gpio_functions
from hat.paths import GENERATED


def _pins(nl: Netlist, net: str) -> set[tuple[str, str]]:
    """(role, pin) of every non-resistor pin on `net` or one resistor away from it."""
    found = set()
    for n in nl.through_resistors(net):
        for ref, pin in nl.pins_on(n):
            part = nl.parts[ref]
            if part.spec.prefix not in ("R", "C", "TP"):
                found.add((part.role, pin))
    return found


def _gpio(d: Design, bcm: int) -> str:
    net = d.netlist.one("Raspberry Pi header").net(f"GPIO{bcm}")
    assert net, f"GPIO{bcm} is not connected"
    return net


def test_pinmap_csv_matches_board_description(hat_design: Design) -> None:
    rows = list(csv.DictReader((GENERATED / "pinmap.csv").open(encoding="utf-8")))
    assert len(rows) == 40
    used = {int(r["bcm"]): r for r in rows if r["bcm"] and r["net"]}
    functions = gpio_functions(hat_design.board)
    assert set(used) == set(functions)
    for bcm, (key, function) in functions.items():
        assert (used[bcm]["board_key"], used[bcm]["function"]) == (key, function)
    board = hat_design.board
    assert used[board.gpio.spi_ce2]["function"].startswith("SPI0 CS meter 2")
    assert used[board.pins(1).pilot_pwm]["header_pin"] == "32"      # GPIO12 = PWM0
    assert used[board.pins(2).pilot_pwm]["header_pin"] == "33"      # GPIO13 = PWM1


@pytest.mark.parametrize("station", [1, 2])
def test_pilot_pwm_drives_its_own_station(hat_design: Design, station: int) -> None:
    nl, pins = hat_design.netlist, hat_design.board.pins(station)
    driver = nl.one("pilot drivers", "OPA2197")
    unit = next(u for u in "AB" if driver.net(f"IN{u}_P") in nl.through_resistors(
        _gpio(hat_design, pins.pilot_pwm)))
    cp = nl.one(f"S{station} EV cable").net("CP")
    assert cp in nl.through_resistors(driver.net(f"OUT{unit}"))


@pytest.mark.parametrize("station", [1, 2])
def test_adc_channels_follow_the_channel_map(hat_design: Design, station: int) -> None:
    nl, board = hat_design.netlist, hat_design.board
    adc = nl.one("ADC", "MCP3208")
    buffers = nl.one("ADC input buffers", "MCP6004")
    detectors = nl.one(f"S{station} CP peak detectors", "OPA4197")
    for signal, det_out in (("cp_high", "OUTB"), ("cp_low", "OUTD")):
        pin_net = adc.net(f"CH{board.adc_channel(signal, station)}")
        unit = next(u for u in "ABCD" if pin_net in nl.through_resistors(buffers.net(f"OUT{u}")))
        assert buffers.net(f"IN{unit}_P") in nl.through_resistors(detectors.net(det_out))
    pp = adc.net(f"CH{board.adc_channel('pp', station)}")
    assert nl.one(f"S{station} EV cable").net("PP") in nl.through_resistors(pp)
    assert "+12V" in nl.through_resistors(adc.net(f"CH{board.adc_channel('rail_12v')}"))
    sensor = nl.one("board temperature", board.temperature.sensor)
    assert sensor.net("VOUT") in nl.through_resistors(
        adc.net(f"CH{board.adc_channel('temperature')}"))


def test_chip_selects(hat_design: Design) -> None:
    nl, board = hat_design.netlist, hat_design.board
    adc = nl.one("ADC", "MCP3208")
    shifter = nl.one("ADC SPI level shift", "74AHCT125")
    ce0 = _gpio(hat_design, 8)
    unit = next(u for u in "1234" if shifter.net(f"A{u}") == ce0)
    assert shifter.net(f"Y{unit}") == adc.net("CS")
    assert board.adc.spi_cs == 0
    for device in board.meter.devices:
        cs = {1: 7, 2: board.gpio.spi_ce2}[device.spi_cs]
        isolator = nl.one(f"S{device.station} meter isolator", "ISO7741")
        meter = nl.one(f"S{device.station} meter", "ATM90E32AS")
        assert isolator.net("INC") == _gpio(hat_design, cs)
        assert isolator.net("OUTC") == meter.net("CS")
        assert isolator.net("IND") == meter.net("SDO")
    # every MISO buffer is enabled by its own device's chip select only
    miso = _gpio(hat_design, 9)
    buffers = [nl.parts[ref] for ref, pin in nl.pins_on(miso) if pin == "Y"]
    assert sorted(b.net("OE") for b in buffers) == sorted(
        _gpio(hat_design, g) for g in (8, 7, board.gpio.spi_ce2))


@pytest.mark.parametrize("station", [1, 2])
def test_station_gpios(hat_design: Design, station: int) -> None:
    pins = hat_design.board.pins(station)
    nl = hat_design.netlist
    rcd = f"S{station} RDC-DD"
    assert (rcd, "FAULT_DC") in _pins(nl, _gpio(hat_design, pins.rcd_fault_dc))
    assert (rcd, "FAULT_AC") in _pins(nl, _gpio(hat_design, pins.rcd_fault_ac))
    assert (rcd, "TEST") in _pins(nl, _gpio(hat_design, pins.rcd_test))
    assert (f"S{station} status LED", "A") in _pins(nl, _gpio(hat_design, pins.status_led))
    assert (f"S{station} contactor aux", "AUX") in _pins(nl, _gpio(hat_design, pins.contactor_aux))


@pytest.mark.parametrize("station", [1, 2])
def test_contactor_aux_input_reads_open_when_nothing_closes_it(hat_design: Design, station: int) -> None:
    """The aux contact pulls its line to GND; with the contact open, a broken wire or no
    contactor the line is pulled up, so the GPIO never reports a closed contactor by itself.
    The terminal-side pull-up also sets the contact's wetting current."""
    nl, board = hat_design.netlist, hat_design.board
    assert board.contactor.aux_active_high is False  # closed contact = low
    terminal = nl.one(f"S{station} contactor aux", "CONTACTOR_AUX")
    line, sense = terminal.net("AUX"), _gpio(hat_design, board.pins(station).contactor_aux)
    assert terminal.net("GND") == "GND"
    parts = nl.by_role(f"S{station} contactor aux")
    pullup = next(p for p in parts if p.spec.prefix == "R" and set(p.pins.values()) == {line, "+3V3"})
    series = next(p for p in parts if p.spec.prefix == "R" and set(p.pins.values()) == {line, sense})
    cap = next(p for p in parts if p.spec.prefix == "C" and set(p.pins.values()) == {sense, "GND"})
    assert 3.3 / float(pullup.spice_value) >= 1e-3  # at least 1 mA through the contact
    assert float(series.spice_value) * float(cap.spice_value) == pytest.approx(1e-3)  # 1 ms filter


@pytest.mark.parametrize("station", [1, 2])
def test_contactor_needs_request_watchdog_and_rcd_ok(hat_design: Design, station: int) -> None:
    """The relay gate is driven only by the AND of the request GPIO, the watchdog output and
    NOR(RCD faults): no path lets software (or a dead process) close the contactor alone."""
    nl, board = hat_design.netlist, hat_design.board
    pins = board.pins(station)
    mosfet = nl.one(f"S{station} contactor driver", "2N7002")
    gate = mosfet.net("G")
    (drive,) = nl.through_resistors(gate) - {gate, "GND"}
    drivers = [(nl.parts[ref].spec.name, pin) for ref, pin in nl.pins_on(drive)
               if nl.parts[ref].spec.prefix not in ("R", "C", "TP")]
    assert len(drivers) == 1 and drivers[0][0] == "74HCT11", drivers
    gate_id = drivers[0][1].removeprefix("Y")
    and_gate = nl.one("contactor interlock", "74HCT11")
    inputs = {and_gate.net(f"{x}{gate_id}") for x in "ABC"}

    watchdog = nl.one("hardware watchdog", "74HCT123")
    assert watchdog.net("Q1") in inputs
    assert watchdog.net("B1") in nl.through_resistors(_gpio(hat_design, board.gpio.watchdog_kick))
    assert any(n in inputs for n in nl.through_resistors(_gpio(hat_design, pins.contactor)))

    nor = nl.one("RCD interlock", "74HCT02")
    (nor_gate,) = [g for g in "1234" if nor.net(f"Y{g}") in inputs]
    module = nl.one(f"S{station} RDC-DD", "RDC-DD")
    assert {nor.net(f"A{nor_gate}"), nor.net(f"B{nor_gate}")} == {
        module.net("FAULT_DC"), module.net("FAULT_AC")}
    # a missing module reads as a fault: both fault lines are pulled up
    for line in ("FAULT_DC", "FAULT_AC"):
        assert "+3V3" in nl.through_resistors(module.net(line))
