"""The supervisor's picture of each station, kept current from the pilot's events."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

CHARGING_THRESHOLD_A = 1.0
LINE_PHASES = (1, 2, 3)


@dataclass
class LiveStation:
    station: int
    state: str = "A"
    pilot: str = "X1"
    offered_a: float = 0.0
    requested_a: float = 0.0
    allowed: bool = False
    contactor: bool = False
    cable_a: float | None = None
    max_current_a: float = 32.0
    faults: list[dict[str, Any]] = field(default_factory=list)
    voltage_v: list[float] = field(default_factory=lambda: [0.0, 0.0, 0.0])
    current_a: list[float] = field(default_factory=lambda: [0.0, 0.0, 0.0])
    power_w: list[float] = field(default_factory=lambda: [0.0, 0.0, 0.0])
    energy_wh: float = 0.0
    updated: float = 0.0
    phases_seen: set[int] = field(default_factory=set)  # station phases (1..3) that carried current this plug-in
    line_phases: tuple[int, ...] | None = None  # line phases the pilot counts the car on; None: it checks the plain sum

    @property
    def plugged(self) -> bool:
        return self.state in ("B", "C", "D")

    @property
    def blocking_faults(self) -> list[dict[str, Any]]:
        return [f for f in self.faults if f.get("blocking", True)]

    @property
    def charging(self) -> bool:
        return self.contactor and max(self.current_a) > CHARGING_THRESHOLD_A

    @property
    def power_total_w(self) -> float:
        return sum(self.power_w)

    @property
    def counted_line_phases(self) -> tuple[int, ...]:
        """The line phases the pilot's line check counts this station on: all three for a pilot
        that checks the plain sum of both stations."""
        return self.line_phases if self.line_phases is not None else LINE_PHASES

    def car_phases(self) -> int:
        """1 or 3: what the car has shown it uses; 3 until it has drawn current."""
        return 1 if self.phases_seen == {1} else 3

    def update(self, snap: dict[str, Any], now: float) -> None:
        was_plugged = self.plugged
        for key in ("state", "pilot", "offered_a", "requested_a", "allowed", "contactor", "cable_a", "max_current_a",
                    "faults", "voltage_v", "current_a", "power_w", "energy_wh"):
            if key in snap:
                setattr(self, key, snap[key])
        if "line_phases" in snap:
            self.line_phases = _line_phases(snap["line_phases"])
        self.updated = now
        if not self.plugged or not was_plugged:
            self.phases_seen = set()
        if self.contactor:
            self.phases_seen |= {i + 1 for i, amps in enumerate(self.current_a) if amps > CHARGING_THRESHOLD_A}


def _line_phases(value: Any) -> tuple[int, ...]:
    """The pilot's counted line phases; anything odd counts as all three."""
    phases = tuple(p for p in LINE_PHASES if isinstance(value, list) and p in value)
    return phases or LINE_PHASES
