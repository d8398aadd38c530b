"""SimPinFactory: gpiozero devices on simulated pins, outputs reported, inputs driven."""

from __future__ import annotations

import pytest
from gpiozero import DigitalInputDevice, DigitalOutputDevice

from appliance.simulator.clock import SimClock
from appliance.simulator.gpio_sim import HISTORY, SimPinFactory
from tests.bus_fixtures import OutputEvent


def test_output_changes_are_reported_with_clock_time(
    pins: SimPinFactory, clock: SimClock, outputs: list[OutputEvent]
) -> None:
    line = DigitalOutputDevice(5, pin_factory=pins)
    clock.advance_to(0.5)
    line.on()
    line.on()
    clock.advance_to(0.75)
    line.off()
    assert outputs == [(5, True, 0.5), (5, False, 0.75)]


def test_driven_inputs_fire_gpiozero_callbacks_and_are_not_outputs(
    pins: SimPinFactory, outputs: list[OutputEvent]
) -> None:
    seen: list[str] = []
    line = DigitalInputDevice(22, pull_up=None, active_state=True, pin_factory=pins)
    line.when_activated = lambda: seen.append("on")
    line.when_deactivated = lambda: seen.append("off")
    pins.drive(22, True)
    assert line.is_active
    pins.drive(22, True)  # no edge
    pins.drive(22, False)
    assert seen == ["on", "off"] and outputs == []


def test_inputs_can_be_set_before_a_driver_claims_them(pins: SimPinFactory) -> None:
    pins.drive(23, True)
    assert DigitalInputDevice(23, pull_up=None, active_state=True, pin_factory=pins).is_active


def test_outputs_cannot_be_driven_from_outside(pins: SimPinFactory) -> None:
    line = DigitalOutputDevice(6, pin_factory=pins)
    with pytest.raises(ValueError, match="GPIO6 is an output"):
        pins.drive(6, True)
    line.close()  # given back: an input again, which the simulator may drive
    pins.drive(6, True)


def test_history_stays_bounded(pins: SimPinFactory) -> None:
    line = DigitalOutputDevice(4, pin_factory=pins)
    for _ in range(3 * HISTORY):
        line.toggle()
    assert len(pins.pin(4).states) == HISTORY
