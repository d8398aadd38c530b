"""Fixtures for code that runs on the simulated buses: a clock, the SPI bus, PWM and pins.

Test modules and conftests import the fixtures they use from here.
"""

from __future__ import annotations

import pytest

from appliance.board.description import BoardDescription
from appliance.simulator.clock import SimClock
from appliance.simulator.gpio_sim import SimPinFactory
from appliance.simulator.pigpio_sim import SimPigpio
from appliance.simulator.spi_bus import CS_GAP_S, SimSpiBus, SpiChip

PwmEvent = tuple[int, float, float, float]  # (gpio, frequency_hz, duty 0..1, t)
OutputEvent = tuple[int, bool, float]  # (gpio, state, t)


def adc_conversion_s(board: BoardDescription) -> float:
    """One MCP3208 conversion in a burst: its 3-byte frame at the board's SPI clock, then the CS gap."""
    return 3 * 8 / board.adc.max_speed_hz + CS_GAP_S


class FixedReply(SpiChip):
    """A chip that answers every frame with preset bytes, in any mode."""

    spi_modes = frozenset({0, 1, 2, 3})

    def __init__(self, reply: bytes) -> None:
        self.reply = reply

    def frame(self, tx: bytes, t: float) -> bytes:
        return self.reply[: len(tx)].ljust(len(tx), b"\x00")


@pytest.fixture
def clock() -> SimClock:
    return SimClock()


@pytest.fixture
def bus(clock: SimClock) -> SimSpiBus:
    return SimSpiBus(clock)


@pytest.fixture
def pwm_events() -> list[PwmEvent]:
    return []


@pytest.fixture
def pi(clock: SimClock, pwm_events: list[PwmEvent]) -> SimPigpio:
    return SimPigpio(clock, lambda *e: pwm_events.append(e))


@pytest.fixture
def outputs() -> list[OutputEvent]:
    return []


@pytest.fixture
def pins(clock: SimClock, outputs: list[OutputEvent]) -> SimPinFactory:
    return SimPinFactory(clock, lambda *e: outputs.append(e))
