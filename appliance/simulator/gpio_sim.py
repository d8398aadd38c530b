"""A gpiozero pin factory for the simulated HAT: outputs reported with clock time, inputs driven.

The drivers use ordinary gpiozero devices on it; `drive` changes an input line the way a
real edge does, so gpiozero's own callbacks (`when_activated`, ...) fire.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import Any

from gpiozero.pins.mock import MockFactory, MockPin

from appliance.clock import Clock

OutputListener = Callable[[int, bool, float], None]  # (gpio, state, t)

HISTORY = 256  # MockPin keeps every change; a kicked watchdog line would grow without bound


class SimPin(MockPin):
    """A MockPin that tells its factory when it drives a new output level."""

    factory: SimPinFactory
    states: deque[tuple[float, bool]]  # gpiozero's PinState (timestamp, state), the newest HISTORY of them

    @property
    def gpio(self) -> int:
        return int(self.info.name.removeprefix("GPIO"))

    def clear_states(self) -> None:
        super().clear_states()
        self.states = deque(self.states, maxlen=HISTORY)

    def _change_state(self, value: bool) -> bool:
        changed = bool(super()._change_state(value))
        if changed and self._function == "output":
            self.factory._output_changed(self.gpio, value)
        return changed


class SimPinFactory(MockFactory):
    def __init__(
        self, clock: Clock, on_output: OutputListener | None = None, revision: str | None = None
    ) -> None:
        super().__init__(revision=revision, pin_class=SimPin)
        self._clock = clock
        self.on_output = on_output

    def drive(self, gpio: int, state: bool) -> None:
        """Set an input line from outside (RCD module, ...), firing gpiozero's edge callbacks."""
        pin: Any = self.pin(gpio)
        if pin.function != "input":
            raise ValueError(f"GPIO{gpio} is an output of the Pi; the simulator drives only inputs")
        if state:
            pin.drive_high()
        else:
            pin.drive_low()

    def _output_changed(self, gpio: int, state: bool) -> None:
        if self.on_output is not None:
            self.on_output(gpio, state, self._clock.now())
