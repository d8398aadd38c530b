"""Pilot PWM drivers: pigpio duty mapping and errors, sysfs files and the kernel's ordering rule."""

from __future__ import annotations

import errno
import math
import os
from pathlib import Path

import pigpio
import pytest

from appliance.drivers import pilot_pwm
from appliance.drivers.interfaces import BusError
from appliance.drivers.pilot_pwm import PigpioPilotOutput, SysfsPilotOutput
from appliance.simulator.clock import SimClock
from appliance.simulator.pigpio_sim import SimPigpio
from tests.bus_fixtures import PwmEvent


def test_duty_maps_to_pigpio_millionths(pi: SimPigpio, clock: SimClock, pwm_events: list[PwmEvent]) -> None:
    pilot = PigpioPilotOutput(pi, 12, 1000.0)
    assert pi.hardware[12] == (1000, 1_000_000)  # starts in X1: not offering
    clock.advance_to(3.5)
    for action, duty in [
        (lambda: pilot.set_pwm(10.0), 100_000),
        (lambda: pilot.set_pwm(53.3), 533_000),
        (pilot.set_high, 1_000_000),
        (pilot.set_low, 0),
    ]:
        action()
        assert pi.hardware[12] == (1000, duty)
    assert pwm_events[1:] == [
        (12, 1000.0, 0.1, 3.5),
        (12, 1000.0, 0.533, 3.5),
        (12, 1000.0, 1.0, 3.5),
        (12, 1000.0, 0.0, 3.5),
    ]


def test_close_leaves_the_pilot_in_state_f(pi: SimPigpio) -> None:
    pilot = PigpioPilotOutput(pi, 13, 1000.0)
    pilot.set_high()
    pilot.close()
    assert pi.hardware[13] == (1000, 0)


@pytest.mark.parametrize("duty", [-0.1, 100.1, math.nan])
def test_duty_outside_0_to_100_is_refused(pi: SimPigpio, duty: float) -> None:
    pilot = PigpioPilotOutput(pi, 12, 1000.0)
    with pytest.raises(ValueError):
        pilot.set_pwm(duty)
    assert pi.hardware[12] == (1000, 1_000_000)


@pytest.mark.parametrize("exceptions", [True, False])
@pytest.mark.parametrize(
    ("gpio", "frequency_hz", "text"),
    [
        (5, 1000.0, "GPIO has no hardware PWM"),
        (60, 1000.0, "GPIO not 0-53"),
        (12, 200e6, "invalid hardware PWM frequency"),
    ],
)
def test_pigpio_errors_become_bus_errors(
    pi: SimPigpio,
    monkeypatch: pytest.MonkeyPatch,
    exceptions: bool,
    gpio: int,
    frequency_hz: float,
    text: str,
) -> None:
    monkeypatch.setattr(pigpio, "exceptions", exceptions)  # raised by the client, or returned as a code
    with pytest.raises(BusError, match=text):
        PigpioPilotOutput(pi, gpio, frequency_hz)


def test_lost_daemon_connection_is_a_bus_error(pi: SimPigpio) -> None:
    pilot = PigpioPilotOutput(pi, 12, 1000.0)
    pi.stop()
    with pytest.raises(BusError, match="gpio 12"):
        pilot.set_high()


# -- sysfs ---------------------------------------------------------------------------------


@pytest.fixture
def chip_dir(tmp_path: Path) -> Path:
    """A pwmchip as the kernel shows it after `export`: a temp dir cannot create pwmN itself."""
    chip = tmp_path / "pwmchip0"
    (chip / "pwm1").mkdir(parents=True)
    (chip / "export").write_text("")
    for name, value in [("period", 2_000_000), ("duty_cycle", 1_500_000), ("enable", 1)]:
        (chip / "pwm1" / name).write_text(str(value))
    return chip


@pytest.fixture
def kernel_writes(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """Apply the kernel's rule to every attribute write (duty_cycle <= period at all times)."""
    writes: list[tuple[str, int]] = []
    write = pilot_pwm._write_attr

    def checked(path: Path, value: int) -> None:
        other = {"duty_cycle": "period", "period": "duty_cycle"}.get(path.name)
        if other is not None:
            current = int((path.parent / other).read_text())
            period, duty = (current, value) if path.name == "duty_cycle" else (value, current)
            if duty > period:
                raise OSError(errno.EINVAL, os.strerror(errno.EINVAL), str(path))
        writes.append((path.name, value))
        write(path, value)

    monkeypatch.setattr(pilot_pwm, "_write_attr", checked)
    return writes


def attrs(chip_dir: Path, channel: int) -> dict[str, int]:
    return {
        name: int((chip_dir / f"pwm{channel}" / name).read_text())
        for name in ("period", "duty_cycle", "enable")
    }


def test_sysfs_start_shrinks_the_period_with_duty_first(
    chip_dir: Path, kernel_writes: list[tuple[str, int]]
) -> None:
    SysfsPilotOutput(chip_dir, 1, 1000.0)  # 2 ms period with 1.5 ms duty -> 1 ms
    assert kernel_writes == [("duty_cycle", 0), ("period", 1_000_000), ("duty_cycle", 1_000_000), ("enable", 1)]
    assert attrs(chip_dir, 1) == {"period": 1_000_000, "duty_cycle": 1_000_000, "enable": 1}  # X1
    assert (chip_dir / "export").read_text() == ""  # already exported: left alone


def test_sysfs_duty_in_nanoseconds(chip_dir: Path, kernel_writes: list[tuple[str, int]]) -> None:
    pilot = SysfsPilotOutput(chip_dir, 1, 1000.0)
    for action, duty_ns in [
        (lambda: pilot.set_pwm(53.3), 533_000),
        (pilot.set_high, 1_000_000),
        (lambda: pilot.set_pwm(10.0), 100_000),
        (pilot.close, 0),
    ]:
        action()
        assert attrs(chip_dir, 1) == {"period": 1_000_000, "duty_cycle": duty_ns, "enable": 1}


def test_sysfs_exports_a_missing_channel(chip_dir: Path) -> None:
    with pytest.raises(BusError, match="pwm0: missing after exporting channel 0"):
        SysfsPilotOutput(chip_dir, 0, 1000.0)
    assert (chip_dir / "export").read_text() == "0"


def test_sysfs_write_errors_become_bus_errors(chip_dir: Path, kernel_writes: list[tuple[str, int]]) -> None:
    pilot = SysfsPilotOutput(chip_dir, 1, 1000.0)
    (chip_dir / "pwm1" / "duty_cycle").unlink()
    (chip_dir / "pwm1" / "duty_cycle").mkdir()  # EISDIR on write
    with pytest.raises(BusError, match="duty_cycle <- 1000000"):
        pilot.set_high()
    with pytest.raises(BusError, match="cannot export"):
        SysfsPilotOutput(chip_dir.parent / "pwmchip9", 0, 1000.0)
