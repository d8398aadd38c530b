"""Station GPIO lines (contactor and its aux contact, RCD module, LED) and the watchdog's kick line."""

from __future__ import annotations

from gpiozero import DigitalInputDevice, DigitalOutputDevice
from gpiozero.pins import Factory

from appliance.board.description import StationPins


class _FaultInput:
    """An RCD fault line that remembers activations between polls.

    gpiozero calls `when_activated` from its event thread; the poller compares edge counts
    instead of clearing a flag, so an edge arriving while it polls is kept for the next poll.
    """

    def __init__(self, gpio: int, active_high: bool, pin_factory: Factory | None) -> None:
        self._edges = 0
        self._seen = 0
        self._device = DigitalInputDevice(
            gpio, pull_up=None, active_state=active_high, pin_factory=pin_factory
        )
        self._device.when_activated = self._activated

    def _activated(self) -> None:
        self._edges += 1

    def poll(self) -> bool:
        edges = self._edges
        latched = edges != self._seen
        self._seen = edges
        return bool(self._device.is_active) or latched

    def close(self) -> None:
        self._device.close()


class GpioStationIo:
    def __init__(self, pins: StationPins, rcd_active_high: bool, aux_active_high: bool,
                 pin_factory: Factory | None = None) -> None:
        self._contactor = DigitalOutputDevice(pins.contactor, initial_value=False, pin_factory=pin_factory)
        self._aux = DigitalInputDevice(
            pins.contactor_aux, pull_up=None, active_state=aux_active_high, pin_factory=pin_factory
        )
        self._rcd_test = DigitalOutputDevice(pins.rcd_test, initial_value=False, pin_factory=pin_factory)
        self._led = DigitalOutputDevice(pins.status_led, initial_value=False, pin_factory=pin_factory)
        self._fault_dc = _FaultInput(pins.rcd_fault_dc, rcd_active_high, pin_factory)
        self._fault_ac = _FaultInput(pins.rcd_fault_ac, rcd_active_high, pin_factory)

    def set_contactor(self, closed: bool) -> None:
        self._contactor.value = closed

    def set_rcd_test(self, active: bool) -> None:
        self._rcd_test.value = active

    def rcd_fault(self) -> tuple[bool, bool]:
        return self._fault_dc.poll(), self._fault_ac.poll()

    def contactor_aux(self) -> bool:
        """The level now: the contacts' state is a level, not an event to latch."""
        return bool(self._aux.is_active)

    def set_led(self, on: bool) -> None:
        self._led.value = on

    def close(self) -> None:
        """Contactor open and test line released before the pins are given back."""
        for output in (self._contactor, self._rcd_test, self._led):
            output.off()
            output.close()
        self._fault_dc.close()
        self._fault_ac.close()
        self._aux.close()


class GpioWatchdogKick:
    """The retriggerable monostable needs edges, not a level: every kick toggles the line."""

    def __init__(self, pin: int, pin_factory: Factory | None = None) -> None:
        self._line = DigitalOutputDevice(pin, initial_value=False, pin_factory=pin_factory)

    def kick(self) -> None:
        self._line.toggle()
