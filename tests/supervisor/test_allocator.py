"""Load sharing: the seed's 13 A / 19 A example, priorities, phases, admission, pauses, turns, probes."""

from __future__ import annotations

from dataclasses import dataclass, replace

import pytest

from appliance.supervisor.allocation import (
    Allocation,
    Allocator,
    SharingSettings,
    Site,
    StationDemand,
    line_phases,
    per_line_phase,
    phases_in_use,
)


@dataclass(frozen=True)
class Car:
    """A plugged car at a station: it draws what it is offered (plus its overdraw), up to its own limit."""

    station: int
    limit_a: float = 32.0
    phases: int = 3
    known_phases: bool = True
    rotation: tuple[int, int, int] = (1, 2, 3)
    priority: int = 0
    max_a: float = 32.0
    overdraw_a: float = 0.0

    def demand(self, offered: float, since: float | None = None) -> StationDemand:
        draw = min(offered + self.overdraw_a, self.limit_a) if offered > 0 else 0.0
        return StationDemand(
            station=self.station, active=True, max_a=self.max_a, priority=self.priority, phase_rotation=self.rotation,
            car_phases=self.phases if self.known_phases else None,
            measured_a=tuple(draw if i < self.phases else 0.0 for i in range(3)),  # type: ignore[arg-type]
            offered_a=offered, charging_since=since,
        )


class Caller:
    """Plays the supervisor loop once a second, applying every target at once."""

    def __init__(self, site: Site, cars: list[Car], settings: SharingSettings | None = None) -> None:
        self.site, self.cars = site, {c.station: c for c in cars}
        self.allocator = Allocator(settings)
        self.offers = {sid: 0.0 for sid in self.cars}
        self.t = 0.0
        self.last: dict[int, Allocation] = {}

    def run(self, seconds: float) -> dict[int, Allocation]:
        end = self.t + seconds
        while self.t < end:
            self.step()
        return self.last

    def step(self) -> dict[int, Allocation]:
        demands = [car.demand(self.offers[sid]) for sid, car in self.cars.items()]
        self.last = self.allocator.allocate(self.t, self.site, demands)
        self.offers = {sid: a.target_a for sid, a in self.last.items()}
        self.t += 1.0
        return self.last

    def targets(self) -> dict[int, float]:
        return dict(self.offers)


def once(
    site: Site, *demands: StationDemand, settings: SharingSettings | None = None, now: float = 0.0
) -> dict[int, Allocation]:
    return Allocator(settings).allocate(now, site, list(demands))


def demand(station: int, **kw: object) -> StationDemand:
    return StationDemand(station=station, active=kw.pop("active", True), max_a=kw.pop("max_a", 32.0), **kw)  # type: ignore[arg-type]


# ---------------------------------------------------------------- the seed's example
def test_car_drawing_13_a_leaves_19_a_to_the_other_within_10_s() -> None:
    caller = Caller(Site(32), [Car(1, limit_a=13), Car(2)])
    assert caller.step()[2].target_a == 16.0
    caller.run(5)
    assert caller.targets() == {1: 16.0, 2: 16.0}  # car 1 still has its 5 s to follow
    result = caller.run(4)
    assert (result[1].target_a, result[2].target_a) == (13.0, 19.0)
    assert result[1].reason == "limited to 13 A: car draws 13 A; 19 A go to station 2"
    assert result[2].reason == "charging at 19 A: line shared with station 1"


def test_a_car_still_ramping_up_is_not_under_drawing() -> None:
    caller = Caller(Site(32), [Car(1), Car(2)])
    caller.run(2)
    for amps in (4.0, 6.0, 8.0, 10.0, 12.0, 14.0, 16.0, 16.0, 16.0, 16.0):  # 2 A/s, then its full offer
        caller.cars[1] = Car(1, limit_a=amps)
        assert caller.step()[1].target_a == 16.0


