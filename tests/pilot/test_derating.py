"""TemperatureDerating: half the current from 65 °C, none from 75 °C, 5 °C hysteresis (SPEC §3)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from appliance.j1772.faults import FaultCode
from appliance.pilot.derating import TemperatureDerating
from appliance.pilot.events import Event, FaultChanged
from appliance.pilot.faultset import FaultSet
from appliance.pilot.logring import LogRing

DERATE_C = 65.0
PAUSE_C = 75.0
OT = FaultCode.OVER_TEMPERATURE


@dataclass
class Board:
    derating: TemperatureDerating
    faults: FaultSet
    events: list[Event] = field(default_factory=list)

    def at(self, now: float, temperature_c: float) -> float:
        return self.derating.update(now, temperature_c, DERATE_C, PAUSE_C)

    def ot_events(self) -> list[tuple[float, bool, str]]:
        return [(e.t, e.active, e.message) for e in self.events if isinstance(e, FaultChanged) and e.code is OT]


@pytest.fixture
def board() -> Board:
    events: list[Event] = []
    faults = FaultSet(1, events.append, LogRing())
    return Board(TemperatureDerating(faults), faults, events)


@pytest.mark.parametrize(
    ("temperature_c", "factor", "message"),
    [
        (25.0, 1.0, None),
        (64.9, 1.0, None),
        (65.0, 0.5, "board at 65 °C: current halved"),
        (74.9, 0.5, "board at 75 °C: current halved"),
        (75.0, 0.0, "board at 75 °C: charging paused"),
        (90.0, 0.0, "board at 90 °C: charging paused"),
    ],
)
def test_factor_at_temperature(board: Board, temperature_c: float, factor: float, message: str | None) -> None:
    assert board.at(1.0, temperature_c) == factor
    assert board.ot_events() == ([] if message is None else [(1.0, True, message)])


def test_a_new_step_is_reported_again(board: Board) -> None:
    board.at(1.0, 66.0)
    board.at(2.0, 66.0)
    board.at(3.0, 76.0)
    board.at(4.0, 70.0)
    assert board.ot_events() == [
        (1.0, True, "board at 66 °C: current halved"),
        (3.0, True, "board at 76 °C: charging paused"),
        (4.0, True, "board at 70 °C: current halved"),
    ]
    assert board.faults.active[OT].since == 1.0


@pytest.mark.parametrize(
    ("cooled_to_c", "factor", "active"), [(62.0, 0.5, True), (60.0, 0.5, True), (59.9, 1.0, False)]
)
def test_hysteresis_of_five_degrees(board: Board, cooled_to_c: float, factor: float, active: bool) -> None:
    board.at(1.0, 66.0)
    assert board.at(2.0, cooled_to_c) == factor
    assert (OT in board.faults) is active
    if not active:
        assert board.ot_events()[-1] == (2.0, False, "condition cleared")
