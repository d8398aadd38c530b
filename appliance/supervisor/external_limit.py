"""An energy manager's limit on the whole site (SPEC §5): per-phase amps and/or total watts,
lapsing at its expiry.

One mechanism whatever channel brought it (REST and MQTT now, OCPP later): the channel only
fills in `source`, and the core applies every limit the same way. The limit caps what the
stations draw together; the site's own line limit still holds under it.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

Source = Literal["rest", "ocpp", "mqtt"]

MAX_CURRENT_A = 1000.0
MAX_POWER_W = 1_000_000.0
ALL_PHASES = (1, 2, 3)

Amps = Annotated[float, Field(ge=0, le=MAX_CURRENT_A)]


class ExternalLimit(BaseModel):
    """What an energy manager allows the site now; 0 A or 0 W means no charging."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    source: Source = Field(description="the channel that set it")
    current_a: tuple[Amps, Amps, Amps] | None = Field(default=None, description="per line phase L1, L2, L3")
    power_w: float | None = Field(default=None, ge=0, le=MAX_POWER_W, description="all stations' phases together")
    set_at: float = Field(ge=0, description="epoch seconds")
    expires_at: float | None = Field(default=None, description="epoch seconds; null: until cleared")

    @model_validator(mode="after")
    def _meaningful(self) -> ExternalLimit:
        if self.current_a is None and self.power_w is None:
            raise ValueError("give current_a, power_w or both")
        if self.expires_at is not None and self.expires_at <= self.set_at:
            raise ValueError("expires_at must be after set_at")
        return self

    def active(self, now: float) -> bool:
        return self.expires_at is None or now < self.expires_at

    def per_phase_a(self, voltage_v: float, phases: Collection[int]) -> tuple[float, float, float]:
        """The amps the stations may share on each line phase L1..L3 while `phases` are the ones the
        cars load: watts spread evenly over those phases, so however the cars split their load
        the total stays within the watts."""
        used = sorted(set(phases)) or list(ALL_PHASES)
        watts_a = self.power_w / (voltage_v * len(used)) if self.power_w is not None else MAX_CURRENT_A
        amps = self.current_a if self.current_a is not None else (MAX_CURRENT_A,) * 3
        return (min(amps[0], watts_a), min(amps[1], watts_a), min(amps[2], watts_a))

    def cap_a(self, voltage_v: float, phases: Collection[int]) -> float:
        """The per-phase amps the stations may share on `phases` (the line phases the cars load):
        the lowest of those phases' limits."""
        per_phase = self.per_phase_a(voltage_v, phases)
        return min(per_phase[p - 1] for p in (sorted(set(phases)) or ALL_PHASES))

    def describe(self, format_time: Callable[[float], str]) -> str:
        """E.g. "16 A until 14:05", "20/20/16 A and 9 kW": what the user reads in a reason."""
        parts = []
        if self.current_a is not None:
            amps = {f"{a:g}" for a in self.current_a}
            parts.append(f"{amps.pop()} A" if len(amps) == 1 else "/".join(f"{a:g}" for a in self.current_a) + " A")
        if self.power_w is not None:
            parts.append(f"{self.power_w / 1000:g} kW")
        until = "" if self.expires_at is None else f" until {format_time(self.expires_at)}"
        return " and ".join(parts) + until
