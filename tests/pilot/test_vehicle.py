"""VehicleSense: CP state debounce, the confirmed unplug, diode check, PP rating and pilot faults (SPEC §3)."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from appliance.j1772.faults import FaultCode
from appliance.j1772.states import PilotMode, VehicleState
from appliance.pilot.config import StationConfig, Timing
from appliance.pilot.events import Event, StateChanged
from appliance.pilot.faultset import FaultSet
from appliance.pilot.logring import LogRing
from appliance.pilot.vehicle import VehicleSense

F = FaultCode
S = VehicleState
X1, X2 = PilotMode.X1, PilotMode.X2
OPEN = math.inf
VOLTS = {S.A: 12.0, S.B: 9.0, S.C: 6.0, S.D: 3.0, S.E: 0.0}  # SPEC §3 seed table
BETWEEN_B_AND_A_V = 10.5
BETWEEN_C_AND_B_V = 7.5


def ticks(start: float, stop: float) -> list[float]:
    """Loop times from `start` up to (not including) `stop`, 10 ms apart."""
    return [round(start + k * 0.01, 2) for k in range(round((stop - start) / 0.01))]


@dataclass
class Car:
    sense: VehicleSense
    faults: FaultSet
    events: list[Event] = field(default_factory=list)

    def read(self, now: float, cp_high_v: float, *, cp_low_v: float = -12.0, pp_ohm: float = 220.0,
             pilot: PilotMode = X1, pilot_age_s: float = 1.0, sensing_error: str | None = None,
             generator_error: str | None = None) -> bool:
        return self.sense.update(now, cp_high_v, cp_low_v, pp_ohm, pilot, pilot_age_s, sensing_error, generator_error)

    def settle(self, start: float, state: S, **kw: Any) -> float:
        """Three readings of `state` (enough for a fall); returns the next loop time."""
        for t in ticks(start, start + 0.03):
            self.read(t, VOLTS[state], **kw)
        assert self.sense.state is state
        return round(start + 0.03, 2)

    def changes(self) -> list[tuple[float, S, S]]:
        return [(e.t, e.old, e.new) for e in self.events if isinstance(e, StateChanged)]

    def message(self, code: FaultCode) -> str | None:
        fault = self.faults.active.get(code)
        return None if fault is None else fault.message


MakeCar = Callable[..., Car]


@pytest.fixture
def make_car() -> MakeCar:
    def make(**station: Any) -> Car:
        events: list[Event] = []
        log = LogRing()
        faults = FaultSet(1, events.append, log)
        sense = VehicleSense(StationConfig(id=1, **station), Timing(), faults, events.append, log)
        return Car(sense, faults, events)

    return make


@pytest.fixture
def car(make_car: MakeCar) -> Car:
    return make_car()


# ------------------------------------------------------------------ classification
@pytest.mark.parametrize(
    ("start", "new"),
    [(S.A, S.B), (S.A, S.C), (S.A, S.D), (S.A, S.E), (S.B, S.C), (S.C, S.D)],
)
def test_a_fall_needs_three_readings(car: Car, start: S, new: S) -> None:
    t = car.settle(0.0, start) if start is not S.A else 0.0
    before = len(car.changes())
    for k, now in enumerate(ticks(t, t + 0.03)):
        car.read(now, VOLTS[new])
        assert car.sense.state is (new if k == 2 else start)
    assert car.changes()[before:] == [(round(t + 0.02, 2), start, new)]


@pytest.mark.parametrize(("start", "new"), [(S.C, S.B), (S.C, S.A), (S.B, S.A), (S.D, S.C)])
def test_a_rise_is_taken_on_one_reading(car: Car, start: S, new: S) -> None:
    t = car.settle(0.0, start)
    car.read(t, VOLTS[new])
    assert car.sense.state is new
    assert car.changes()[-1] == (t, start, new)


def test_a_reading_of_the_old_state_restarts_the_count(car: Car) -> None:
    for now, volts in zip(ticks(0.0, 0.05), (9.0, 9.0, 12.0, 9.0, 9.0), strict=False):
        car.read(now, volts)
    assert car.sense.state is S.A and car.changes() == []
    car.read(0.05, 9.0)
    assert car.changes() == [(0.05, S.A, S.B)]


def test_a_fall_needs_three_consecutive_readings_in_its_band(car: Car) -> None:
    """SPEC §3 debounce: readings between bands interrupt a fall; they do not count towards it."""
    t = car.settle(0.0, S.B)
    for now, volts in zip(ticks(t, t + 0.05), (6.0, BETWEEN_C_AND_B_V, 6.0, BETWEEN_C_AND_B_V, 6.0), strict=False):
        car.read(now, volts)
    assert car.sense.state is S.B


# ------------------------------------------------------------------ confirmed unplug
@pytest.mark.parametrize(("station", "pp_when_gone"), [({}, OPEN), ({"tethered": True}, 220.0)])
def test_unplug_is_confirmed_after_one_second_of_state_a(make_car: MakeCar, station: dict[str, Any],
                                                          pp_when_gone: float) -> None:
    car = make_car(**station)
    car.settle(0.0, S.B)
    assert not car.sense.away
    confirmed = [now for now in ticks(10.0, 12.5) if car.read(now, 12.0, pp_ohm=pp_when_gone)]
    assert confirmed == [11.0]
    assert car.sense.away


def test_no_unplug_without_a_car_since_the_last_one(car: Car) -> None:
    assert car.sense.away
    assert not any(car.read(now, 12.0, pp_ohm=OPEN) for now in ticks(0.0, 3.0))


def test_one_reading_of_a_among_b_confirms_nothing(car: Car) -> None:
    car.settle(0.0, S.B)
    assert car.read(10.0, 12.0, pp_ohm=OPEN) is False
    assert not any(car.read(now, 9.0, pp_ohm=OPEN) for now in ticks(10.01, 12.0))
    assert car.changes()[-2:] == [(10.0, S.B, S.A), (10.03, S.A, S.B)]


INTERRUPTIONS = [{"pp_ohm": 220.0}, {"sensing_error": "CP-high stuck"}, {"pilot": PilotMode.F}]


@pytest.mark.parametrize("interruption", INTERRUPTIONS)
def test_no_unplug_while_a_cannot_be_trusted(car: Car, interruption: dict[str, Any]) -> None:
    car.settle(0.0, S.B)
    car.read(10.0, 12.0, pp_ohm=OPEN)
    assert not any(car.read(now, 12.0, **({"pp_ohm": OPEN} | interruption)) for now in ticks(10.01, 13.0))


@pytest.mark.parametrize("interruption", INTERRUPTIONS)
def test_an_interruption_restarts_the_second(car: Car, interruption: dict[str, Any]) -> None:
    car.settle(0.0, S.B)
    confirmed = [
        now for now in ticks(10.0, 12.0)
        if car.read(now, 12.0, **({"pp_ohm": OPEN} | (interruption if 10.3 <= now < 10.5 else {})))
    ]
    assert confirmed == [11.5]


def test_unplug_needs_a_readings_not_one_a_and_readings_between_bands(make_car: MakeCar) -> None:
    """SPEC §3: nothing that releases a latch happens on one reading; it needs a debounced state A."""
    car = make_car(tethered=True)
    car.settle(0.0, S.B)
    car.read(10.0, 12.0)
    confirmed = [now for now in ticks(10.01, 11.5) if car.read(now, BETWEEN_B_AND_A_V)]
    assert confirmed == []


# ------------------------------------------------------------------ diode check
DIODE_CASES = [
    (S.B, -8.8, False),  # SPEC: no diode with 2.74 kOhm
    (S.C, -5.0, False),  # SPEC: no diode with 882 Ohm
    (S.B, -10.9, False),
    (S.C, -12.0, True),
    (S.B, -11.0, True),
    (S.B, -13.0, True),
]


@pytest.mark.parametrize(("state", "cp_low_v", "good"), DIODE_CASES)
def test_diode_check_takes_three_readings(car: Car, state: S, cp_low_v: float, good: bool) -> None:
    t = car.settle(0.0, state)
    for k, now in enumerate(ticks(t, t + 0.03)):
        car.read(now, VOLTS[state], cp_low_v=cp_low_v, pilot=X2)
        third = k == 2
        assert car.sense.diode_checked is (good and third)
        assert (F.DIODE_FAULT in car.faults) is (not good and third)
    if not good:
        assert (
            car.message(F.DIODE_FAULT) == f"negative plateau at {cp_low_v:.1f} V, expected -12 V: no diode in the car"
        )


@pytest.mark.parametrize(
    ("state", "pilot", "pilot_age_s"),
    [(S.B, X1, 1.0), (S.B, X2, 0.004), (S.A, X2, 1.0)],
)
def test_no_diode_check_without_pwm_settled_on_a_car(car: Car, state: S, pilot: PilotMode, pilot_age_s: float) -> None:
    t = car.settle(0.0, state)
    for now in ticks(t, t + 0.1):
        car.read(now, VOLTS[state], cp_low_v=-8.8, pilot=pilot, pilot_age_s=pilot_age_s)
    assert F.DIODE_FAULT not in car.faults and not car.sense.diode_checked


def test_a_new_pilot_mode_restarts_the_diode_check(car: Car) -> None:
    t = car.settle(0.0, S.C)
    for now in ticks(t, t + 0.03):
        car.read(now, 6.0, pilot=X2)
    assert car.sense.diode_checked
    car.sense.pilot_changed()
    assert not car.sense.diode_checked


# ------------------------------------------------------------------ proximity pilot
@pytest.mark.parametrize(("ohms", "amps"), [(1500.0, 13.0), (680.0, 20.0), (220.0, 32.0), (100.0, 63.0)])
def test_pp_gives_the_cable_rating(car: Car, ohms: float, amps: float) -> None:
    car.read(0.0, 9.0, pp_ohm=ohms)
    assert car.sense.cable_a == amps


@pytest.mark.parametrize("max_current_a", [16.0, 32.0])
def test_a_tethered_station_is_rated_for_its_own_cable(make_car: MakeCar, max_current_a: float) -> None:
    car = make_car(tethered=True, max_current_a=max_current_a)
    car.settle(0.0, S.B, pp_ohm=5000.0)
    assert car.sense.cable_a == max_current_a and F.PP_INVALID not in car.faults


@pytest.mark.parametrize(
    ("ohms", "message"),
    [
        (50.0, "PP resistance 50 Ohm is outside 60..4500 Ohm"),
        (5000.0, "PP resistance 5000 Ohm is outside 60..4500 Ohm"),
        (3000.0, "PP resistance 3000 Ohm matches no cable coding"),
        (OPEN, "no cable detected on PP while a car is connected"),
    ],
)
def test_pp_invalid_after_three_bad_readings(car: Car, ohms: float, message: str) -> None:
    t = car.settle(0.0, S.B, pp_ohm=220.0)
    for k, now in enumerate(ticks(t, t + 0.03)):
        car.read(now, 9.0, pp_ohm=ohms)
        assert (F.PP_INVALID in car.faults) is (k == 2)
        assert car.sense.cable_a == 32.0  # the last good rating stands
    assert car.message(F.PP_INVALID) == message
    car.read(t + 0.03, 9.0, pp_ohm=680.0)
    assert F.PP_INVALID not in car.faults and car.sense.cable_a == 20.0


# ------------------------------------------------------------------ pilot and sensing faults
def test_state_e_is_a_pilot_fault(car: Car) -> None:
    for k, now in enumerate(ticks(0.0, 0.03)):
        car.read(now, 0.0)
        assert (F.PILOT_FAULT in car.faults) is (k == 2)
    assert car.message(F.PILOT_FAULT) == "CP shorted to PE (state E)"
    car.read(0.03, 12.0)
    assert F.PILOT_FAULT not in car.faults


def test_a_generator_error_is_a_pilot_fault_at_once(car: Car) -> None:
    car.read(0.0, 12.0, generator_error="+12 V rail at 9.1 V")
    assert car.message(F.PILOT_FAULT) == "+12 V rail at 9.1 V"
    car.read(0.01, 12.0)
    assert F.PILOT_FAULT not in car.faults


def test_one_second_between_bands_is_a_pilot_fault(car: Car) -> None:
    for now in ticks(10.0, 11.0):
        car.read(now, BETWEEN_C_AND_B_V)
    assert F.PILOT_FAULT not in car.faults and car.sense.state is S.A
    car.read(11.0, BETWEEN_C_AND_B_V)
    assert car.message(F.PILOT_FAULT) == "CP reading between bands for 1.0 s"
    car.read(11.01, 12.0)
    assert F.PILOT_FAULT not in car.faults


def test_state_d_without_ventilation_latches(car: Car) -> None:
    t = car.settle(0.0, S.C)
    for k, now in enumerate(ticks(t, t + 0.03)):
        car.read(now, 3.0)
        assert (F.VENTILATION_NOT_AVAILABLE in car.faults) is (k == 2)
    for now in ticks(t + 0.03, t + 1.0):
        car.read(now, 6.0)
    assert car.sense.state is S.C and F.VENTILATION_NOT_AVAILABLE in car.faults


def test_state_d_with_ventilation_is_no_fault(make_car: MakeCar) -> None:
    car = make_car(ventilation=True)
    car.settle(0.0, S.D)
    assert list(car.faults) == []


def test_a_sensing_error_is_an_adc_fault_and_readings_are_ignored(car: Car) -> None:
    for now in ticks(0.0, 0.1):
        car.read(now, 6.0, sensing_error="CP-high stuck at 2048")
    assert car.message(F.ADC_FAULT) == "CP-high stuck at 2048"
    assert car.sense.state is S.A and car.changes() == []
    car.read(0.1, 12.0)
    assert F.ADC_FAULT not in car.faults