def test_a_lone_under_drawing_car_keeps_its_full_offer_and_frees_the_rest_at_once() -> None:
    caller = Caller(Site(32), [Car(1, limit_a=13)])
    assert caller.run(100)[1].target_a == 32.0  # nobody needs the rest: no reason to hold it back
    caller.cars[2] = Car(2)
    caller.offers[2] = 0.0
    result = caller.step()
    assert (result[1].target_a, result[2].target_a) == (13.0, 19.0)


def wobble(caller: Caller, seconds: int, low_a: float, high_a: float) -> list[dict[int, Allocation]]:
    """Car 1 draws `low_a` and `high_a` in turn, a second each."""
    seen = []
    for i in range(seconds):
        caller.cars[1] = Car(1, limit_a=high_a if i % 2 else low_a)
        seen.append(caller.step())
    return seen


def test_a_car_that_drew_more_before_is_counted_with_a_margin_and_is_back_as_soon_as_it_draws_again() -> None:
    caller = Caller(Site(32), [Car(1), Car(2)])
    caller.run(30)
    caller.cars[1] = Car(1, limit_a=10)
    caller.run(3)
    assert caller.targets() == {1: 16.0, 2: 16.0}
    caller.run(2)
    assert caller.targets() == {1: 11.0, 2: 21.0}  # a steady 10 A + the 1 A margin
    seen = [caller.step() for _ in range(600)]
    assert all((r[1].target_a, r[2].target_a) == (11.0, 21.0) for r in seen)  # settled: no probes
    caller.cars[1] = Car(1)
    assert caller.step()[1].target_a == 16.0  # it takes the margin: hungry, its share again


def test_a_draw_that_wobbles_keeps_the_wider_margin_and_is_hungry_above_half_of_it() -> None:
    caller = Caller(Site(32), [Car(1), Car(2)])
    caller.run(30)
    seen = wobble(caller, 120, 10.0, 10.6)  # more than the steady band, less than hunger
    assert all(r[1].target_a == 12.6 for r in seen[10:]) and caller.targets()[2] == 19.4
    caller.cars[1] = Car(1, limit_a=11.7)  # more than half the 2 A margin over 10.6 A
    assert caller.step()[1].target_a == 16.0


@pytest.mark.parametrize("wobble_a", [0.0, 0.2])
def test_a_steady_draw_gets_the_narrower_margin_and_is_hungry_above_half_of_it(wobble_a) -> None:
    caller = Caller(Site(32), [Car(1), Car(2)])
    caller.run(30)
    wobble(caller, 60, 10.0, 10.0 + wobble_a)  # within the steady band
    assert caller.targets() == {1: 11.0 + wobble_a, 2: 21.0 - wobble_a}
    caller.cars[1] = Car(1, limit_a=10.4 + wobble_a)  # noise under half the 1 A margin
    assert caller.run(60)[1].target_a == 11.0 + wobble_a
    caller.cars[1] = Car(1, limit_a=10.6 + wobble_a)
    assert caller.step()[1].target_a == 16.0


def test_a_steady_draw_counted_with_the_wider_margin_gets_the_narrower_one_once_it_held() -> None:
    caller = Caller(Site(32), [Car(1), Car(2)], SharingSettings(steady_after_s=10.0))
    caller.run(30)
    caller.cars[1] = Car(1, limit_a=10)
    seen = [caller.step() for _ in range(30)]
    assert [r[1].target_a for r in seen] == [16.0] * 3 + [12.0] * 7 + [11.0] * 20


def test_the_margins_over_the_measured_draw_are_settings() -> None:
    settings = SharingSettings(underdraw_margin_a=3.0, steady_margin_a=1.5)
    caller = Caller(Site(32), [Car(1), Car(2)], settings)
    caller.run(30)
    caller.cars[1] = Car(1, limit_a=10)
    assert caller.run(10)[1].target_a == 11.5 and caller.targets()[2] == 20.5
    caller = Caller(Site(32), [Car(1), Car(2)], settings)
    caller.run(30)
    wobble(caller, 10, 10.0, 10.6)
    assert caller.targets() == {1: 13.6, 2: 18.4}


