"""SimPigpio answers hardware_PWM as pigpiod and the pigpio client would."""

from __future__ import annotations

import struct

import pigpio
import pytest

from appliance.simulator.clock import SimClock
from appliance.simulator.pigpio_sim import SimPigpio
from tests.bus_fixtures import PwmEvent


def test_valid_settings_reach_the_listener_with_clock_time(
    pi: SimPigpio, clock: SimClock, pwm_events: list[PwmEvent]
) -> None:
    assert pi.connected
    clock.advance_to(7.25)
    assert pi.hardware_PWM(12, 1000, 500_000) == 0
    assert pi.hardware_PWM(19, 1000, 1_000_000) == 0
    assert pi.hardware_PWM(13, 0, 500_000) == 0  # frequency 0: PWM off, line low
    assert pwm_events == [(12, 1000.0, 0.5, 7.25), (19, 1000.0, 1.0, 7.25), (13, 0.0, 0.0, 7.25)]
    assert pi.hardware == {12: (1000, 500_000), 19: (1000, 1_000_000), 13: (0, 500_000)}


@pytest.mark.parametrize(
    ("gpio", "frequency", "duty", "code"),
    [
        (54, 1000, 0, pigpio.PI_BAD_GPIO),
        (12, 1000, 1_000_001, pigpio.PI_BAD_HPWM_DUTY),
        (4, 1000, 0, pigpio.PI_NOT_HPWM_GPIO),
        (12, 187_500_001, 0, pigpio.PI_BAD_HPWM_FREQ),
    ],
)
def test_invalid_settings_fail_as_in_the_real_library(
    pi: SimPigpio,
    pwm_events: list[PwmEvent],
    monkeypatch: pytest.MonkeyPatch,
    gpio: int,
    frequency: int,
    duty: int,
    code: int,
) -> None:
    with pytest.raises(pigpio.error, match=pigpio.error_text(code)):
        pi.hardware_PWM(gpio, frequency, duty)
    monkeypatch.setattr(pigpio, "exceptions", False)
    assert pi.hardware_PWM(gpio, frequency, duty) == code
    assert pwm_events == [] and pi.hardware == {}


def test_arguments_must_pack_as_unsigned_ints(pi: SimPigpio) -> None:
    with pytest.raises(struct.error):
        pi.hardware_PWM(12, 1000.0, 0)  # type: ignore[arg-type]
    with pytest.raises(struct.error):
        pi.hardware_PWM(12, 1000, -1)


def test_stopped_connection_refuses_commands(pi: SimPigpio) -> None:
    pi.stop()
    assert not pi.connected
    with pytest.raises(pigpio.error):
        pi.hardware_PWM(12, 1000, 0)
