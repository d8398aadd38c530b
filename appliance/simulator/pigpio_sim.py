"""A stand-in for `pigpio.pi` with the daemon's hardware-PWM checks and error behaviour."""

from __future__ import annotations

import struct
from collections.abc import Callable

import pigpio

from appliance.clock import Clock

PwmListener = Callable[[int, float, float, float], None]  # (gpio, frequency_hz, duty 0..1, t)

HARDWARE_PWM_GPIOS = frozenset({12, 13, 18, 19})  # on the 40-pin header
MAX_GPIO = 53
MAX_FREQUENCY_HZ = 187_500_000  # BCM2711; 125 MHz on older SoCs
DUTY_RANGE = 1_000_000


class SimPigpio:
    """`hardware_PWM` and `stop` as `pigpio.pi` has them; changes go to `on_pwm` with clock time."""

    def __init__(self, clock: Clock, on_pwm: PwmListener | None = None) -> None:
        self._clock = clock
        self.on_pwm = on_pwm
        self.connected = True
        self.hardware: dict[int, tuple[int, int]] = {}  # gpio -> (frequency, duty) as sent

    def hardware_PWM(self, gpio: int, PWMfreq: int, PWMduty: int) -> int:
        struct.pack("III", gpio, PWMfreq, PWMduty)  # the client packs these; floats fail here too
        if not self.connected:
            raise pigpio.error("pigpio connection closed")
        rc = self._daemon_check(gpio, PWMfreq, PWMduty)
        if rc < 0:
            if pigpio.exceptions:
                raise pigpio.error(pigpio.error_text(rc))
            return rc
        self.hardware[gpio] = (PWMfreq, PWMduty)
        if self.on_pwm is not None:  # frequency 0 switches the PWM off: the line rests low
            duty = PWMduty / DUTY_RANGE if PWMfreq else 0.0
            self.on_pwm(gpio, float(PWMfreq), duty, self._clock.now())
        return 0

    def stop(self) -> None:
        self.connected = False

    @staticmethod
    def _daemon_check(gpio: int, frequency: int, duty: int) -> int:
        """pigpiod's gpioHardwarePWM argument checks, in its order."""
        code = 0
        if gpio > MAX_GPIO:
            code = pigpio.PI_BAD_GPIO
        elif duty > DUTY_RANGE:
            code = pigpio.PI_BAD_HPWM_DUTY
        elif gpio not in HARDWARE_PWM_GPIOS:
            code = pigpio.PI_NOT_HPWM_GPIO
        elif frequency > MAX_FREQUENCY_HZ:
            code = pigpio.PI_BAD_HPWM_FREQ
        return int(code)
