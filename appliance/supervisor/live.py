"""The supervisor's picture of each station: the pilot's latest snapshot and what follows from it."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import Field

from appliance.protocol import FaultInfo, StationSnapshot

CHARGING_THRESHOLD_A = 1.0


@dataclass
class GridReading:
    """External meter: grid power per line phase (W, positive = import) at time t."""

    t: float
    power_w: tuple[float, float, float]


class LiveStation(StationSnapshot):
    """A station's snapshot from the pilot (the protocol's fields, named there only) plus what the
    supervisor keeps across snapshots."""

    updated: float = 0.0
    phases_seen: set[int] = Field(default_factory=set, description="station phases that carried current this plug-in")

    @property
    def plugged(self) -> bool:
        return self.state in ("B", "C", "D")

    @property
    def blocking_faults(self) -> list[FaultInfo]:
        return [f for f in self.faults if f.blocking]

    @property
    def charging(self) -> bool:
        return self.contactor and max(self.current_a) > CHARGING_THRESHOLD_A

    @property
    def power_total_w(self) -> float:
        return sum(self.power_w)

    @property
    def counted_line_phases(self) -> tuple[int, ...]:
        """The line phases the pilot's line check counts this station on."""
        return tuple(self.line_phases)

    def car_phases(self) -> int:
        """1 or 3: what the car has shown it uses; 3 until it has drawn current."""
        return 1 if self.phases_seen == {1} else 3

    def update(self, snap: StationSnapshot, now: float) -> None:
        was_plugged = self.plugged
        for name in StationSnapshot.model_fields:
            setattr(self, name, getattr(snap, name))
        self.updated = now
        if not self.plugged or not was_plugged:
            self.phases_seen = set()
        if self.contactor:
            self.phases_seen |= {i + 1 for i, amps in enumerate(self.current_a) if amps > CHARGING_THRESHOLD_A}
