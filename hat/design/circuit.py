"""The whole HAT, assembled from the blocks in this package and the board description."""

from __future__ import annotations

from appliance.board import BoardDescription
from hat.design.adc import adc, adc_buffers, rail_monitor, reference, temperature
from hat.design.builder import Builder
from hat.design.meter import meter
from hat.design.pi import hat_eeprom, pi_header, status_leds
from hat.design.pilot import pilot_drivers, station_pilot
from hat.design.power import power
from hat.design.safety import safety_chain


def build(board: BoardDescription) -> Builder:
    """A fresh circuit for `board`; nothing is shared between calls."""
    b = Builder()
    rails = power(b, board.pilot.rail_v)
    vref = reference(b, rails)
    adc(b, rails, board, vref)
    rail_monitor(b, rails, board)
    temperature(b, rails, board)
    stations = [station_pilot(b, rails, board, pins, vref) for pins in board.gpio.stations]
    pilot_drivers(b, rails, stations)
    adc_buffers(b, rails, {k: v for s in stations for k, v in s.level_shifted.items()})
    for device in board.meter.devices:
        meter(b, rails, board, device.station)
    safety_chain(b, rails, board)
    status_leds(b, rails, board)
    hat_eeprom(b, rails, board.eeprom.i2c_address)
    pi_header(b, rails)
    return b
