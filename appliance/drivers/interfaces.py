"""The board-support contract: what the pilot process needs from the HAT.

The pilot controller talks only to these interfaces; `appliance.drivers.hat` builds them
from real buses or from the simulated HAT.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from appliance.errors import BusError as BusError  # raised by every driver; defined with the other errors


class PilotOutput(Protocol):
    """One station's pilot generator (the op-amp follows the GPIO: high = +12 V, low = -12 V)."""

    def set_pwm(self, duty_pct: float) -> None:
        """1 kHz PWM with `duty_pct` percent high time (state X2)."""

    def set_high(self) -> None:
        """Constant +12 V (state X1)."""

    def set_low(self) -> None:
        """Constant -12 V (state F)."""

    def close(self) -> None: ...


class AdcReader(Protocol):
    def burst(self, channels: Sequence[int], repeats: int) -> list[list[int]]:
        """`repeats` conversions of each channel in `channels`, interleaved, in one bus call.

        Returns one list of raw counts per channel, in the order of `channels`.
        Raises BusError.
        """


@dataclass
class MeterReading:
    """One station's metering IC, per phase L1..L3 of the station."""

    voltage_v: tuple[float, float, float]
    current_a: tuple[float, float, float]
    power_w: tuple[float, float, float]
    power_factor: tuple[float, float, float]
    frequency_hz: float
    energy_wh: float  # import energy since the driver started (accumulated from the chip)
    temperature_c: float


class Meter(Protocol):
    def start(self) -> None:
        """Reset, calibrate and enable the chip. Raises BusError."""

    def read(self) -> MeterReading:
        """Raises BusError when the chip does not answer or answers implausibly."""


class StationIo(Protocol):
    """A station's GPIO lines."""

    def set_contactor(self, closed: bool) -> None: ...

    def set_rcd_test(self, active: bool) -> None: ...

    def rcd_fault(self) -> tuple[bool, bool]:
        """(dc, ac) fault lines now, or latched since the last call (edges are never missed)."""

    def contactor_aux(self) -> bool:
        """True when the auxiliary contact reports the main contacts closed."""

    def set_led(self, on: bool) -> None: ...

    def close(self) -> None: ...


class WatchdogKick(Protocol):
    def kick(self) -> None:
        """One edge on the hardware watchdog's trigger line."""


@dataclass
class StationDrivers:
    station: int
    pilot: PilotOutput
    meter: Meter
    io: StationIo


@dataclass
class HatDrivers:
    """Everything the pilot controller drives, for all stations."""

    adc: AdcReader
    watchdog: WatchdogKick
    stations: list[StationDrivers] = field(default_factory=list)
    simulated: bool = False

    def station(self, station: int) -> StationDrivers:
        return next(s for s in self.stations if s.station == station)