def test_a_car_that_stopped_drawing_keeps_6_a_and_takes_its_share_once_it_draws_again() -> None:
    caller = Caller(Site(32), [Car(1, limit_a=0), Car(2)])
    result = caller.run(10)
    assert (result[1].target_a, result[2].target_a) == (6.0, 26.0)
    caller.cars[1] = Car(1)  # the car asks for power again
    caller.step()
    assert caller.step()[1].target_a == 16.0


def test_a_car_offered_less_than_it_is_counted_at_is_not_under_drawing() -> None:
    caller = Caller(Site(32), [Car(1, limit_a=13), Car(2)])
    caller.run(20)
    caller.site = Site(32, external_a=(12.0, 12.0, 12.0))  # 20 A left: 10 A each
    assert caller.run(30)[1].target_a == 10.0
    caller.site = Site(32)
    caller.step()
    assert caller.targets() == {1: 13.0, 2: 19.0}  # still counted at the 13 A it drew


# ---------------------------------------------------------------- probing back up
def test_a_capped_car_is_offered_its_share_again_only_every_10_min() -> None:
    caller = Caller(Site(32), [Car(1, limit_a=13), Car(2)])
    caller.run(12)
    assert caller.targets() == {1: 13.0, 2: 19.0}
    seen = [caller.step() for _ in range(1300)]
    probes = [i for i, r in enumerate(seen) if r[1].target_a > 13.0]
    assert len(probes) == 2 * 9  # two probes, each over once the car had its 5 s to follow and 3 s more
    assert probes[0] >= 590 and probes[9] - probes[0] >= 600
    assert all(seen[i][1].target_a == 16.0 and seen[i][2].target_a == 16.0 for i in probes)  # the other is never paused
    assert seen[probes[0]][1].reason == "charging at 16 A: checking whether the car takes more"
    assert caller.targets() == {1: 13.0, 2: 19.0}


def test_probe_finds_a_car_that_wants_more_again() -> None:
    caller = Caller(Site(32), [Car(1, limit_a=13), Car(2)])
    caller.run(100)
    caller.cars[1] = Car(1)  # it could take more now, but is held at 13 A
    caller.run(30)
    assert caller.targets()[1] == 13.0
    caller.run(600)  # the probe came
    assert caller.targets() == {1: 16.0, 2: 16.0}


def test_a_probing_car_with_priority_does_not_pause_the_other() -> None:
    caller = Caller(Site(32), [Car(1, limit_a=13, priority=1), Car(2)])
    caller.run(12)
    assert caller.targets() == {1: 13.0, 2: 19.0}
    during = [caller.step() for _ in range(600)]
    assert max(r[1].target_a for r in during) == 26.0
    assert min(r[2].target_a for r in during) == 6.0


def test_priority_first_once_both_have_their_minimum() -> None:
    result = once(Site(32), demand(1), demand(2, priority=1))
    assert (result[1].target_a, result[2].target_a) == (6.0, 26.0)
    assert result[1].reason == "charging at 6 A: line shared with station 2"
    result = once(Site(32), demand(1), demand(2, priority=1, max_a=20))
    assert (result[1].target_a, result[2].target_a) == (12.0, 20.0)
    result = once(Site(10), demand(1), demand(2, priority=1))
    assert (result[1].target_a, result[2].target_a) == (0.0, 10.0)
    assert result[1].reason == "paused: station 2 has priority"


def test_equal_priority_shares_equally() -> None:
    result = once(Site(20), demand(1), demand(2))
    assert (result[1].target_a, result[2].target_a) == (10.0, 10.0)
    result = once(Site(32), demand(1, max_a=10), demand(2))
    assert (result[1].target_a, result[2].target_a) == (10.0, 22.0)
    assert result[1].reason == "charging at 10 A"


def test_targets_round_down_to_a_tenth() -> None:
    result = once(Site(32), demand(1), demand(2), demand(3))
    assert [result[s].target_a for s in (1, 2, 3)] == [10.6, 10.6, 10.6]


