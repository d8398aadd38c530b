"""Pilot generators: the Pi's hardware PWM through pigpio or through the kernel's sysfs PWM.

The op-amp stage follows the GPIO: high = +12 V, low = -12 V. Constant high is state X1
(charging not offered), constant low is state F (EVSE unavailable). Both drivers start in
X1, whatever a previous process left running, and close to F: after the pilot process is
gone, a car sees a station that is not there.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Protocol

import pigpio

from appliance.drivers.interfaces import BusError

PIGPIO_DUTY_RANGE = 1_000_000


class PigpioLike(Protocol):
    """The part of `pigpio.pi` the pilot needs (the simulator provides the same)."""

    def hardware_PWM(self, gpio: int, PWMfreq: int, PWMduty: int) -> int: ...


def _check_duty(duty_pct: float) -> None:
    if not 0.0 <= duty_pct <= 100.0:
        raise ValueError(f"duty must be 0..100 %, not {duty_pct}")


class PigpioPilotOutput:
    """Hardware PWM through the pigpio daemon (Pi 4 and earlier)."""

    def __init__(self, pi: PigpioLike, gpio: int, frequency_hz: float) -> None:
        self._pi = pi
        self._gpio = gpio
        self._frequency_hz = round(frequency_hz)
        self.set_high()

    def set_pwm(self, duty_pct: float) -> None:
        _check_duty(duty_pct)
        self._apply(round(duty_pct * PIGPIO_DUTY_RANGE / 100))

    def set_high(self) -> None:
        self._apply(PIGPIO_DUTY_RANGE)

    def set_low(self) -> None:
        self._apply(0)

    def close(self) -> None:
        """Leave the pilot in F; pigpiod keeps it there after this process is gone."""
        self.set_low()

    def _apply(self, duty: int) -> None:
        call = f"pigpio hardware_PWM(gpio {self._gpio}, {self._frequency_hz} Hz, duty {duty})"
        try:
            rc = self._pi.hardware_PWM(self._gpio, self._frequency_hz, duty)
        except (pigpio.error, OSError) as e:
            raise BusError(f"{call} failed: {e}") from e
        if rc < 0:
            raise BusError(f"{call} failed: {pigpio.error_text(rc)} ({rc})")


def _write_attr(path: Path, value: int) -> None:
    """One write(2) of a decimal number, as sysfs attributes expect."""
    fd = os.open(path, os.O_WRONLY | os.O_TRUNC)
    try:
        os.write(fd, str(value).encode())
    finally:
        os.close(fd)


class SysfsPilotOutput:
    """Hardware PWM through /sys/class/pwm (Pi 5, Debian kernels, no pigpiod needed)."""

    def __init__(self, chip_dir: Path, channel: int, frequency_hz: float) -> None:
        self._dir = Path(chip_dir) / f"pwm{channel}"
        self._period_ns = round(1e9 / frequency_hz)
        try:
            if not self._dir.is_dir():
                _write_attr(Path(chip_dir) / "export", channel)
            if not self._dir.is_dir():
                raise BusError(f"{self._dir}: missing after exporting channel {channel}")
        except OSError as e:
            raise BusError(f"{chip_dir}: cannot export PWM channel {channel}: {e}") from e
        # The kernel refuses duty_cycle > period at every step: duty 0 first fits any period.
        self._write("duty_cycle", 0)
        self._write("period", self._period_ns)
        self.set_high()
        self._write("enable", 1)

    def set_pwm(self, duty_pct: float) -> None:
        _check_duty(duty_pct)
        self._write("duty_cycle", round(self._period_ns * duty_pct / 100))

    def set_high(self) -> None:
        self._write("duty_cycle", self._period_ns)

    def set_low(self) -> None:
        self._write("duty_cycle", 0)

    def close(self) -> None:
        """Leave the channel exported and enabled at constant low (F): unexporting would
        release the pin and leave the pilot stage's input floating."""
        self.set_low()

    def _write(self, name: str, value: int) -> None:
        try:
            _write_attr(self._dir / name, value)
        except OSError as e:
            raise BusError(f"{self._dir / name} <- {value}: {e}") from e
