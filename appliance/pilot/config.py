"""Installation limits and timings the pilot process enforces, whatever the supervisor says."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

from appliance.errors import InvalidInput
from appliance.j1772.duty import MIN_CURRENT_A
from appliance.tomlfile import parse_model
from appliance.wiring import PhaseRotation, StationId


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class StationConfig(_Strict):
    id: StationId
    max_current_a: float = Field(default=32.0, ge=MIN_CURRENT_A, le=80, description="station rating")
    phase_rotation: PhaseRotation = Field(default=(1, 2, 3), description="line phase of the station's L1, L2, L3")
    ventilation: bool = Field(default=False, description="the site can ventilate: state D may charge")
    tethered: bool = Field(default=False, description="fixed cable: no PP check, cable rated for the station")



class Timing(_Strict):
    """IEC 61851-1 Table A.6 and friends; defaults are the spec's numbers."""

    loop_period_s: float = Field(default=0.010, gt=0, le=0.05)
    debounce_readings: int = Field(default=3, ge=1)
    out_of_band_fault_s: float = 1.0
    duty_increase_interval_s: float = 5.0
    pwm_off_open_s: float = Field(default=5.5, le=6.0, description="X2->C1: open this long after PWM stopped")
    supervisor_timeout_s: float = 5.0
    wakeup_after_s: float = 30.0
    wakeup_f_s: float = 4.0
    fault_f_hold_s: float = 3.0
    rcd_retry_s: float = 900.0
    rcd_max_retries: int = 3
    rcd_test_timeout_s: float = 0.2
    weld_detect_s: float = 1.0
    over_current_s: float = 7.0
    meter_period_s: float = 0.1
    bus_error_ticks: int = 3
    adc_stuck_s: float = 0.5
    unplug_confirm_s: float = Field(
        default=1.0, gt=0, description="state A (and no cable on PP) this long before latches release"
    )
    min_off_s: float = Field(
        default=3.0, ge=3.0, description="a contactor stays open at least this long before it closes again"
    )
    rcd_release_s: float = Field(
        default=0.005, gt=0, description="the RCD module's output clears this soon after its test input"
    )
    contactor_settle_s: float = Field(
        default=0.2, gt=0, description="after a command, the contacts' feedback must agree within this"
    )
    contactor_voltage_s: float = Field(
        default=1.0, gt=0, description="commanded closed with no car-side voltage this long: dropped"
    )
    contactor_retry_s: float = 10.0
    contactor_max_retries: int = 3


class PilotConfig(_Strict):
    line_limit_a: float = Field(
        default=32.0, ge=MIN_CURRENT_A, le=80, description="supply line per-phase limit (the fuse)"
    )
    failsafe_current_a: float | None = Field(default=None, ge=0, description="offer while the supervisor is silent")
    derate_temperature_c: float = 65.0
    pause_temperature_c: float = 75.0
    stations: list[StationConfig] = Field(default_factory=lambda: [StationConfig(id=1), StationConfig(id=2)])
    timing: Timing = Field(default_factory=Timing)

    @field_validator("stations")
    @classmethod
    def _unique_ids(cls, v: list[StationConfig]) -> list[StationConfig]:
        if len({s.id for s in v}) != len(v):
            raise ValueError("station ids must be unique")
        return sorted(v, key=lambda s: s.id)

    def station(self, station_id: int) -> StationConfig:
        return next(s for s in self.stations if s.id == station_id)

    def failsafe_for(self, line_limit_a: float) -> float:
        """One station's current while the supervisor is silent.

        Default: half the line limit, at least 6 A where the line allows it, else 0 (pause).
        The engine shares the line between the stations, so both together stay within it.
        """
        amps = self.failsafe_current_a if self.failsafe_current_a is not None else max(line_limit_a / 2, MIN_CURRENT_A)
        amps = min(amps, line_limit_a)
        return amps if amps >= MIN_CURRENT_A else 0.0


class ConfigError(InvalidInput):
    pass


def load_pilot_config(path: Path | None) -> PilotConfig:
    """Read the pilot's TOML configuration; a clear error names the key that is wrong."""
    if path is None:
        return PilotConfig()
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from exc
    return parse_model(PilotConfig, text, str(path), ConfigError)
