"""The Raspberry Pi side: 40-pin header, SPI0 pins, HAT ID EEPROM, station status LEDs."""

from __future__ import annotations

from typing import Any

from appliance.board import BoardDescription
from hat.design.builder import NC, Builder
from hat.design.parts import CAT24C32, LED_GREEN, PI_HEADER, PI_HEADER_NAMES
from hat.design.power import Rails

# SPI0 and the ID EEPROM bus are fixed by the SoC.
SPI0_SCLK, SPI0_MOSI, SPI0_MISO, SPI0_CE0, SPI0_CE1 = 11, 10, 9, 8, 7
ID_SD, ID_SC = 0, 1
HAT_ID_PULLUP_OHM = 3.9e3        # Raspberry Pi HAT specification
STATUS_LED_OHM = 680.0           # ~2 mA from a 3.3 V GPIO


def gpio(b: Builder, bcm: int) -> Any:
    """The net on header pin GPIO`bcm`."""
    return b.net(f"GPIO{bcm}")


def chip_select_gpio(board: BoardDescription, cs: int) -> int:
    """BCM number of SPI0 chip select `cs`: CE0, CE1, or the overlay's extra CE2."""
    return {0: SPI0_CE0, 1: SPI0_CE1, 2: board.gpio.spi_ce2}[cs]


def hat_eeprom(b: Builder, rails: Rails, i2c_address: int) -> None:
    """24C32 on ID_SD/ID_SC, address pins strapped from the board description, write-protected."""
    role = "HAT ID EEPROM"
    if i2c_address & ~0x07 != 0x50:
        raise ValueError(f"a 24C32 answers at 0x50..0x57, not {i2c_address:#x}")
    sda, scl, wp = gpio(b, ID_SD), gpio(b, ID_SC), b.net("EEPROM_WP")
    straps = {f"A{i}": rails.p3v3 if (i2c_address >> i) & 1 else rails.gnd for i in range(3)}
    b.add(CAT24C32, role, {**straps, "VSS": rails.gnd, "VCC": rails.p3v3, "SDA": sda,
                           "SCL": scl, "WP": wp})
    b.decouple(rails.p3v3, rails.gnd, role)
    b.r(HAT_ID_PULLUP_OHM, sda, rails.p3v3, role)
    b.r(HAT_ID_PULLUP_OHM, scl, rails.p3v3, role)
    b.r(10e3, wp, rails.p3v3, role)
    b.tp(wp, "EEPROM write enable: short to GND to program")


def status_leds(b: Builder, rails: Rails, board: BoardDescription) -> None:
    for pins in board.gpio.stations:
        role = f"S{pins.station} status LED"
        anode = b.net(f"S{pins.station}_LED_A")
        b.r(STATUS_LED_OHM, gpio(b, pins.status_led), anode, role)
        b.add(LED_GREEN, role, {"A": anode, "K": rails.gnd})


def pi_header(b: Builder, rails: Rails) -> None:
    """Place the header last: every GPIO another block used gets its net, the rest stay open."""
    used = set(b.net_names())
    conn: dict[str, Any] = {}
    for name in PI_HEADER_NAMES.values():
        if name.startswith("GPIO"):
            conn[name] = b.net(name) if name in used else NC
        elif name.startswith("3V3"):
            conn[name] = rails.p3v3
        elif name.startswith("5V"):
            conn[name] = rails.p5v
        else:
            conn[name] = rails.gnd
    b.add(PI_HEADER, "Raspberry Pi header", conn)
