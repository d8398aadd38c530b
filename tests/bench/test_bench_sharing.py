"""Load-sharing benchmark: line capacity left stranded while a car could take more, and reallocation times.

Five two-car scenarios on a 32 A line, 15 simulated minutes each, played through the production
pilot and supervisor (`ScenarioRunner`, stepped).

Stranded capacity, per simulated second (one report sample):
  for each car in state C, what it *could* draw is derived from the scenario alone, never from the
  allocator: the smallest of its on-board limit (`max_current_a`), the `draw` limit in force at that
  second, its cable rating and the station's rating. If that is ≥ 1 A above what the car draws (the
  largest of its station conductors), the car is hungry; its usable current is the smallest spare
  current (line limit minus the measured line current) over the line phases it loads (its
  conductors mapped through the station's phase rotation; a 1-phase car loads the station's L1),
  capped at what it could still take. A car can only be offered 6 A or more, so usable current
  that would leave it under 6 A counts as none. Each car's usable amps count once per line phase
  it loads (a 3-phase car stranding 3 A strands 9 phase-amps).

  stranded % = Σ stranded phase-amp-seconds / Σ (line limit × 3 phases) over the seconds in which
  at least one car is in C. "Overall" pools the sums of all scenarios.

`of_cars_pct` divides the same stranded amps by the line capacity on the charging cars' own
phases only (Σ line limit × phases loaded, per charging car and second): it does not dilute a
1-phase car's loss over the two phases it cannot use.

Every figure is given for the whole run (`stranded_pct`, the headline: a charging session),
for the first 60 s (`arrival_pct`: cars plug in, wait for their contactors and ramp) and for
the rest (`steady_pct`).

Times (simulated seconds, None when it never happened within the run):
  * `underdraw_to_realloc_s`: from an under-draw — a car capped by itself reaching its cap while
    the other charges, or a `draw` event lowering a car's draw — until the other station's offer
    is within 1 A of its fair share (or above it);
  * `hunger_to_back_s`: from the `draw` event that lets a car draw more again until its own offer
    is within 1 A of its fair share;
  * `both_charging_to_fair_s`: from the first second both cars are in C until both offers are.
  `offer_changes_steady` counts the duty changes after the first 60 s: a steady pair should settle.
  The fair share is the max-min fair split of the line (progressive filling per line phase) of the
  cars' own limits at the trigger, which is what "by priority, then equal share" gives at equal
  priority. Offers are read from the duty events, at the time the hardware changed the PWM.

Baselines in the same run:
  * `fair_use_ratio`: current the cars drew over what they would draw at their fair share every
    second they are in C (1.0 = ideal; ramps and response delays keep it a little under);
  * a single car playing scenario 2's events alone (arrival, draw drop, draw back up): nothing can
    be stranded by sharing there, so its stranded share is the floor set by the car's own response
    delay and ramp.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from appliance.scenario.runner import Report, ScenarioRunner
from appliance.scenario.schema import Scenario
from appliance.simulator.car import CarSpec
from tests.scenario_helpers import charging, scenario

LINE_A = 32.0
UNTIL_S = 900.0
ARRIVAL_S = 60.0
HUNGRY_A = 1.0  # a car that could draw at least this much more is hungry
FAIR_TOLERANCE_A = 1.0
MIN_OFFER_A = 6.0
DROP_AT, BACK_AT, DROP_TO_A = 300.0, 600.0, 10.0
ROTATED = [{"id": 2, "phase_rotation": [2, 3, 1]}]
SITE = {"line_limit_a": LINE_A}


def _capped_13a() -> Scenario:
    return scenario(charging(1, 1.0, max_current_a=13) + charging(2, 3.0), SITE)


def _draw_drops(cars: tuple[int, ...] = (1, 2)) -> Scenario:
    events = [e for sid in cars for e in charging(sid, 2.0 * sid - 1.0)]
    if 1 in cars:
        events += [{"at": DROP_AT, "station": 1, "do": "draw", "limit_a": DROP_TO_A},
                   {"at": BACK_AT, "station": 1, "do": "draw", "limit_a": 32.0}]
    return scenario(events, SITE)


def _single_draw_drops() -> Scenario:
    return _draw_drops((1,))


def _three_beside_one_rotated() -> Scenario:
    return scenario(charging(1, 1.0) + charging(2, 3.0, phases=1), SITE, ROTATED)


def _one_phase_pair_rotated() -> Scenario:
    return scenario(charging(1, 1.0, phases=1) + charging(2, 3.0, phases=1), SITE, ROTATED)


def _capped_16a() -> Scenario:
    return scenario(charging(1, 1.0, max_current_a=16) + charging(2, 3.0), SITE)


@dataclass(frozen=True)
class Trigger:
    """Something the allocator should answer: `station` should reach its fair share after `kind`."""

    kind: str  # "underdraw" | "hunger"
    station: int
    at: float | None = None  # from the scenario; None: the moment a capped car (the other station) hits its cap


@dataclass(frozen=True)
class Case:
    name: str
    build: Callable[[], Scenario]
    triggers: tuple[Trigger, ...] = ()


CASES = (
    Case("car_stops_at_13a_beside_32a", _capped_13a, (Trigger("underdraw", 2),)),
    Case("draw_drops_mid_session", _draw_drops,
         (Trigger("underdraw", 2, DROP_AT), Trigger("hunger", 1, BACK_AT))),
    Case("3ph_beside_1ph_rotated", _three_beside_one_rotated),
    Case("two_1ph_on_different_phases", _one_phase_pair_rotated),
    Case("car_16a_beside_32a", _capped_16a),
)
SINGLE = Case("single_car_draw_drops", _single_draw_drops)


@dataclass(frozen=True)
class Car:
    station: int
    spec: CarSpec
    line_phases: tuple[int, ...]  # 0-based line phases the car loads
    station_max_a: float


@dataclass
class Sums:
    """Phase-amp-seconds over one window."""

    stranded: float = 0.0
    line_capacity: float = 0.0
    cars_capacity: float = 0.0
    seconds: int = 0

    def add(self, other: Sums) -> None:
        self.stranded += other.stranded
        self.line_capacity += other.line_capacity
        self.cars_capacity += other.cars_capacity
        self.seconds += other.seconds

    def pct(self) -> float | None:
        return round(100 * self.stranded / self.line_capacity, 3) if self.line_capacity else None

    def of_cars_pct(self) -> float | None:
        return round(100 * self.stranded / self.cars_capacity, 3) if self.cars_capacity else None


@dataclass
class Result:
    name: str
    windows: dict[str, Sums] = field(default_factory=dict)
    drawn: float = 0.0  # phase-amp-seconds the charging cars drew
    fair: float = 0.0  # ... and would draw at their fair share
    times: dict[str, float | None] = field(default_factory=dict)
    offer_changes_steady: int = 0  # duty changes on both stations after the arrival window
    max_soc: float = 0.0


def _car_at(sc: Scenario, station: int, t: float) -> Car | None:
    """The car plugged into `station` at `t`, from the scenario's events."""
    spec = None
    for ev in sorted(sc.event, key=lambda e: e.at):
        if ev.at > t:
            break
        if ev.station == station and ev.do == "plug":
            spec = ev.car
        elif ev.station == station and ev.do == "unplug":
            spec = None
    if spec is None:
        return None
    setup = sc.setup(station)
    conductors = range(spec.phases)  # a 1-phase car loads L1
    return Car(station, spec, tuple(sorted({setup.phase_rotation[i] - 1 for i in conductors})), setup.max_current_a)


