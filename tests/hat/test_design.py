"""The circuit: ERC, generated documents up to date, BOM, and values taken from board.toml."""

from __future__ import annotations

import pytest

from hat.build import Design, documents
from hat.design.builder import Builder
from hat.design.parts import HCT123_K, OPA2197
from hat.outputs.bom import total
from hat.outputs.kicad import erc
from hat.paths import BOARD_TOML


def test_erc_is_clean(hat_design: Design) -> None:
    assert (hat_design.erc.errors, hat_design.erc.warnings) == (0, 0), hat_design.erc.messages


def test_erc_catches_a_broken_circuit() -> None:
    """Two op-amp outputs on one net and an undriven input must not pass."""
    b = Builder()
    gnd, out = b.rail("GND"), b.net("OUT")
    b.add(OPA2197, "broken", {"OUTA": out, "OUTB": out, "INA_P": gnd, "INA_N": out,
                              "INB_P": b.net("FLOATING"), "INB_N": out, "VPOS": b.net("VP"),
                              "VNEG": gnd})
    report = erc(b)
    assert report.errors >= 1
    assert any("FLOATING" in m for m in report.messages)


def test_generated_files_are_up_to_date(hat_design: Design) -> None:
    """Regenerate netlist, BOM, pin map, EEPROM settings and overlay; the committed copies
    must match (run `python -m hat.build` after changing the design or board.toml)."""
    stale = [str(path.relative_to(BOARD_TOML.parent))
             for path, text in documents(hat_design).items()
             if not path.exists() or path.read_text(encoding="utf-8") != text]
    assert not stale, f"regenerate with `python -m hat.build`: {stale}"


def test_bom_lines_are_orderable(hat_design: Design) -> None:
    lines = hat_design.bom
    assert all(line.mpn and line.manufacturer and line.unit_cost > 0 for line in lines)
    assert len({line.mpn for line in lines}) == len(lines), "one part number, two values"
    parts = sum(line.quantity for line in lines)
    placed = sum(1 for p in hat_design.netlist.parts.values() if p.spec.in_bom)
    assert parts == placed
    assert 60.0 < total(lines) < 200.0


def _resistors(d: Design, role: str) -> list[float]:
    return sorted(float(p.spice_value) for p in d.netlist.by_role(role) if p.spec.prefix == "R")


def _net_between(d: Design, ohms: float, a: str, b: str, role: str) -> bool:
    return any(p.spec.prefix == "R" and float(p.spice_value) == ohms
               and sorted(p.pins.values()) == sorted((a, b)) for p in d.netlist.by_role(role))


@pytest.mark.parametrize("signal", ["cp_high_1", "cp_low_1", "cp_high_2", "cp_low_2"])
def test_level_shift_is_the_board_description(hat_design: Design, signal: str) -> None:
    ls = hat_design.board.pilot.level_shift
    node = f"LS_{signal.upper()}"
    role = f"level shift {signal}"
    assert _net_between(hat_design, ls.bias_ohm, "VREF", node, role)
    assert _net_between(hat_design, ls.ground_ohm, node, "GND", role)
    assert _resistors(hat_design, role) == sorted([ls.input_ohm, ls.bias_ohm, ls.ground_ohm])


@pytest.mark.parametrize("station", [1, 2])
def test_peak_detector_and_pp_values(hat_design: Design, station: int) -> None:
    board, nl = hat_design.board, hat_design.netlist
    pd = board.pilot.peak_detector
    for kind in ("high", "low"):
        role = f"S{station} CP-{kind} peak detector"
        hold = f"S{station}_{kind.upper()}_HOLD"
        caps = [p for p in nl.by_role(role) if p.spec.prefix == "C" and hold in p.pins.values()]
        assert [float(c.spice_value) for c in caps] == [pd.hold_capacitor_f]
        assert "C0G" in caps[0].spec.description
        assert _net_between(hat_design, pd.bleed_resistor_ohm, hold, "GND", role)
    assert _net_between(hat_design, board.proximity.pullup_ohm, "VREF", f"S{station}_PP",
                        f"S{station} proximity pilot")
    assert _net_between(hat_design, board.pilot.source_resistance_ohm, f"S{station}_PILOT_DRV",
                        f"S{station}_CP", f"S{station} pilot")


def test_rail_monitor_and_temperature_sensor(hat_design: Design) -> None:
    rm = hat_design.board.rail_monitor
    assert _net_between(hat_design, rm.top_ohm, "+12V", "ADC_RAIL_12V", "+12 V rail monitor")
    assert _net_between(hat_design, rm.bottom_ohm, "ADC_RAIL_12V", "GND", "+12 V rail monitor")
    sensor = hat_design.netlist.one("board temperature", hat_design.board.temperature.sensor)
    assert sensor.net("VDD") == "+3V3"


def test_hat_eeprom_address_pullups_and_write_protect(hat_design: Design) -> None:
    eeprom = hat_design.netlist.one("HAT ID EEPROM", "24C32")
    address = 0x50 | sum(1 << i for i in range(3) if eeprom.net(f"A{i}") == "+3V3")
    assert address == hat_design.board.eeprom.i2c_address
    assert (eeprom.net("SDA"), eeprom.net("SCL")) == ("GPIO0", "GPIO1")
    for line in ("GPIO0", "GPIO1"):
        assert _net_between(hat_design, 3.9e3, line, "+3V3", "HAT ID EEPROM")
    assert _net_between(hat_design, 10e3, eeprom.net("WP"), "+3V3", "HAT ID EEPROM")


def test_watchdog_period_is_the_board_timeout(hat_design: Design) -> None:
    nl = hat_design.netlist
    timing_r = next(p for p in nl.by_role("hardware watchdog")
                    if p.spec.prefix == "R" and "WDOG_RC" in p.pins.values())
    timing_c = next(p for p in nl.by_role("hardware watchdog") if p.spec.prefix == "C"
                    and set(p.pins.values()) == {"WDOG_RC", "WDOG_CEXT"})
    period = HCT123_K * float(timing_r.spice_value) * float(timing_c.spice_value)
    assert period == pytest.approx(hat_design.board.watchdog.timeout_ms / 1000, rel=0.02)
