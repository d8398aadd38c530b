"""What the engine reports: every state, fault and output change, with the time it happened."""

from __future__ import annotations

from dataclasses import dataclass

from appliance.j1772.faults import FaultCode
from appliance.j1772.states import PilotMode, VehicleState


@dataclass(frozen=True)
class StateChanged:
    t: float
    station: int
    old: VehicleState
    new: VehicleState


@dataclass(frozen=True)
class FaultChanged:
    t: float
    station: int
    code: FaultCode
    active: bool
    message: str


@dataclass(frozen=True)
class OutputChanged:
    t: float
    station: int
    pilot: PilotMode
    duty_pct: float | None
    offered_a: float
    contactor: bool


Event = StateChanged | FaultChanged | OutputChanged
