"""RcdMonitor: every trip counted and retried after 15 min, 3 times per plug-in; the self-test (SPEC §3)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from appliance.j1772.faults import FaultCode
from appliance.pilot.config import Timing
from appliance.pilot.events import Event, FaultChanged
from appliance.pilot.faultset import FaultSet
from appliance.pilot.logring import LogRing
from appliance.pilot.rcd_monitor import RcdMonitor

F = FaultCode
RETRY_S = 900.0
MAX_RETRIES = 3
NAMES = {F.RCD_DC: "6 mA DC", F.RCD_AC: "30 mA AC"}
NO_RESPONSE = "no trip within 200 ms of the test signal"


@dataclass
class Rig:
    rcd: RcdMonitor
    faults: FaultSet
    events: list[Event] = field(default_factory=list)

    def step(self, now: float, dc: bool = False, ac: bool = False) -> None:
        self.rcd.update(now, dc, ac)

    def pulse(self, now: float, code: FaultCode) -> None:
        """A trip one reading long: the line rises at `now` and has fallen 10 ms later."""
        self.step(now, dc=code is F.RCD_DC, ac=code is F.RCD_AC)
        self.step(now + 0.01)

    def fault_events(self, code: FaultCode) -> list[tuple[float, bool, str]]:
        return [(e.t, e.active, e.message) for e in self.events if isinstance(e, FaultChanged) and e.code is code]

    def pass_test(self, start: float, manual: bool) -> None:
        self.rcd.start_test(start, manual)
        self.step(start + 0.01, dc=True)
        self.step(start + 0.02)


@pytest.fixture
def rig() -> Rig:
    events: list[Event] = []
    log = LogRing()
    faults = FaultSet(1, events.append, log)
    return Rig(RcdMonitor(1, Timing(), faults, log), faults, events)


def trip_text(code: FaultCode, n: int) -> str:
    left = MAX_RETRIES + 1 - n
    note = f"retry in 15 min ({left} left)" if left > 0 else "latched until the car is unplugged"
    sep = ", " if left > 0 else ": "
    return f"residual current trip ({NAMES[code]}): trip {n} of this plug-in{sep}{note}"


# ------------------------------------------------------------------ trips and retries
@pytest.mark.parametrize("code", [F.RCD_DC, F.RCD_AC])
def test_a_trip_is_a_rising_edge(rig: Rig, code: FaultCode) -> None:
    for k in range(50):
        rig.step(10.0 + k * 0.01, dc=code is F.RCD_DC, ac=code is F.RCD_AC)
    assert rig.fault_events(code) == [(10.0, True, trip_text(code, 1))]
    assert rig.rcd.retry.trips == 1 and rig.rcd.retry.retry_at == 10.0 + RETRY_S


@pytest.mark.parametrize("code", [F.RCD_DC, F.RCD_AC])
def test_every_trip_is_reported_and_restarts_the_wait(rig: Rig, code: FaultCode) -> None:
    for t in (10.0, 100.0, 200.0):
        rig.pulse(t, code)
    assert rig.fault_events(code) == [(t, True, trip_text(code, n)) for n, t in enumerate((10.0, 100.0, 200.0), 1)]
    rig.step(10.0 + RETRY_S)
    assert code in rig.faults
    rig.step(200.0 + RETRY_S - 0.01)
    assert code in rig.faults
    rig.step(200.0 + RETRY_S)
    assert rig.fault_events(code)[-1] == (200.0 + RETRY_S, False, "automatic retry")


def test_the_retry_clears_both_rcd_faults(rig: Rig) -> None:
    rig.pulse(10.0, F.RCD_DC)
    rig.pulse(20.0, F.RCD_AC)
    rig.step(20.0 + RETRY_S)
    assert list(rig.faults) == []
    assert (
        rig.fault_events(F.RCD_DC)[-1] == rig.fault_events(F.RCD_AC)[-1] == (20.0 + RETRY_S, False, "automatic retry")
    )


def test_the_retry_waits_for_the_lines_to_clear(rig: Rig) -> None:
    rig.step(10.0, dc=True)
    rig.step(10.0 + RETRY_S, dc=True)
    rig.step(10.0 + RETRY_S + 30.0, dc=True)
    assert F.RCD_DC in rig.faults
    rig.step(10.0 + RETRY_S + 30.01)
    assert F.RCD_DC not in rig.faults and rig.rcd.retry.trips == 1


def test_the_fourth_trip_of_a_plug_in_latches(rig: Rig) -> None:
    for t in (10.0, 20.0, 30.0, 40.0):
        rig.pulse(t, F.RCD_DC)
    assert rig.fault_events(F.RCD_DC)[-1] == (40.0, True, trip_text(F.RCD_DC, 4))
    rig.step(40.0 + 10 * RETRY_S)
    assert F.RCD_DC in rig.faults and rig.rcd.retry.retry_at is None


def test_an_unplug_restarts_the_count(rig: Rig) -> None:
    for t in (10.0, 20.0, 30.0, 40.0):
        rig.pulse(t, F.RCD_DC)
    rig.faults.clear_latched(50.0, "car unplugged")
    rig.rcd.on_unplug()
    rig.pulse(60.0, F.RCD_DC)
    assert rig.fault_events(F.RCD_DC)[-1] == (60.0, True, trip_text(F.RCD_DC, 1))


@pytest.mark.parametrize(
    ("cleared", "retry_at"), [([F.RCD_DC], None), ([F.DIODE_FAULT], 10.0 + RETRY_S), ([], 10.0 + RETRY_S)]
)
def test_a_manual_clear_of_an_rcd_fault_ends_the_wait(
    rig: Rig, cleared: list[FaultCode], retry_at: float | None
) -> None:
    rig.pulse(10.0, F.RCD_DC)
    rig.rcd.clear_requested(cleared)
    assert rig.rcd.retry.retry_at == retry_at and rig.rcd.retry.trips == 1


# ------------------------------------------------------------------ self-test
@pytest.mark.parametrize(("manual", "kept"), [(False, True), (True, False)])
def test_self_test_passes(rig: Rig, manual: bool, kept: bool) -> None:
    rig.rcd.start_test(10.0, manual)
    assert rig.rcd.test_line and rig.rcd.testing
    rig.step(10.01, dc=True)  # the module answers the test signal
    assert not rig.rcd.test_line and rig.rcd.testing
    rig.step(10.02)
    assert rig.rcd.last_self_test == (10.02, True, "")
    assert not rig.rcd.testing and rig.rcd.passed is kept and not rig.rcd.manual
    assert list(rig.faults) == [] and rig.rcd.retry.trips == 0


def test_a_passed_close_test_is_used_once(rig: Rig) -> None:
    rig.pass_test(10.0, manual=False)
    rig.rcd.used()
    assert not rig.rcd.passed and rig.rcd.test is None


@pytest.mark.parametrize("manual", [False, True])
def test_no_response_fails_the_self_test(rig: Rig, manual: bool) -> None:
    rig.rcd.start_test(10.0, manual)
    for k in range(21):  # up to and including 200 ms
        rig.step(round(10.0 + k * 0.01, 2))
    assert rig.rcd.testing and list(rig.faults) == []
    rig.step(10.21)
    assert rig.fault_events(F.RCD_SELF_TEST_FAILED) == [(10.21, True, NO_RESPONSE)]
    assert rig.rcd.last_self_test == (10.21, False, NO_RESPONSE)
    assert rig.rcd.test is None and not rig.rcd.test_line


@pytest.mark.parametrize("dc", [False, True])
def test_an_ac_edge_during_the_test_is_a_real_trip(rig: Rig, dc: bool) -> None:
    rig.rcd.start_test(10.0, manual=False)
    rig.step(10.01, dc=dc, ac=True)
    assert list(rig.faults) == [F.RCD_AC]
    assert rig.fault_events(F.RCD_AC) == [(10.01, True, trip_text(F.RCD_AC, 1))]
    assert rig.rcd.last_self_test == (10.01, False, "residual-current trip during the test")
    assert rig.rcd.test is None and not rig.rcd.test_line


@pytest.mark.parametrize(
    ("dc", "ac", "codes"), [(True, False, [F.RCD_DC]), (False, True, [F.RCD_AC]), (True, True, [F.RCD_DC, F.RCD_AC])]
)
def test_a_line_still_active_after_release_is_a_real_trip(rig: Rig, dc: bool, ac: bool, codes: list[FaultCode]) -> None:
    rig.rcd.start_test(10.0, manual=False)
    rig.step(10.01, dc=True)
    rig.step(10.02, dc=dc, ac=ac)
    assert list(rig.faults) == codes
    assert all(rig.fault_events(code) == [(10.02, True, trip_text(code, n))] for n, code in enumerate(codes, 1))
    assert rig.rcd.last_self_test == (10.02, False, "fault line still active after the test signal ended")
    assert rig.rcd.test is None


def test_the_module_has_its_release_time(rig: Rig) -> None:
    rig.rcd.start_test(10.0, manual=False)
    rig.step(10.01, dc=True)
    rig.step(10.014, dc=True)  # 4 ms after the test signal ended, within rcd_release_s (5 ms)
    rig.step(10.016)
    assert rig.rcd.passed and list(rig.faults) == []


@pytest.mark.parametrize(("manual", "kept"), [(False, False), (True, True)])
def test_drop_test_forgets_only_a_close_test(rig: Rig, manual: bool, kept: bool) -> None:
    rig.rcd.start_test(10.0, manual)
    rig.rcd.drop_test()
    assert rig.rcd.testing is kept and rig.rcd.test_line is kept


def test_drop_test_forgets_a_passed_close_test(rig: Rig) -> None:
    rig.pass_test(10.0, manual=False)
    rig.rcd.drop_test()
    assert not rig.rcd.passed and rig.rcd.last_self_test == (10.02, True, "")
