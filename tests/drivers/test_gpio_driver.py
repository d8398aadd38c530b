"""Station GPIO and watchdog drivers on the simulated pin factory."""

from __future__ import annotations

import pytest

from appliance.board import BoardDescription
from appliance.drivers.gpio import GpioStationIo, GpioWatchdogKick
from appliance.simulator.clock import SimClock
from appliance.simulator.gpio_sim import SimPinFactory
from tests.bus_fixtures import OutputEvent


@pytest.fixture
def io(board: BoardDescription, pins: SimPinFactory) -> GpioStationIo:
    return GpioStationIo(board.pins(1), rcd_active_high=True, aux_active_high=False, pin_factory=pins)


def test_outputs_start_off_and_reach_the_pins_with_clock_time(
    io: GpioStationIo, pins: SimPinFactory, clock: SimClock, outputs: list[OutputEvent]
) -> None:
    assert outputs == [] and not pins.pin(5).state and not pins.pin(26).state
    clock.advance_to(1.25)
    io.set_rcd_test(True)
    io.set_rcd_test(False)
    clock.advance_to(2.0)
    io.set_contactor(True)
    io.set_led(True)
    io.set_contactor(True)  # no change, no edge
    assert outputs == [(26, True, 1.25), (26, False, 1.25), (5, True, 2.0), (17, True, 2.0)]


def test_close_opens_the_contactor_and_gives_every_pin_back(
    io: GpioStationIo, board: BoardDescription, pins: SimPinFactory, outputs: list[OutputEvent]
) -> None:
    io.set_contactor(True)
    io.close()
    assert (5, False, 0.0) in outputs
    again = GpioStationIo(board.pins(1), rcd_active_high=True, aux_active_high=False, pin_factory=pins)
    again.close()  # a pin still held would raise GPIOPinInUse above


def test_rcd_pulse_between_polls_is_reported_once(io: GpioStationIo, pins: SimPinFactory) -> None:
    assert io.rcd_fault() == (False, False)
    pins.drive(22, True)  # DC fault line: a pulse far shorter than the poll interval
    pins.drive(22, False)
    assert io.rcd_fault() == (True, False)
    assert io.rcd_fault() == (False, False)
    pins.drive(23, True)
    pins.drive(23, False)
    assert io.rcd_fault() == (False, True)
    assert io.rcd_fault() == (False, False)


def test_rcd_level_is_reported_while_it_lasts(io: GpioStationIo, pins: SimPinFactory) -> None:
    pins.drive(23, True)
    assert [io.rcd_fault() for _ in range(3)] == [(False, True)] * 3
    pins.drive(23, False)
    assert io.rcd_fault() == (False, False)


def test_active_low_rcd_module(board: BoardDescription, pins: SimPinFactory) -> None:
    pins.drive(24, True)  # idle high
    pins.drive(27, True)
    io = GpioStationIo(board.pins(2), rcd_active_high=False, aux_active_high=False, pin_factory=pins)
    assert io.rcd_fault() == (False, False)
    pins.drive(24, False)
    pins.drive(24, True)
    assert io.rcd_fault() == (True, False)
    assert io.rcd_fault() == (False, False)


def test_aux_contact_is_read_as_a_level_active_low(io: GpioStationIo, pins: SimPinFactory) -> None:
    """The HAT pulls the aux line up; the closed contact pulls it to GND (GPIO21 on station 1)."""
    pins.drive(21, True)
    assert [io.contactor_aux() for _ in range(2)] == [False, False]
    pins.drive(21, False)
    assert [io.contactor_aux() for _ in range(2)] == [True, True]  # a level, not a latched edge
    pins.drive(21, True)
    assert io.contactor_aux() is False


def test_aux_contact_active_high(board: BoardDescription, pins: SimPinFactory) -> None:
    io = GpioStationIo(board.pins(2), rcd_active_high=True, aux_active_high=True, pin_factory=pins)
    pins.drive(15, False)
    assert io.contactor_aux() is False
    pins.drive(15, True)
    assert io.contactor_aux() is True


def test_watchdog_kicks_are_edges(pins: SimPinFactory, clock: SimClock, outputs: list[OutputEvent]) -> None:
    watchdog = GpioWatchdogKick(4, pins)
    for t in (0.01, 0.02, 0.03):
        clock.advance_to(t)
        watchdog.kick()
    assert outputs == [(4, True, 0.01), (4, False, 0.02), (4, True, 0.03)]
