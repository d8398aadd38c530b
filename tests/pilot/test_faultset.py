"""FaultSet: raising, renewing and clearing a station's faults, and the pilot they force."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from appliance.j1772.faults import FaultCode
from appliance.j1772.states import PilotMode
from appliance.pilot.events import Event, FaultChanged
from appliance.pilot.faultset import FaultSet
from appliance.pilot.logring import LogRing

F = FaultCode
HOLD_S = 3.0  # Timing.fault_f_hold_s


@dataclass
class Rig:
    faults: FaultSet
    log: LogRing
    events: list[Event] = field(default_factory=list)

    def lines(self) -> list[tuple[float, str, int | None, str]]:
        return [(e.t, e.level, e.station, e.message) for e in self.log.since()]


@pytest.fixture
def rig() -> Rig:
    events: list[Event] = []
    log = LogRing()
    return Rig(FaultSet(2, events.append, log), log, events)


def test_raise_emits_an_event_and_an_error_line(rig: Rig) -> None:
    assert rig.faults.raise_(1.5, F.DIODE_FAULT, "no diode") is True
    assert rig.events == [FaultChanged(1.5, 2, F.DIODE_FAULT, True, "no diode")]
    assert rig.lines() == [(1.5, "error", 2, "DiodeFault: no diode")]
    assert F.DIODE_FAULT in rig.faults and list(rig.faults) == [F.DIODE_FAULT]
    assert rig.faults.active[F.DIODE_FAULT].since == 1.5


def test_a_fault_that_does_not_block_logs_a_warning(rig: Rig) -> None:
    rig.faults.raise_(0.0, F.OVER_TEMPERATURE, "board at 66 °C")
    assert rig.lines() == [(0.0, "warning", 2, "OverTemperature: board at 66 °C")]


@pytest.mark.parametrize(("message", "renew"), [("no diode", False), ("no diode", True), ("diode gone again", False)])
def test_raising_an_active_fault_again_is_silent(rig: Rig, message: str, renew: bool) -> None:
    rig.faults.raise_(1.0, F.DIODE_FAULT, "no diode")
    assert rig.faults.raise_(2.0, F.DIODE_FAULT, message, renew=renew) is False
    assert len(rig.events) == 1 and len(rig.lines()) == 1
    assert rig.faults.active[F.DIODE_FAULT].message == "no diode"


def test_renew_with_a_new_message_reports_again_and_keeps_since(rig: Rig) -> None:
    rig.faults.raise_(1.0, F.RCD_DC, "trip 1")
    assert rig.faults.raise_(4.0, F.RCD_DC, "trip 2", renew=True) is True
    assert rig.events[-1] == FaultChanged(4.0, 2, F.RCD_DC, True, "trip 2")
    assert rig.lines()[-1] == (4.0, "error", 2, "RCD_DC: trip 2")
    assert rig.faults.active[F.RCD_DC].since == 1.0
    assert rig.faults.active[F.RCD_DC].message == "trip 2"


def test_clear_emits_and_logs_once(rig: Rig) -> None:
    rig.faults.raise_(1.0, F.PP_INVALID, "open PP")
    assert rig.faults.clear(2.0, F.PP_INVALID, "cable back") is True
    assert rig.faults.clear(3.0, F.PP_INVALID) is False
    assert rig.events[-1] == FaultChanged(2.0, 2, F.PP_INVALID, False, "cable back")
    assert rig.lines()[-1] == (2.0, "info", 2, "PPInvalid cleared: cable back")
    assert len(rig.events) == 2 and F.PP_INVALID not in rig.faults


def test_condition_follows_the_problem(rig: Rig) -> None:
    rig.faults.condition(0.0, F.ADC_FAULT, "ch0 stuck")
    rig.faults.condition(0.01, F.ADC_FAULT, "ch0 stuck")
    rig.faults.condition(0.02, F.ADC_FAULT, None)
    rig.faults.condition(0.03, F.ADC_FAULT, None)
    assert rig.events == [
        FaultChanged(0.0, 2, F.ADC_FAULT, True, "ch0 stuck"),
        FaultChanged(0.02, 2, F.ADC_FAULT, False, "condition cleared"),
    ]


ALL_KINDS = (F.DIODE_FAULT, F.CONTACTOR_WELDED, F.PILOT_FAULT)  # unplug, service, condition


@pytest.mark.parametrize(
    ("service", "only", "cleared"),
    [
        (False, None, [F.DIODE_FAULT]),
        (True, None, [F.DIODE_FAULT, F.CONTACTOR_WELDED]),
        (True, F.CONTACTOR_WELDED, [F.CONTACTOR_WELDED]),
        (True, F.DIODE_FAULT, [F.DIODE_FAULT]),
        (False, F.CONTACTOR_WELDED, []),
        (True, F.PILOT_FAULT, []),
    ],
)
def test_clear_latched(rig: Rig, service: bool, only: FaultCode | None, cleared: list[FaultCode]) -> None:
    for code in ALL_KINDS:
        rig.faults.raise_(0.0, code, "x")
    assert rig.faults.clear_latched(5.0, "car unplugged", service=service, only=only) == cleared
    assert set(rig.faults) == set(ALL_KINDS) - set(cleared)
    assert [e.code for e in rig.events if isinstance(e, FaultChanged) and not e.active] == cleared
    assert all(e.message == "car unplugged" for e in rig.events[len(ALL_KINDS):])


def test_blocking_names_a_fault_that_forbids_closing(rig: Rig) -> None:
    rig.faults.raise_(0.0, F.OVER_TEMPERATURE, "hot")
    rig.faults.raise_(0.0, F.SUPERVISOR_LOST, "silent")
    assert rig.faults.blocking() is None
    rig.faults.raise_(0.0, F.METER_FAULT, "bus")
    assert rig.faults.blocking() is F.METER_FAULT


@pytest.mark.parametrize(
    ("codes", "now", "mode"),
    [
        ((), 0.0, None),
        ((F.OVER_TEMPERATURE, F.SUPERVISOR_LOST), 0.0, None),
        ((F.CONTACTOR_FAULT,), 0.0, PilotMode.X1),
        ((F.DIODE_FAULT,), 10.0 + HOLD_S - 0.01, PilotMode.F),
        ((F.DIODE_FAULT,), 10.0 + HOLD_S, PilotMode.X1),  # latched F: X1 to watch for the unplug
        ((F.CONTACTOR_WELDED,), 100.0, PilotMode.F),  # service-only F holds
        ((F.ADC_FAULT,), 100.0, PilotMode.F),  # condition F holds
        ((F.ADC_FAULT, F.PP_INVALID), 100.0, PilotMode.F),  # F wins over X1
        ((F.RCD_AC, F.METER_FAULT), 10.0, PilotMode.F),
    ],
)
def test_pilot_mode(rig: Rig, codes: tuple[FaultCode, ...], now: float, mode: PilotMode | None) -> None:
    for code in codes:
        rig.faults.raise_(10.0, code, "x")
    assert rig.faults.pilot_mode(now, HOLD_S) is mode


def test_renewed_fault_keeps_its_hold_from_the_first_raise(rig: Rig) -> None:
    rig.faults.raise_(10.0, F.RCD_DC, "trip 1")
    rig.faults.raise_(12.0, F.RCD_DC, "trip 2", renew=True)
    assert rig.faults.pilot_mode(13.0, HOLD_S) is PilotMode.X1
