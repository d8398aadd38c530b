"""The public scenario format (SPEC §7). Stable: tests outside the repo use it."""

from __future__ import annotations

from typing import Literal, NoReturn

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_core import InitErrorDetails

from appliance.j1772.duty import MIN_CURRENT_A
from appliance.simulator.car import CarSpec
from appliance.supervisor.allocation.modes import Mode
from appliance.supervisor.api.schemas import PriceSlot
from appliance.wiring import PhaseRotation, StationId

# Actions of the car plugged into the station: they need one there at that time.
CAR_ACTIONS = {"request", "stop", "unplug", "vent", "draw", "switch_phases", "sleep", "pp_open"}
STATION_ACTIONS = CAR_ACTIONS | {"plug", "rcd_fault", "weld", "meter_loss", "set_mode", "set_priority",
                                 "adc_glitch", "adc_channel_stuck", "contactor_drop"}
SITE_ACTIONS = {"adc_stuck", "spi_error", "supervisor_kill", "set_limit", "loop_stall"}
# Keys an action cannot do without.
NEEDS: dict[str, tuple[str, ...]] = {
    "plug": ("car",),
    "draw": ("limit_a",),
    "switch_phases": ("phases",),
    "rcd_fault": ("kind",),
    "supervisor_kill": ("seconds",),
    "set_mode": ("mode",),
    "set_priority": ("priority",),
    "set_limit": ("line_limit_a",),
    "adc_glitch": ("channel", "volts"),
    "adc_channel_stuck": ("channel",),
    "contactor_drop": ("seconds",),
    "loop_stall": ("seconds",),
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Site(_Strict):
    line_limit_a: float = Field(default=32.0, ge=MIN_CURRENT_A, le=80)
    voltage_v: float = Field(default=230.0, gt=0, le=300)
    price_threshold: float | None = Field(default=None, description="low_cost: charge at or below this price")
    prices: list[PriceSlot] = Field(default_factory=list)
    solar_w: list[tuple[float, float]] = Field(default_factory=list)


class StationSetup(_Strict):
    id: StationId
    max_current_a: float = Field(default=32.0, ge=MIN_CURRENT_A, le=80)
    phase_rotation: PhaseRotation = (1, 2, 3)
    ventilation: bool = False
    tethered: bool = False
    mode: Mode = Mode.ON
    priority: int = 0


class Event(_Strict):
    at: float = Field(ge=0)
    do: str
    station: StationId | None = None
    car: CarSpec | None = None
    limit_a: float | None = Field(default=None, ge=0)
    phases: Literal[1, 3] | None = Field(
        default=None, description="switch_phases: conductors the car draws on from then on"
    )
    kind: Literal["dc", "ac"] | None = None
    seconds: float | None = Field(default=None, gt=0)
    mode: Mode | None = None
    departure: float | None = Field(default=None, ge=0)
    energy_kwh: float | None = Field(default=None, gt=0)
    priority: int | None = None
    line_limit_a: float | None = Field(default=None, ge=0, le=80)
    channel: Literal["cp_high", "cp_low", "pp"] | None = None
    volts: float | None = Field(default=None, allow_inf_nan=False,
                                description="adc_glitch: pilot volts for cp_high/cp_low, the PP sense node for pp")
    ticks: int = Field(default=1, ge=1, description="adc_glitch: consecutive conversions that read `volts`")

    @field_validator("do")
    @classmethod
    def _known_action(cls, do: str) -> str:
        if do not in STATION_ACTIONS | SITE_ACTIONS:
            raise ValueError(f"unknown action {do!r}; one of {', '.join(sorted(STATION_ACTIONS | SITE_ACTIONS))}")
        return do

    @model_validator(mode="after")
    def _fits_action(self) -> Event:
        if self.do in STATION_ACTIONS and self.station is None:
            raise ValueError(f"action {self.do!r} needs a station")
        for key in NEEDS.get(self.do, ()):
            if getattr(self, key) is None:
                raise ValueError(f"action {self.do!r} needs {key}")
        return self


class Scenario(_Strict):
    site: Site = Field(default_factory=Site)
    station: list[StationSetup] = Field(default_factory=list)
    event: list[Event] = Field(default_factory=list)

    @model_validator(mode="after")
    def _unique_stations(self) -> Scenario:
        ids = [s.id for s in self.station]
        if len(ids) != len(set(ids)):
            raise ValueError("station ids must be unique")
        return self

    @model_validator(mode="after")
    def _events_can_happen(self) -> Scenario:
        """Played in time order (file order at equal times), a car action needs a car plugged in
        then, and a plug needs a free station."""
        plugged: set[int | None] = set()
        for index, ev in sorted(enumerate(self.event), key=lambda item: item[1].at):
            if ev.do == "plug" and ev.station in plugged:
                _event_error(index, ev, f"station {ev.station} already has a car plugged in at {ev.at:g} s")
            if ev.do in CAR_ACTIONS and ev.station not in plugged:
                _event_error(index, ev, f"{ev.do!r} at {ev.at:g} s: no car is plugged into station {ev.station} then")
            if ev.do == "plug":
                plugged.add(ev.station)
            elif ev.do == "unplug":
                plugged.discard(ev.station)
        return self

    def setup(self, station_id: int) -> StationSetup:
        return next((s for s in self.station if s.id == station_id), StationSetup(id=station_id))


def _event_error(index: int, ev: Event, message: str) -> NoReturn:
    """Raise at `event.<index>.do`, so the file's error names the event's own line."""
    raise ValidationError.from_exception_data(
        "Scenario", [InitErrorDetails(type="value_error", loc=("event", index, "do"), input=ev.do,
                                      ctx={"error": ValueError(message)})])
