"""Load and validate `hat/board.toml`, the single source of truth for the HAT's wiring."""

from __future__ import annotations

import tomllib
from functools import lru_cache
from importlib import resources
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class BoardInfo(_Strict):
    vendor: str
    product: str
    product_id: int
    product_version: int
    overlay: str
    stations: int = Field(ge=1, le=2)


class PeakDetector(_Strict):
    hold_capacitor_f: float = Field(gt=0)
    bleed_resistor_ohm: float = Field(gt=0)

    @property
    def tau_s(self) -> float:
        return self.hold_capacitor_f * self.bleed_resistor_ohm


class LevelShift(_Strict):
    input_ohm: float = Field(gt=0)
    bias_ohm: float = Field(gt=0)
    ground_ohm: float = Field(gt=0)


class Pilot(_Strict):
    pwm_frequency_hz: float = Field(gt=0)
    rail_v: float = Field(gt=0)
    source_resistance_ohm: float = Field(gt=0)
    car_diode_drop_v: float = Field(ge=0)
    peak_detector: PeakDetector
    level_shift: LevelShift


class Proximity(_Strict):
    pullup_ohm: float = Field(gt=0)
    pullup_to: str


class RailMonitor(_Strict):
    top_ohm: float = Field(gt=0)
    bottom_ohm: float = Field(gt=0)
    nominal_v: float
    tolerance_pct: float


class Temperature(_Strict):
    sensor: str
    offset_v: float
    slope_v_per_c: float


class AdcChannels(_Strict):
    cp_high_1: int
    cp_low_1: int
    pp_1: int
    cp_high_2: int
    cp_low_2: int
    pp_2: int
    rail_12v: int
    temperature: int


class Adc(_Strict):
    chip: str
    spi_bus: int
    spi_cs: int
    spi_mode: int
    max_speed_hz: int
    bits: int
    vref_v: float
    channels: AdcChannels

    @property
    def full_scale(self) -> int:
        return 1 << self.bits


class MeterDevice(_Strict):
    station: int
    spi_cs: int


class Meter(_Strict):
    chip: str
    spi_bus: int
    spi_mode: int
    max_speed_hz: int
    line_frequency_hz: float
    mmode0: int
    mmode1: int
    pl_constant: int
    ugain: int
    igain: int
    energy_lsb_wh: float
    devices: tuple[MeterDevice, ...]


class Contactor(_Strict):
    operate_ms: float
    release_ms: float
    weld_voltage_v: float
    aux_active_high: bool


class Watchdog(_Strict):
    timeout_ms: float


class Rcd(_Strict):
    module: str
    fault_active_high: bool
    test_pulse_ms: float


class StationPins(_Strict):
    station: int
    pilot_pwm: int
    contactor: int
    contactor_aux: int
    rcd_fault_dc: int
    rcd_fault_ac: int
    rcd_test: int
    status_led: int


class Gpio(_Strict):
    spi_ce2: int
    watchdog_kick: int
    stations: tuple[StationPins, ...]


class Eeprom(_Strict):
    chip: str
    i2c_address: int


class BoardDescription(_Strict):
    board: BoardInfo
    pilot: Pilot
    proximity: Proximity
    rail_monitor: RailMonitor
    temperature: Temperature
    adc: Adc
    meter: Meter
    contactor: Contactor
    watchdog: Watchdog
    rcd: Rcd
    gpio: Gpio
    eeprom: Eeprom

    @model_validator(mode="after")
    def _stations_complete(self) -> BoardDescription:
        wanted = set(range(1, self.board.stations + 1))
        if {p.station for p in self.gpio.stations} != wanted:
            raise ValueError(f"gpio.stations must list stations {sorted(wanted)}")
        if {m.station for m in self.meter.devices} != wanted:
            raise ValueError(f"meter.devices must list stations {sorted(wanted)}")
        return self

    def pins(self, station: int) -> StationPins:
        return next(p for p in self.gpio.stations if p.station == station)

    def meter_cs(self, station: int) -> int:
        return next(m.spi_cs for m in self.meter.devices if m.station == station)

    def adc_channel(self, signal: str, station: int | None = None) -> int:
        """ADC channel of a signal: `adc_channel("cp_high", 1)` or `adc_channel("rail_12v")`."""
        name = signal if station is None else f"{signal}_{station}"
        return int(getattr(self.adc.channels, name))


def parse_board(text: str) -> BoardDescription:
    return BoardDescription.model_validate(tomllib.loads(text))


@lru_cache(maxsize=4)
def load_board(path: Path | None = None) -> BoardDescription:
    """The board description shipped with the package, or one at `path`."""
    if path is None:
        text = resources.files("appliance.board").joinpath("board.toml").read_text(encoding="utf-8")
    else:
        text = Path(path).read_text(encoding="utf-8")
    return parse_board(text)
