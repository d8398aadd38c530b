"""Build the HAT's drivers from the board description, on real buses or on the simulated HAT.

`build_drivers` does the wiring for both; the simulator passes its bus, PWM and pin
factory, `build_hardware_drivers` passes the kernel's and the daemon's.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Literal

import spidev
from gpiozero.pins import Factory

from appliance.board.description import BoardDescription
from appliance.drivers.atm90e32 import Atm90e32
from appliance.drivers.gpio import GpioStationIo, GpioWatchdogKick
from appliance.drivers.interfaces import BusError, HatDrivers, PilotOutput, StationDrivers
from appliance.drivers.mcp3208 import Mcp3208
from appliance.drivers.pilot_pwm import PigpioConnection, PigpioPilotOutput, SysfsPilotOutput
from appliance.drivers.spi import IoctlFn, SpiDevLike, SpiPort

DEFAULT_PWM_CHIP = Path("/sys/class/pwm/pwmchip0")
# GPIO12/13 are channels 0/1 of the BCM283x PWM and of the Pi 5's RP1 PWM alike.
SYSFS_PWM_CHANNEL = {12: 0, 13: 1}
# At start-up pigpiod may still be busy starting; in the control loop a reconnect gets far less.
PIGPIO_STARTUP_TIMEOUT_S = 2.0


def build_drivers(
    board: BoardDescription,
    *,
    spidev_factory: Callable[[], SpiDevLike],
    ioctl: IoctlFn,
    pwm_factory: Callable[[int], PilotOutput],
    pin_factory: Factory | None,
    simulated: bool,
) -> HatDrivers:
    def port(bus: int, cs: int, mode: int, speed_hz: int) -> SpiPort:
        return SpiPort(bus, cs, mode, speed_hz, spidev_factory, ioctl)

    adc_cfg, meter_cfg = board.adc, board.meter
    adc = Mcp3208(port(adc_cfg.spi_bus, adc_cfg.spi_cs, adc_cfg.spi_mode, adc_cfg.max_speed_hz))
    stations = []
    for pins in board.gpio.stations:
        meter_port = port(
            meter_cfg.spi_bus, board.meter_cs(pins.station), meter_cfg.spi_mode, meter_cfg.max_speed_hz
        )
        stations.append(
            StationDrivers(
                station=pins.station,
                pilot=pwm_factory(pins.pilot_pwm),
                meter=Atm90e32(meter_port, meter_cfg),
                io=GpioStationIo(pins, board.rcd.fault_active_high, board.contactor.aux_active_high, pin_factory),
            )
        )
    watchdog = GpioWatchdogKick(board.gpio.watchdog_kick, pin_factory)
    return HatDrivers(adc=adc, watchdog=watchdog, stations=stations, simulated=simulated)


def build_hardware_drivers(
    board: BoardDescription,
    backend: Literal["pigpio", "sysfs"] = "pigpio",
    *,
    pwm_chip: Path = DEFAULT_PWM_CHIP,
) -> HatDrivers:
    """Drivers on the Pi: spidev, gpiozero's default pins, PWM from pigpiod or sysfs."""
    frequency_hz = board.pilot.pwm_frequency_hz
    pwm_factory: Callable[[int], PilotOutput]
    if backend == "pigpio":
        host, port = os.getenv("PIGPIO_ADDR", "localhost"), int(os.getenv("PIGPIO_PORT", "8888"))
        connection = PigpioConnection(host, port)
        try:
            connection.connect(timeout_s=PIGPIO_STARTUP_TIMEOUT_S)
        except BusError as e:
            raise BusError(
                f"pigpiod is not reachable at {host}:{port}: "
                "start it (`sudo pigpiod -l`) or use the sysfs PWM backend"
            ) from e
        pwm_factory = partial(PigpioPilotOutput, connection, frequency_hz=frequency_hz)
    elif backend == "sysfs":
        pwm_factory = partial(_sysfs_pilot, pwm_chip, frequency_hz)
    else:
        raise ValueError(f"unknown PWM backend {backend!r}: use 'pigpio' or 'sysfs'")
    return build_drivers(
        board,
        spidev_factory=spidev.SpiDev,
        ioctl=fcntl.ioctl,
        pwm_factory=pwm_factory,
        pin_factory=None,
        simulated=False,
    )


def _sysfs_pilot(chip_dir: Path, frequency_hz: float, gpio: int) -> SysfsPilotOutput:
    if gpio not in SYSFS_PWM_CHANNEL:
        raise BusError(f"GPIO{gpio} has no hardware PWM channel; the pilot needs GPIO12 or GPIO13")
    return SysfsPilotOutput(chip_dir, SYSFS_PWM_CHANNEL[gpio], frequency_hz)
