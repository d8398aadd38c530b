"""The 40-pin header as built: every pin, its net, and what the board description calls it."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from appliance.board import BoardDescription
from hat.design.netlist import Netlist
from hat.design.parts import PI_HEADER_NAMES
from hat.design.pi import ID_SC, ID_SD, SPI0_MISO, SPI0_MOSI, SPI0_SCLK, chip_select_gpio

HEADER_ROLE = "Raspberry Pi header"


@dataclass(frozen=True)
class PinRow:
    header_pin: int
    signal: str          # GPIO17, 5V_2, GND_6...
    bcm: int | None
    net: str
    board_key: str       # where the board description assigns this GPIO ("" if it does not)
    function: str


def gpio_functions(board: BoardDescription) -> dict[int, tuple[str, str]]:
    """BCM number -> (board description key, function), for every GPIO the HAT uses."""
    functions = {
        SPI0_SCLK: ("", "SPI0 SCLK"),
        SPI0_MOSI: ("", "SPI0 MOSI"),
        SPI0_MISO: ("", "SPI0 MISO"),
        ID_SD: ("eeprom.i2c_address", "HAT ID EEPROM SDA"),
        ID_SC: ("eeprom.i2c_address", "HAT ID EEPROM SCL"),
        board.gpio.watchdog_kick: ("gpio.watchdog_kick", "hardware watchdog kick"),
        chip_select_gpio(board, board.adc.spi_cs): ("adc.spi_cs", f"SPI0 CS ADC {board.adc.chip}"),
    }
    for device in board.meter.devices:
        key = "gpio.spi_ce2" if device.spi_cs == 2 else f"meter.devices[{device.station}].spi_cs"
        functions[chip_select_gpio(board, device.spi_cs)] = (
            key, f"SPI0 CS meter {device.station} {board.meter.chip}")
    for pins in board.gpio.stations:
        for field in ("pilot_pwm", "contactor", "contactor_aux", "rcd_fault_dc", "rcd_fault_ac",
                      "rcd_test", "status_led"):
            bcm = getattr(pins, field)
            if bcm in functions:
                raise ValueError(f"GPIO{bcm} is assigned twice ({field}, {functions[bcm][1]})")
            functions[bcm] = (f"gpio.stations[{pins.station}].{field}",
                              f"station {pins.station} {field.replace('_', ' ')}")
    return functions


def pinmap(netlist: Netlist, board: BoardDescription) -> list[PinRow]:
    header = netlist.one(HEADER_ROLE)
    functions = gpio_functions(board)
    rows = []
    for num, signal in PI_HEADER_NAMES.items():
        bcm = int(signal[4:]) if signal.startswith("GPIO") else None
        key, function = functions.get(bcm, ("", "")) if bcm is not None else ("", "power")
        net = header.net(signal)
        if bool(function) != bool(net):
            raise ValueError(f"header pin {num} ({signal}): net {net!r}, function {function!r}")
        rows.append(PinRow(num, signal, bcm, net, key, function))
    return rows


def pinmap_csv(rows: list[PinRow]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["header_pin", "signal", "bcm", "net", "board_key", "function"])
    for r in rows:
        writer.writerow([r.header_pin, r.signal, "" if r.bcm is None else r.bcm, r.net,
                         r.board_key, r.function])
    return out.getvalue()
