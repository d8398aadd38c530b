"""The HAT builders: wiring from the board description, and clear errors on a machine without the HAT."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from appliance.board import BoardDescription
from appliance.drivers.hat import build_drivers, build_hardware_drivers
from appliance.drivers.interfaces import BusError, HatDrivers
from appliance.drivers.pilot_pwm import PigpioPilotOutput
from appliance.simulator.atm90e32 import PhaseQuantities, SimAtm90e32
from appliance.simulator.clock import SimClock
from appliance.simulator.gpio_sim import SimPinFactory
from appliance.simulator.mcp3208 import SimMcp3208
from appliance.simulator.pigpio_sim import SimPigpio
from appliance.simulator.spi_bus import SimSpiBus

IDLE = PhaseQuantities((0.0,) * 3, (0.0,) * 3, (1.0,) * 3, 50.0, 30.0)


def test_drivers_are_wired_as_the_board_describes(
    board: BoardDescription, clock: SimClock, bus: SimSpiBus
) -> None:
    bus.attach(0, 0, SimMcp3208(lambda ch, t: 1.0, board.adc.vref_v))
    for station in (1, 2):
        bus.attach(0, board.meter_cs(station), SimAtm90e32(lambda t: IDLE, clock))
    pi = SimPigpio(clock)
    outputs: list[tuple[int, bool, float]] = []
    drivers = build_drivers(
        board,
        spidev_factory=bus.spidev_factory,
        ioctl=bus.ioctl,
        pwm_factory=lambda gpio: PigpioPilotOutput(pi, gpio, board.pilot.pwm_frequency_hz),
        pin_factory=SimPinFactory(clock, lambda *e: outputs.append(e)),
        simulated=True,
    )
    assert isinstance(drivers, HatDrivers) and drivers.simulated
    assert drivers.adc.burst([0], 1) == [[1000]]
    for station, cs, pwm_gpio, contactor in [(1, 1, 12, 5), (2, 2, 13, 6)]:
        s = drivers.station(station)
        s.meter.start()
        assert bus.log[-1].cs == cs
        s.pilot.set_high()
        assert pi.hardware[pwm_gpio] == (1000, 1_000_000)
        s.io.set_contactor(True)
        assert outputs[-1][:2] == (contactor, True)
    drivers.watchdog.kick()
    assert outputs[-1][:2] == (4, True)
    assert {(r.cs, r.mode, r.speed_hz) for r in bus.log} == {
        (0, 0, 1_000_000),
        (1, 3, 200_000),
        (2, 3, 200_000),
    }


def test_pigpio_backend_without_a_daemon_says_so(
    board: BoardDescription, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("PIGPIO_ADDR", "127.0.0.1")
    monkeypatch.setenv("PIGPIO_PORT", str(port))
    with pytest.raises(BusError, match=f"pigpiod is not reachable at 127.0.0.1:{port}"):
        build_hardware_drivers(board, "pigpio")


@pytest.mark.skipif(Path("/dev/spidev0.0").exists(), reason="this machine has an SPI bus")
def test_sysfs_backend_without_spi_says_so(board: BoardDescription, tmp_path: Path) -> None:
    with pytest.raises(BusError, match=r"/dev/spidev0\.0: cannot open"):
        build_hardware_drivers(board, "sysfs", pwm_chip=tmp_path)


def test_unknown_backend_is_refused(board: BoardDescription) -> None:
    with pytest.raises(ValueError, match="unknown PWM backend"):
        build_hardware_drivers(board, "wiringpi")  # type: ignore[arg-type]