def test_a_station_allowed_less_than_6_a_cannot_charge() -> None:
    result = once(Site(32), demand(1, max_a=5), demand(2))
    assert (result[1].target_a, result[2].target_a) == (0.0, 32.0)
    assert result[1].reason == "cannot charge: 5 A allowed, below the 6 A minimum"


def test_inactive_station_gets_nothing() -> None:
    result = once(Site(32), demand(1, active=False, offered_a=16.0), demand(2))
    assert result[1].target_a == 0.0 and result[2].target_a == 32.0


# ---------------------------------------------------------------- phases
def test_rotation_decides_which_line_phase_a_1_phase_car_loads() -> None:
    site = Site(32, external_a=(0.0, 10.0, 0.0))
    on_l1 = once(site, demand(1, car_phases=1), demand(2))
    on_l2 = once(site, demand(1, car_phases=1, phase_rotation=(2, 3, 1)), demand(2))
    assert (on_l1[1].target_a, on_l1[2].target_a) == (16.0, 16.0)  # they share L1
    assert (on_l2[1].target_a, on_l2[2].target_a) == (11.0, 11.0)  # they share what the house leaves on L2
    assert on_l2[1].reason == "charging at 11 A: line shared with station 2"


def test_a_1_phase_car_leaves_the_other_phases_to_a_3_phase_car() -> None:
    site = Site(32, external_a=(0.0, 20.0, 0.0))
    result = once(site, demand(1, car_phases=1), demand(2))
    assert (result[1].target_a, result[2].target_a) == (20.0, 12.0)
    assert result[2].reason == "charging at 12 A: house load 20 A on L2"
    assert result[1].reason == "charging at 20 A: line shared with station 2"


def test_two_1_phase_cars_on_different_phases_each_get_the_line() -> None:
    one, two = demand(1, car_phases=1), demand(2, car_phases=1, phase_rotation=(3, 1, 2))
    free = once(Site(32), one, two)
    assert (free[1].target_a, free[2].target_a) == (32.0, 32.0)
    same = once(Site(32), one, demand(2, car_phases=1))
    assert (same[1].target_a, same[2].target_a) == (16.0, 16.0)


def test_external_load_reduces_what_is_free() -> None:
    result = once(Site(32, external_a=(10.0, 3.0, 0.0)), demand(1))
    assert result[1].target_a == 22.0 and result[1].reason == "charging at 22 A: house load 10 A on L1"
    assert once(Site(32, external_a=(-20.0, 0.0, 0.0)), demand(1))[1].target_a == 32.0  # export never adds


def test_external_load_can_leave_too_little() -> None:
    result = once(Site(32, external_a=(0.0, 27.0, 0.0)), demand(1))
    assert result[1].target_a == 0.0 and result[1].reason == "waiting: less than 6 A free on L2"


# ---------------------------------------------------------------- overdraw
def test_an_overdrawing_car_is_counted_at_what_it_draws_and_both_load_the_line_equally() -> None:
    caller = Caller(Site(32), [Car(1, limit_a=40, overdraw_a=1.5), Car(2)])
    caller.run(20)
    assert caller.targets() == {1: 14.5, 2: 16.0}  # it takes 16 A
    assert (
        caller.last[1].reason == "charging at 14.5 A: line shared with station 2; the car draws 1.5 A more than offered"
    )
    assert caller.last[2].reason == "charging at 16 A: line shared with station 1"


def test_a_lone_overdrawing_car_is_offered_less_so_that_its_draw_fits() -> None:
    caller = Caller(Site(32), [Car(1, limit_a=40, overdraw_a=1.5)])
    assert caller.step()[1].target_a == 32.0  # not seen drawing yet
    assert caller.step()[1].target_a == 30.5  # 33.5 A of 32 A offered
    assert caller.run(30)[1].target_a == 30.5
    assert caller.last[1].reason == "charging at 30.5 A: line limit 32 A; the car draws 1.5 A more than offered"


