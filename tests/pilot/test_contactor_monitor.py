"""ContactorMonitor: dropped and welded contacts, meter errors and over-current (SPEC §2, §3)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from appliance.drivers.interfaces import MeterReading
from appliance.j1772.faults import FaultCode
from appliance.pilot.config import Timing
from appliance.pilot.contactor_monitor import ContactorMonitor
from appliance.pilot.events import Event, FaultChanged
from appliance.pilot.faultset import FaultSet
from appliance.pilot.logring import LogRing

F = FaultCode
SWITCHED = 2.0  # when the contactor was last commanded
WELD_V = 50.0
MAX_RETRIES = 3
AUX_OPEN = "auxiliary contact open although the contactor is commanded closed"
NO_VOLTAGE = "no voltage on the car side although the contactor is commanded closed"


def meter(volts: float = 230.0, amps: float = 0.0) -> MeterReading:
    """Three phases at `volts`; L2 draws `amps`, L1 and L3 one amp less."""
    return MeterReading((volts,) * 3, (amps - 1.0, amps, amps - 1.0), (volts * amps,) * 3, (1.0,) * 3, 50.0, 0.0, 30.0)


def ticks(start: float, stop: float, step: float = 0.01) -> list[float]:
    return [round(start + k * step, 2) for k in range(round((stop - start) / step))]


def note(n: int) -> str:
    return f"trip {n} of this plug-in, retry in 10 s ({MAX_RETRIES + 1 - n} left)"


@dataclass
class Rig:
    mon: ContactorMonitor
    faults: FaultSet
    events: list[Event] = field(default_factory=list)

    def tick(self, now: float, commanded: bool, aux: bool | None = None, reading: MeterReading | None = None,
             error: str | None = None, offered_a: float = 16.0, at: float = SWITCHED) -> str | None:
        return self.mon.update(now, commanded, at, aux, reading, error, offered_a)

    def run(self, times: list[float], commanded: bool, aux: bool | None = None,
            reading: MeterReading | None = None) -> list[tuple[float, str]]:
        """The ticks at which update() reported the contacts dropped, and why."""
        return [(t, why) for t in times if (why := self.tick(t, commanded, aux, reading)) is not None]

    def message(self, code: FaultCode) -> str | None:
        fault = self.faults.active.get(code)
        return None if fault is None else fault.message

    def raised(self, code: FaultCode) -> list[float]:
        return [e.t for e in self.events if isinstance(e, FaultChanged) and e.code is code and e.active]


@pytest.fixture
def rig() -> Rig:
    events: list[Event] = []
    faults = FaultSet(1, events.append, LogRing())
    return Rig(ContactorMonitor(Timing(), faults, WELD_V), faults, events)


# ------------------------------------------------------------------ commanded closed
def test_aux_open_for_two_readings_after_settling_is_a_drop(rig: Rig) -> None:
    assert rig.run(ticks(SWITCHED, 2.22), True, aux=False, reading=meter()) == [(2.21, AUX_OPEN)]
    assert rig.message(F.CONTACTOR_FAULT) == f"{AUX_OPEN}: {note(1)}"


@pytest.mark.parametrize("aux", [None, True])
def test_no_aux_verdict_when_closed_or_not_fitted(rig: Rig, aux: bool | None) -> None:
    assert rig.run(ticks(SWITCHED, 5.0), True, aux=aux, reading=meter()) == []
    assert list(rig.faults) == []


def test_one_open_aux_reading_is_no_drop(rig: Rig) -> None:
    for t in ticks(SWITCHED, 3.0):
        assert rig.tick(t, True, aux=t != 2.5, reading=meter()) is None


def test_no_car_side_voltage_for_a_second_is_a_drop(rig: Rig) -> None:
    assert rig.run(ticks(SWITCHED, 3.21), True, reading=meter(volts=0.0)) == [(3.2, NO_VOLTAGE)]
    assert rig.raised(F.CONTACTOR_FAULT) == [3.2]


@pytest.mark.parametrize("volts", [230.0, WELD_V + 1.0])
def test_car_side_voltage_keeps_a_closed_contactor(rig: Rig, volts: float) -> None:
    assert rig.run(ticks(SWITCHED, 5.0), True, reading=meter(volts=volts)) == []


# ------------------------------------------------------------------ commanded open: welds
@pytest.mark.parametrize(
    ("aux", "volts", "what"),
    [
        (True, 0.0, "auxiliary contact closed"),
        (None, 230.0, "voltage on the car side"),
        (False, 230.0, "voltage on the car side"),
    ],
)
def test_closed_while_commanded_open_is_a_weld(rig: Rig, aux: bool | None, volts: float, what: str) -> None:
    for t in ticks(SWITCHED, 3.1):
        rig.tick(t, False, aux=aux, reading=meter(volts=volts))
    assert F.CONTACTOR_WELDED not in rig.faults
    rig.tick(3.1, False, aux=aux, reading=meter(volts=volts))
    assert rig.message(F.CONTACTOR_WELDED) == f"{what} for 1 s with the contactor commanded open"


@pytest.mark.parametrize(("aux", "volts"), [(False, 0.0), (None, WELD_V), (None, 0.0)])
def test_open_and_dead_is_no_weld(rig: Rig, aux: bool | None, volts: float) -> None:
    for t in ticks(SWITCHED, 10.0):
        rig.tick(t, False, aux=aux, reading=meter(volts=volts))
    assert list(rig.faults) == []


def test_an_open_aux_reading_ends_the_weld_timer_without_a_meter_reading(rig: Rig) -> None:
    """Two one-reading aux glitches a second apart, the aux open on every reading between: not welded."""
    for t in ticks(SWITCHED, 4.01):
        rig.tick(t, False, aux=t in (3.0, 4.0), error="meter not answering")
    assert F.CONTACTOR_WELDED not in rig.faults


# ------------------------------------------------------------------ retry
def test_the_retry_clears_the_fault_once_aux_shows_open(rig: Rig) -> None:
    rig.mon.dropped_by_hardware(SWITCHED, "watchdog")
    rig.tick(11.99, False, aux=False)
    assert F.CONTACTOR_FAULT in rig.faults
    rig.tick(12.0, False, aux=True)
    assert F.CONTACTOR_FAULT in rig.faults
    rig.tick(12.01, False, aux=False)
    assert F.CONTACTOR_FAULT not in rig.faults
    assert rig.events[-1] == FaultChanged(12.01, 1, F.CONTACTOR_FAULT, False, "automatic retry")


def test_every_drop_is_counted_and_the_fourth_latches(rig: Rig) -> None:
    for n, t in enumerate((2.0, 3.0, 4.0, 5.0), 1):
        rig.mon.dropped_by_hardware(t, "watchdog")
        if n < 4:
            assert rig.message(F.CONTACTOR_FAULT) == f"watchdog: {note(n)}"
    assert rig.message(F.CONTACTOR_FAULT) == "watchdog: trip 4 of this plug-in: latched until the car is unplugged"
    assert rig.raised(F.CONTACTOR_FAULT) == [2.0, 3.0, 4.0, 5.0]
    rig.tick(100.0, False, aux=False)
    assert F.CONTACTOR_FAULT in rig.faults
    rig.mon.on_unplug()
    assert rig.mon.retry.trips == 0


# ------------------------------------------------------------------ meter
def test_three_bus_errors_in_a_row_are_a_meter_fault(rig: Rig) -> None:
    rig.tick(0.0, False, error="no answer")
    rig.tick(0.01, False)  # not read this tick: no verdict either way
    rig.tick(0.02, False, error="no answer")
    assert F.METER_FAULT not in rig.faults
    rig.tick(0.03, False, error="CRC error")
    assert rig.message(F.METER_FAULT) == "CRC error"
    rig.tick(0.04, False, reading=meter(volts=0.0))
    assert F.METER_FAULT not in rig.faults


def test_a_good_reading_restarts_the_error_count(rig: Rig) -> None:
    for t, error in zip(ticks(0.0, 0.05), ("x", "x", None, "x", "x"), strict=False):
        rig.tick(t, False, reading=None if error else meter(volts=0.0), error=error)
    assert F.METER_FAULT not in rig.faults


# ------------------------------------------------------------------ over-current
@pytest.mark.parametrize(
    ("offered_a", "drawn_a", "fault"),
    [
        (16.0, 18.2, True),
        (16.0, 18.0, False),
        (32.0, 35.8, True),
        (32.0, 35.6, False),
        (6.0, 7.2, True),
        (6.0, 7.0, False),
    ],
)
def test_over_current_for_seven_seconds(rig: Rig, offered_a: float, drawn_a: float, fault: bool) -> None:
    for t in ticks(100.0, 107.0, 0.1):
        rig.tick(t, True, aux=True, reading=meter(amps=drawn_a), offered_a=offered_a)
    assert F.OVER_CURRENT not in rig.faults
    rig.tick(107.0, True, aux=True, reading=meter(amps=drawn_a), offered_a=offered_a)
    assert rig.message(F.OVER_CURRENT) == (f"drawing {drawn_a:.1f} A, offered {offered_a:.1f} A" if fault else None)


def test_a_lowered_offer_restarts_the_seven_seconds(rig: Rig) -> None:
    for t in ticks(100.0, 105.0, 0.1):
        rig.tick(t, True, aux=True, reading=meter(amps=18.2), offered_a=16.0)
    rig.mon.offer_lowered()
    for t in ticks(105.0, 112.0, 0.1):
        rig.tick(t, True, aux=True, reading=meter(amps=18.2), offered_a=10.0)
    assert F.OVER_CURRENT not in rig.faults
    rig.tick(112.0, True, aux=True, reading=meter(amps=18.2), offered_a=10.0)
    assert rig.message(F.OVER_CURRENT) == "drawing 18.2 A, offered 10.0 A"
