"""Injected bus faults as the real drivers see them: SPI error windows, a stuck chip, a lost chip,
a glitch on one ADC channel and one frozen ADC channel."""

from __future__ import annotations

import pytest

from appliance.board import load_board
from appliance.drivers.atm90e32 import Atm90e32
from appliance.drivers.interfaces import BusError
from appliance.drivers.mcp3208 import Mcp3208
from appliance.drivers.spi import SpiPort
from appliance.simulator.atm90e32 import PhaseQuantities, SimAtm90e32
from appliance.simulator.clock import SimClock
from appliance.simulator.mcp3208 import SimMcp3208
from appliance.simulator.spi_bus import SimSpiBus

BOARD = load_board()
ADC_CS, METER_CS = BOARD.adc.spi_cs, BOARD.meter_cs(1)
LOADED = PhaseQuantities((230.0,) * 3, (16.0,) * 3, (1.0,) * 3, 50.0, 30.0)


class Hat:
    """ADC and one meter on a simulated bus; the ADC input follows `volts`."""

    def __init__(self) -> None:
        self.clock = SimClock()
        self.volts = 1.0
        self.bus = SimSpiBus(self.clock)
        self.converter = SimMcp3208(lambda ch, t: self.volts, BOARD.adc.vref_v)
        self.bus.attach(0, ADC_CS, self.converter)
        self.bus.attach(0, METER_CS, SimAtm90e32(lambda t: LOADED, self.clock, BOARD.meter))
        adc_port = SpiPort(0, ADC_CS, 0, BOARD.adc.max_speed_hz, self.bus.spidev_factory, self.bus.ioctl)
        meter_port = SpiPort(
            0, METER_CS, 3, BOARD.meter.max_speed_hz, self.bus.spidev_factory, self.bus.ioctl
        )
        self.adc = Mcp3208(adc_port)
        self.meter = Atm90e32(meter_port, BOARD.meter)
        self.meter.start()


@pytest.fixture
def hat() -> Hat:
    return Hat()


def test_spi_error_window(hat: Hat) -> None:
    hat.bus.inject_error(ADC_CS, until_t=1.0)
    hat.clock.advance_to(0.5)
    with pytest.raises(BusError, match="Input/output error"):
        hat.adc.burst([0, 1], 4)
    with pytest.raises(BusError, match="Input/output error"):
        hat.adc.read(0)
    assert hat.meter.read().current_a == pytest.approx((16.0,) * 3)  # other chips unaffected
    hat.clock.advance_to(1.0)
    assert hat.adc.burst([0], 2) == [[1000, 1000]]


def test_stuck_adc_repeats_its_last_reply(hat: Hat) -> None:
    assert hat.adc.read(0) == 1000
    hat.bus.stuck(ADC_CS)
    hat.volts = 2.0
    assert hat.adc.burst([0, 3], 3) == [[1000] * 3, [1000] * 3]
    hat.bus.stuck(ADC_CS, on=False)
    assert hat.adc.read(0) == 2000


def test_glitch_changes_exactly_its_conversions_of_its_channel(hat: Hat) -> None:
    assert hat.adc.burst([0, 2], 2) == [[1000] * 2, [1000] * 2]
    hat.converter.glitch(2, 3.0)  # one conversion of CH2 reads 3.0 V at the pin
    assert hat.adc.burst([0, 2], 4) == [[1000] * 4, [3000, 1000, 1000, 1000]]
    hat.converter.glitch(2, 0.5, conversions=3)
    assert hat.adc.burst([2], 5) == [[500, 500, 500, 1000, 1000]]
    hat.converter.glitch(7, 9.0)  # beyond the reference: the converter clips
    assert hat.adc.read(7) == 4095 and hat.adc.read(7) == 1000
    with pytest.raises(ValueError, match="at least one conversion"):
        hat.converter.glitch(2, 1.0, conversions=0)


def test_stuck_channel_repeats_its_last_conversion(hat: Hat) -> None:
    assert hat.adc.read(3) == 1000
    hat.converter.stick(3)
    hat.volts = 2.0
    assert hat.adc.burst([3, 4], 3) == [[1000] * 3, [2000] * 3]  # the other channels live on
    hat.converter.stick(5)  # never converted yet: frozen at its next conversion
    hat.volts = 2.5
    assert hat.adc.burst([5], 1) == [[2500]]
    hat.volts = 0.5
    assert hat.adc.burst([5, 3, 6], 2) == [[2500] * 2, [1000] * 2, [500] * 2]


def test_stuck_meter_fails_plausibility(hat: Hat) -> None:
    hat.meter.read()
    hat.bus.stuck(METER_CS)  # every register now repeats the last word read (an energy count)
    with pytest.raises(BusError, match="MeterEn"):
        hat.meter.read()


def test_disconnected_chips_read_ff_and_are_bus_errors(hat: Hat) -> None:
    hat.bus.disconnect(ADC_CS)
    hat.bus.disconnect(METER_CS)
    with pytest.raises(BusError, match="null bit"):
        hat.adc.burst([0], 1)
    with pytest.raises(BusError, match="every register reads 0xFFFF"):
        hat.meter.read()
    hat.bus.disconnect(ADC_CS, on=False)
    hat.bus.disconnect(METER_CS, on=False)
    assert hat.adc.read(0) == 1000
    assert hat.meter.read().voltage_v == pytest.approx((230.0,) * 3)