def test_a_car_still_following_a_lower_offer_is_not_overdrawing() -> None:
    allocator = Allocator()
    one = demand(1, offered_a=32.0, measured_a=(32.0, 32.0, 32.0))
    allocator.allocate(0.0, Site(32), [one, demand(2)])
    lowered = replace(one, offered_a=16.0)  # it has 5 s to follow
    assert allocator.allocate(1.0, Site(32), [lowered, demand(2)])[2].target_a == 16.0
    settled = replace(lowered, measured_a=(17.5, 17.5, 17.5))  # after its 5 s it still takes 1.5 A more
    result = allocator.allocate(6.0, Site(32), [settled, demand(2)])
    assert (result[1].target_a, result[2].target_a) == (14.5, 16.0)


def test_an_overdraw_counts_while_the_car_follows_a_change_and_ends_when_it_stops() -> None:
    allocator = Allocator()
    lone = demand(1, offered_a=32.0, measured_a=(33.5, 33.5, 33.5))
    assert allocator.allocate(0.0, Site(32), [lone])[1].target_a == 30.5
    lowered = replace(lone, offered_a=30.5)
    assert allocator.allocate(1.0, Site(32), [lowered])[1].target_a == 30.5  # still on 32 A + 1.5 A
    following = replace(lowered, measured_a=(32.0, 32.0, 32.0))
    assert allocator.allocate(2.0, Site(32), [following])[1].target_a == 30.5  # what it showed still counts
    assert allocator.allocate(6.0, Site(32), [following])[1].target_a == 30.5  # settled: 1.5 A over
    healed = replace(lowered, measured_a=(30.5, 30.5, 30.5))
    assert allocator.allocate(7.0, Site(32), [healed])[1].target_a == 32.0


def test_an_overdraw_loads_only_the_line_phases_the_car_uses() -> None:
    allocator = Allocator()
    one = demand(1, car_phases=1, offered_a=32.0, measured_a=(33.5, 0.0, 0.0))
    two = demand(2, car_phases=1, phase_rotation=(3, 1, 2), offered_a=32.0, measured_a=(32.0, 0.0, 0.0))
    result = allocator.allocate(0.0, Site(32), [one, two])
    assert (result[1].target_a, result[2].target_a) == (30.5, 32.0)


def test_a_lower_priority_car_pays_for_its_own_overdraw() -> None:
    caller = Caller(Site(32), [Car(1, limit_a=40, overdraw_a=1.5), Car(2, priority=1, max_a=20.0)])
    caller.run(20)
    assert caller.targets() == {1: 10.5, 2: 20.0}


# ---------------------------------------------------------------- admission
def test_a_new_car_of_unknown_phases_needs_6_a_on_every_line_phase() -> None:
    site = Site(32, external_a=(0.0, 27.0, 0.0))
    running = demand(1, car_phases=1, offered_a=32.0, measured_a=(32.0, 0.0, 0.0))
    unknown = once(site, running, demand(2))
    assert unknown[2].target_a == 0.0 and unknown[2].reason == "waiting: less than 6 A free on L2"
    single = once(site, running, demand(2, car_phases=1, phase_rotation=(3, 1, 2)))
    assert single[2].target_a == 32.0 and single[1].target_a == 32.0


def test_a_new_car_waits_rather_than_pause_a_charging_one_at_equal_priority() -> None:
    result = once(Site(10), demand(1, offered_a=10.0, charging_since=-5000.0), demand(2))
    assert (result[1].target_a, result[2].target_a) == (10.0, 0.0)
    assert result[2].reason == "waiting: less than 6 A free on L1; taking turns with station 1 every 30 min"


def test_a_new_car_is_admitted_when_the_share_leaves_6_a() -> None:
    result = once(Site(12), demand(1, offered_a=12.0), demand(2))
    assert (result[1].target_a, result[2].target_a) == (6.0, 6.0)