def _limit_a(sc: Scenario, car: Car, t: float) -> float:
    """What the car could draw at `t`: its charger, the `draw` limit in force, its cable, the station."""
    drawn_limit = math.inf
    for ev in sorted(sc.event, key=lambda e: e.at):
        if ev.at > t:
            break
        if ev.station == car.station and ev.do == "plug":
            drawn_limit = math.inf
        elif ev.station == car.station and ev.do == "draw" and ev.limit_a is not None:
            drawn_limit = ev.limit_a
    return min(car.spec.max_current_a, drawn_limit, float(car.spec.cable_a), car.station_max_a)


def fair_shares(limits: dict[int, float], phases: dict[int, tuple[int, ...]], line_a: float) -> dict[int, float]:
    """Max-min fair currents: raise every car equally until it reaches its limit or one of its phases is full."""
    given = {sid: 0.0 for sid in limits}
    active = {sid for sid, lim in limits.items() if lim > 0}
    while active:
        room = [line_a - sum(given[s] for s in given if p in phases[s]) for p in range(3)]
        sharing = [sum(1 for s in active if p in phases[s]) for p in range(3)]
        step = min(min(limits[s] - given[s], *(room[p] / sharing[p] for p in phases[s])) for s in active)
        for s in active:
            given[s] += step
        room = [line_a - sum(given[s] for s in given if p in phases[s]) for p in range(3)]
        active = {s for s in active if limits[s] - given[s] > 1e-9 and all(room[p] > 1e-9 for p in phases[s])}
    return given


