"""What the user sets: the site's limits and each station's mode, priority and caps."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

Mode = Literal["off", "on", "low_cost", "solar", "min_solar"]


class StationSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: int = Field(ge=1, le=2)
    name: str = Field(default="", max_length=40)
    mode: Mode = "on"
    priority: int = Field(default=0, ge=-100, le=100)
    max_current_a: float = Field(default=32.0, ge=6, le=80, description="user cap, never above the station rating")
    rating_a: float = Field(default=32.0, ge=6, le=80, description="the station's hardware rating")
    phase_rotation: tuple[int, int, int] = (1, 2, 3)
    departure: float | None = Field(default=None, description="low_cost: leave at this time (epoch s)")
    energy_kwh: float | None = Field(default=None, gt=0, le=200, description="low_cost: energy wanted by departure")

    @field_validator("phase_rotation")
    @classmethod
    def _permutation(cls, v: tuple[int, int, int]) -> tuple[int, int, int]:
        if sorted(v) != [1, 2, 3]:
            raise ValueError("phase_rotation must be a permutation of [1, 2, 3]")
        return v

    def display_name(self) -> str:
        return self.name or f"Station {self.id}"


class SiteSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    line_limit_a: float = Field(default=32.0, ge=6, le=80, description="per line phase")
    voltage_v: float = Field(default=230.0, ge=100, le=260)
    price_threshold: float | None = Field(default=None, description="low_cost: charge when the price is at or below")
    read_only_without_login: bool = False
    telemetry_retention_days: int = Field(default=30, ge=1, le=3650)
    stations: list[StationSettings] = Field(default_factory=lambda: [StationSettings(id=1), StationSettings(id=2)])

    def station(self, station_id: int) -> StationSettings:
        return next(s for s in self.stations if s.id == station_id)