# ---------------------------------------------------------------- shortage
def test_shortage_pauses_the_lower_priority() -> None:
    result = once(Site(10), demand(1, priority=2, offered_a=5.0), demand(2, offered_a=5.0))
    assert (result[1].target_a, result[2].target_a) == (10.0, 0.0)
    assert result[2].reason == "paused: station 1 has priority"


def test_shortage_at_equal_priority_pauses_the_longer_charged() -> None:
    result = once(
        Site(10),
        demand(1, offered_a=6.0, charging_since=0.0),
        demand(2, offered_a=6.0, charging_since=100.0),
        now=200.0,
    )
    assert (result[1].target_a, result[2].target_a) == (0.0, 10.0)


def test_equal_priority_stations_take_turns_while_the_shortage_lasts() -> None:
    caller = Caller(Site(10), [Car(1), Car(2)])
    runs: list[int] = []
    for _ in range(7200):
        result = caller.step()
        charging = [s for s, a in result.items() if a.target_a > 0]
        assert len(charging) == 1  # never both, never neither
        if not runs or runs[-1] != charging[0]:
            runs.append(charging[0])
    assert runs == [1, 2, 1, 2]


def test_turns_wait_for_the_caller_to_apply_a_swap() -> None:
    allocator = Allocator()
    site = Site(10)
    allocator.allocate(0.0, site, [demand(1, offered_a=10.0), demand(2)])
    swap = allocator.allocate(1800.0, site, [demand(1, offered_a=10.0), demand(2)])
    assert (swap[1].target_a, swap[2].target_a) == (0.0, 10.0)
    halfway = allocator.allocate(1801.0, site, [demand(1), demand(2)])  # station 1 lowered, 2 not raised yet
    assert (halfway[1].target_a, halfway[2].target_a) == (0.0, 10.0)


def test_rotation_time_is_a_setting() -> None:
    caller = Caller(Site(10), [Car(1), Car(2)], SharingSettings(rotate_after_s=60.0))
    switches = 0
    previous = None
    for _ in range(300):
        now = [s for s, a in caller.step().items() if a.target_a > 0]
        switches += previous is not None and now != previous
        previous = now
    assert switches == 4


# ---------------------------------------------------------------- helpers for the caller
def test_phase_helpers() -> None:
    assert phases_in_use((13.0, 0.2, 0.0)) == 1
    assert phases_in_use((13.0, 13.0, 13.0)) == 3
    assert phases_in_use((0.0, 0.0, 0.0)) is None
    assert line_phases((2, 3, 1), 1) == (2,) and line_phases((2, 3, 1), None) == (2, 3, 1)
    assert per_line_phase((2, 3, 1), (10.0, 5.0, 1.0)) == (1.0, 10.0, 5.0)


def test_same_inputs_same_outputs() -> None:
    a, b = (
        Caller(Site(20), [Car(1, limit_a=7), Car(2, phases=1)]),
        Caller(Site(20), [Car(1, limit_a=7), Car(2, phases=1)]),
    )
    for _ in range(500):
        assert a.step() == b.step()


@pytest.mark.parametrize("bad", [
    lambda: StationDemand(station=1, active=True, max_a=32, phase_rotation=(1, 1, 2)),
    lambda: StationDemand(station=1, active=True, max_a=32, car_phases=4),
    lambda: StationDemand(station=1, active=True, max_a=float("nan")),
    lambda: StationDemand(station=1, active=True, max_a=32, measured_a=(1.0, 2.0)),  # type: ignore[arg-type]
    lambda: Site(-1),
    lambda: Allocator().allocate(0, Site(32), [demand(1), demand(1)]),
])
def test_bad_input_is_refused_with_a_reason(bad) -> None:
    with pytest.raises(ValueError):
        bad()


def test_demand_is_a_plain_value() -> None:
    d = demand(1, offered_a=16.0, measured_a=(13.0, 13.0, 13.0))
    assert replace(d, offered_a=0.0).drawing_a is None and d.drawing_a == 13.0