def _offer_at(report: Report, station: int, t: float) -> float:
    offer = 0.0
    for e in report.of("duty", station):
        if e["t"] > t:
            break
        offer = e["offered_a"]
    return offer


def _reaches(report: Report, station: int, target_a: float, since: float) -> float | None:
    """Seconds from `since` until the station's offer is within the tolerance of `target_a` (0 if it already is)."""
    if _offer_at(report, station, since) >= target_a - FAIR_TOLERANCE_A:
        return 0.0
    for e in report.of("duty", station):
        if e["t"] > since and e["offered_a"] >= target_a - FAIR_TOLERANCE_A:
            return round(e["t"] - since, 2)
    return None


def _charging_cars(sc: Scenario, sample: dict[str, Any]) -> list[tuple[Car, dict[str, Any]]]:
    out = []
    for key, st in sorted(sample["stations"].items()):
        car = _car_at(sc, int(key), sample["t"]) if st["state"] == "C" else None
        if car is not None:
            out.append((car, st))
    return out


def _fair_at(sc: Scenario, sample: dict[str, Any]) -> dict[int, float]:
    cars = [car for car, _ in _charging_cars(sc, sample)]
    return fair_shares({c.station: _limit_a(sc, c, sample["t"]) for c in cars},
                       {c.station: c.line_phases for c in cars}, sample["line_limit_a"])


def _first_sample(report: Report, test: Callable[[dict[str, Any]], bool]) -> dict[str, Any] | None:
    return next((s for s in report.samples if test(s)), None)


def _trigger_time(sc: Scenario, report: Report, trigger: Trigger) -> dict[str, Any] | None:
    """The first sample at or after the trigger with both cars in C (and, for a capped car, at its cap)."""
    def due(s: dict[str, Any]) -> bool:
        cars = _charging_cars(sc, s)
        if len(cars) < 2 or (trigger.at is not None and s["t"] < trigger.at):
            return False
        if trigger.at is not None:
            return True
        return any(c.station != trigger.station and _limit_a(sc, c, s["t"]) - max(st["current_a"]) < HUNGRY_A
                   for c, st in cars)
    return _first_sample(report, due)


