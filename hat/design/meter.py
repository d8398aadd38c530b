"""One ATM90E32AS per station, on its own mains-referenced, isolated island.

The voltage inputs are resistive dividers straight from the car-side phases (so the meter
also sees a welded contactor), which puts the whole meter at neutral potential. It therefore
gets a reinforced-isolation DC-DC converter and a reinforced digital isolator for SPI; nothing
on the Pi side touches the island. Divider and burden values match the gains in board.toml:
6 x 330 kOhm : 1 kOhm per phase, 100 A : 50 mA current transformers with 12 Ohm burden.
"""

from __future__ import annotations

from typing import Any

from appliance.board import BoardDescription
from hat.design.adc import spi_select
from hat.design.builder import NC, Builder
from hat.design.parts import (
    ATM90E32AS,
    CRYSTAL_16M384,
    CT_CONNECTOR,
    ISO7741,
    LINE_CONNECTOR,
    MCP1700_33,
    NXJ1S0505MC,
)
from hat.design.pi import SPI0_MOSI, SPI0_SCLK, chip_select_gpio, gpio
from hat.design.power import Rails

DIVIDER_STRING = (330e3,) * 6      # 1206 parts, 200 V each: the string withstands the surge
DIVIDER_BOTTOM_OHM = 1e3
BURDEN_OHM = 12.0
INPUT_OHM = 1e3                    # anti-alias filter with ANTI_ALIAS_F
ANTI_ALIAS_F = 33e-9
PHASES = "ABC"


def _voltage_input(b: Builder, gnd: Any, line: Any, prefix: str, role: str) -> dict[str, Any]:
    p, n = b.net(f"{prefix}_UP"), b.net(f"{prefix}_UN")
    node = line
    for i, ohms in enumerate(DIVIDER_STRING[:-1]):
        nxt = b.net(f"{prefix}_UDIV{i + 1}")
        b.r(ohms, node, nxt, role, size="1206")
        node = nxt
    b.r(DIVIDER_STRING[-1], node, p, role, size="1206")
    b.r(DIVIDER_BOTTOM_OHM, p, gnd, role)
    b.r(DIVIDER_BOTTOM_OHM, n, gnd, role)
    for pin in (p, n):
        b.c(ANTI_ALIAS_F, pin, gnd, role)
    return {"P": p, "N": n}


def _current_input(b: Builder, gnd: Any, ct_p: Any, ct_n: Any, prefix: str,
                   role: str) -> dict[str, Any]:
    p, n = b.net(f"{prefix}_IP"), b.net(f"{prefix}_IN")
    b.r(BURDEN_OHM, ct_p, ct_n, role, size="1206")
    b.r(INPUT_OHM, ct_p, p, role)
    b.r(INPUT_OHM, ct_n, n, role)
    for pin in (p, n):
        b.c(ANTI_ALIAS_F, pin, gnd, role)
    return {"P": p, "N": n}


def meter(b: Builder, rails: Rails, board: BoardDescription, station: int) -> None:
    role = f"S{station} meter"
    s = f"S{station}"
    gnd = b.rail(f"{s}_ISO_GND")
    iso5v, iso3v3 = b.net(f"{s}_ISO_5V"), b.net(f"{s}_ISO_3V3")
    b.add(NXJ1S0505MC, f"{role} isolated supply", {"VIN": rails.p5v, "GND_IN": rails.gnd,
                                                    "VOUT": iso5v, "GND_OUT": gnd})
    b.decouple(rails.p5v, rails.gnd, f"{role} isolated supply", 10e-6)
    b.add(MCP1700_33, f"{role} isolated supply", {"VIN": iso5v, "VOUT": iso3v3, "GND": gnd})
    for rail in (iso5v, iso3v3):
        b.decouple(rail, gnd, f"{role} isolated supply", 10e-6)

    sclk, sdi, cs, sdo, dout = (b.net(f"{s}_METER_{x}") for x in
                                ("SCLK", "SDI", "CS", "SDO", "DOUT"))
    cs_pi = gpio(b, chip_select_gpio(board, board.meter_cs(station)))
    b.add(ISO7741, f"{role} isolator", {
        "VCC1": rails.p3v3, "GND1A": rails.gnd, "GND1B": rails.gnd, "EN1": rails.p3v3,
        "INA": gpio(b, SPI0_SCLK), "INB": gpio(b, SPI0_MOSI), "INC": cs_pi, "OUTD": dout,
        "VCC2": iso3v3, "GND2A": gnd, "GND2B": gnd, "EN2": iso3v3,
        "OUTA": sclk, "OUTB": sdi, "OUTC": cs, "IND": sdo,
    })
    b.decouple(rails.p3v3, rails.gnd, f"{role} isolator")
    b.decouple(iso3v3, gnd, f"{role} isolator")
    spi_select(b, rails, board, board.meter_cs(station), dout, f"{role} MISO buffer")

    osci, osco, reset, vref = (b.net(f"{s}_METER_{x}") for x in ("OSCI", "OSCO", "RESET",
                                                                  "VREF"))
    b.add(CRYSTAL_16M384, role, {"1": osci, "2": osco})
    for pin in (osci, osco):
        b.c(15e-12, pin, gnd, role, "C0G")
    b.r(10e3, reset, iso3v3, role)
    b.c(100e-9, reset, gnd, role)
    b.decouple(vref, gnd, role, 1e-6)

    line_l1, line_l2, line_l3 = (b.net(f"{s}_LINE_{x}") for x in ("L1", "L2", "L3"))
    b.add(LINE_CONNECTOR, f"{role} voltage sense", {"L1": line_l1, "L2": line_l2,
                                                     "L3": line_l3, "N": gnd})
    # Each CT's return is the island ground; its burden sits across the pair.
    ct = {f"CT{i}_{pol}": b.net(f"{s}_CT{i}_P") if pol == "P" else gnd
          for i in (1, 2, 3) for pol in "PN"}
    b.add(CT_CONNECTOR, f"{role} current transformers", ct)

    conn: dict[str, Any] = {
        "DVDD": iso3v3, "AVDD": iso3v3, "DGND": gnd, "AGND": gnd, "VREF": vref,
        "OSCI": osci, "OSCO": osco, "RESET": reset, "CS": cs, "SCLK": sclk, "SDI": sdi,
        "SDO": sdo, "PM0": iso3v3, "PM1": iso3v3, "INP": gnd, "INN": gnd,
        **{pin: NC for pin in ("IRQ0", "IRQ1", "WARNOUT", "ZX0", "ZX1", "ZX2", "CF1", "CF2",
                               "CF3", "CF4")},
    }
    lines = (line_l1, line_l2, line_l3)
    for i, (phase, line) in enumerate(zip(PHASES, lines, strict=True), start=1):
        u = _voltage_input(b, gnd, line, f"{s}_{phase}", f"{role} voltage {phase}")
        current = _current_input(b, gnd, ct[f"CT{i}_P"], ct[f"CT{i}_N"], f"{s}_{phase}",
                                 f"{role} current {phase}")
        conn.update({f"U{phase}P": u["P"], f"U{phase}N": u["N"],
                     f"I{phase}P": current["P"], f"I{phase}N": current["N"]})
    b.add(ATM90E32AS, role, conn)
    b.decouple(iso3v3, gnd, role)
    b.decouple(iso3v3, gnd, role)
    b.decouple(iso3v3, gnd, role, 10e-6)
