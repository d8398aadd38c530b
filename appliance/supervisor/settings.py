"""What the user sets: the site's limits and each station's mode, priority and caps."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, model_validator

from appliance.j1772.duty import MIN_CURRENT_A
from appliance.supervisor.allocation.modes import Mode
from appliance.wiring import PhaseRotation, StationId


class StationSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: StationId
    name: str = Field(default="", max_length=40)
    mode: Mode = Mode.ON
    priority: int = Field(default=0, ge=-100, le=100)
    max_current_a: float = Field(
        default=32.0, ge=MIN_CURRENT_A, le=80, description="user cap, never above the station rating"
    )
    rating_a: float = Field(default=32.0, ge=MIN_CURRENT_A, le=80, description="the station's hardware rating")
    phase_rotation: PhaseRotation = (1, 2, 3)
    departure: float | None = Field(default=None, description="low_cost: leave at this time (epoch s)")
    energy_kwh: float | None = Field(default=None, gt=0, le=200, description="low_cost: energy wanted by departure")

    def display_name(self) -> str:
        return self.name or f"Station {self.id}"


class ManualPrices(BaseModel):
    """Prices arrive only over the REST API (PUT /api/v1/prices)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["manual"] = "manual"


class UrlPrices(BaseModel):
    """The supervisor fetches the prices itself, every `refresh_s`.

    `evse`: JSON [{"start": epoch s, "end": epoch s, "price": per kWh}].
    `awattar`: market prices, {"data": [{"start_timestamp": ms, "end_timestamp": ms,
    "marketprice": EUR/MWh}]}; a kWh then costs (marketprice / 1000 + surcharge) * factor,
    so grid fees and levies go into `surcharge` and VAT into `factor`.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    kind: Literal["url"]
    url: HttpUrl = Field(description="http or https")
    format: Literal["evse", "awattar"] = "evse"
    refresh_s: int = Field(default=3600, ge=300, le=86400, description="seconds between fetches")
    surcharge: float = Field(default=0.0, ge=-10, le=10, description="awattar: per kWh, added to the market price")
    factor: float = Field(default=1.0, gt=0, le=10, description="awattar: multiplies the sum, e.g. 1.19 for VAT")

    @model_validator(mode="after")
    def _market_only(self) -> UrlPrices:
        if self.format != "awattar" and (self.surcharge != 0.0 or self.factor != 1.0):
            raise ValueError("surcharge and factor apply to the awattar format only; evse prices are final")
        return self


PriceSource = Annotated[ManualPrices | UrlPrices, Field(discriminator="kind")]


class SiteSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    line_limit_a: float = Field(default=32.0, ge=MIN_CURRENT_A, le=80, description="per line phase")
    voltage_v: float = Field(default=230.0, ge=100, le=260)
    price_threshold: float | None = Field(default=None, description="low_cost: charge when the price is at or below")
    price_source: PriceSource = Field(default=ManualPrices(), description="where low-cost prices come from")
    read_only_without_login: bool = False
    telemetry_retention_days: int = Field(default=30, ge=1, le=3650)
    stations: list[StationSettings] = Field(default_factory=lambda: [StationSettings(id=1), StationSettings(id=2)])

    def station(self, station_id: int) -> StationSettings:
        return next(s for s in self.stations if s.id == station_id)