def measure(case: Case) -> Result:
    sc = case.build()
    report = ScenarioRunner(sc, speed=0).run(UNTIL_S)
    result = Result(case.name, {w: Sums() for w in ("all", "arrival", "steady")})
    for s in report.samples:
        cars = _charging_cars(sc, s)
        if not cars:
            continue
        limit, line = s["line_limit_a"], s["line_a"]
        fair = _fair_at(sc, s)
        second = Sums(line_capacity=limit * 3, seconds=1)
        for car, st in cars:
            drawn = max(st["current_a"])
            headroom = _limit_a(sc, car, s["t"]) - drawn
            usable = min(headroom, *(limit - line[p] for p in car.line_phases))
            if headroom < HUNGRY_A or drawn + usable < MIN_OFFER_A:
                usable = 0.0
            second.stranded += max(0.0, usable) * len(car.line_phases)
            second.cars_capacity += limit * len(car.line_phases)
            result.drawn += drawn * len(car.line_phases)
            result.fair += fair[car.station] * len(car.line_phases)
            result.max_soc = max(result.max_soc, car.spec.soc + st["energy_kwh"] / car.spec.battery_kwh)
        result.windows["all"].add(second)
        result.windows["arrival" if s["t"] < ARRIVAL_S else "steady"].add(second)
    result.offer_changes_steady = sum(1 for e in report.of("duty") if e["t"] >= ARRIVAL_S)
    both = _first_sample(report, lambda s: len(_charging_cars(sc, s)) == 2)
    if both is not None:
        fair = _fair_at(sc, both)
        waits = [_reaches(report, sid, share, both["t"]) for sid, share in fair.items()]
        result.times["both_charging_to_fair_s"] = None if None in waits else max(w for w in waits if w is not None)
    for trigger in case.triggers:
        at = _trigger_time(sc, report, trigger)
        name = "underdraw_to_realloc_s" if trigger.kind == "underdraw" else "hunger_to_back_s"
        result.times[name] = (
            None
            if at is None
            else _reaches(
                report,
                trigger.station,
                _fair_at(sc, at)[trigger.station],
                trigger.at if trigger.at is not None else at["t"],
            )
        )
    return result


def _figures(windows: dict[str, Sums]) -> dict[str, Any]:
    return {"stranded_pct": windows["all"].pct(), "arrival_pct": windows["arrival"].pct(),
            "steady_pct": windows["steady"].pct(), "of_cars_pct": windows["all"].of_cars_pct(),
            "stranded_phase_a_s": round(windows["all"].stranded, 1), "charging_s": windows["all"].seconds}


def _worst(results: list[Result], name: str) -> float | None:
    """The longest of a time over the scenarios that measure it; None if one never got there."""
    times = [r.times[name] for r in results if name in r.times]
    return None if None in times else max((t for t in times if t is not None), default=None)


def test_stranded_capacity_two_cars(emit: Callable[..., None]) -> None:
    with ProcessPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(measure, CASES + (SINGLE,)))
    *pairs, single = results
    assert all(r.max_soc < 0.8 for r in results), "a car reached its taper; the limits above ignore it"
    total = {w: Sums() for w in ("all", "arrival", "steady")}
    drawn = fair = 0.0
    for r in pairs:
        assert r.windows["all"].seconds > UNTIL_S - 30, f"{r.name}: cars did not charge through the run"
        emit(
            "stranded_capacity",
            scenario=r.name,
            unit="% of line capacity",
            line_limit_a=LINE_A,
            **_figures(r.windows),
            fair_use_ratio=round(r.drawn / r.fair, 4),
            offer_changes_steady=r.offer_changes_steady,
            **r.times,
        )
        for w, sums in r.windows.items():
            total[w].add(sums)
        drawn, fair = drawn + r.drawn, fair + r.fair
    base = single.windows["all"].pct()
    overall = total["all"].pct()
    emit("stranded_capacity", scenario="overall", unit="% of line capacity", line_limit_a=LINE_A,
         scenarios=len(pairs), **_figures(total), fair_use_ratio=round(drawn / fair, 4),
         baseline=SINGLE.name, baseline_stranded_pct=base, baseline_arrival_pct=single.windows["arrival"].pct(),
         baseline_steady_pct=single.windows["steady"].pct(),
         excess_over_baseline_pct=None if base is None or overall is None else round(overall - base, 3),
         worst_underdraw_to_realloc_s=_worst(pairs, "underdraw_to_realloc_s"),
         worst_hunger_to_back_s=_worst(pairs, "hunger_to_back_s"),
         worst_both_charging_to_fair_s=_worst(pairs, "both_charging_to_fair_s"), target_pct=1.0, target_realloc_s=10.0,
         note="stranded = hungry car's spare on its line phases, capped at what it could still take")
