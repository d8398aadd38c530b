"""Whatever the inputs and their history: within every line phase, 0 or 6..max_a, never all paused needlessly."""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import given, settings
from hypothesis import strategies as st

from appliance.supervisor.allocation import Allocation, Allocator, SharingSettings, Site, StationDemand

ROTATIONS = [(1, 2, 3), (2, 3, 1), (3, 1, 2), (1, 3, 2), (2, 1, 3), (3, 2, 1)]
amps = st.floats(min_value=0.0, max_value=80.0, allow_nan=False)


@dataclass(frozen=True)
class Moment:
    """One second of the world: how far time moved, the house load, and each station's car."""

    dt: float
    external_a: tuple[float, float, float]
    cars: tuple[
        tuple[bool, float, float, int | None, bool, float | None], ...
    ]  # active, max, draw, phases, follow, offer


moments = st.builds(
    Moment,
    dt=st.sampled_from([0.5, 1.0, 1.0, 1.0, 30.0, 61.0, 299.0, 1800.0]),
    external_a=st.tuples(*[st.floats(min_value=-20, max_value=40, allow_nan=False)] * 3),
    cars=st.lists(
        st.tuples(st.booleans(), amps, amps, st.sampled_from([None, 1, 2, 3]), st.booleans(), st.none() | amps),
        min_size=3, max_size=3,
    ).map(tuple),
)

stations = st.lists(
    st.tuples(st.integers(-2, 2), st.sampled_from(ROTATIONS), st.none() | st.floats(0, 1e5, allow_nan=False)),
    min_size=1, max_size=3,
)


def line_load(demands: list[StationDemand], targets: dict[int, float]) -> list[float]:
    """Per line phase, counted the way the wiring carries it (independent of the allocator's code)."""
    load = [0.0, 0.0, 0.0]
    for d in demands:
        for conductor in range(d.car_phases or 3):
            load[d.phase_rotation[conductor] - 1] += targets[d.station]
    return load


def could_run_alone(d: StationDemand, site: Site, over: float) -> bool:
    """Whether 6 A, and the car's overdraw on top, fit the line with nobody else."""
    free = min(site.line_limit_a - max(0.0, site.external_a[d.phase_rotation[c] - 1]) for c in range(d.car_phases or 3))
    return d.active and d.max_a >= 6 and free >= 6 + over


def check(result: dict[int, Allocation], demands: list[StationDemand], site: Site,
          over: dict[int, float] | None = None) -> None:
    targets = {sid: a.target_a for sid, a in result.items()}
    for d in demands:
        t = targets[d.station]
        assert t == 0 or 6 <= t <= d.max_a, (d, t)
        assert t == 0 or d.active
        assert result[d.station].reason
    for phase, load in enumerate(line_load(demands, targets), 1):
        assert load <= site.line_limit_a - max(0.0, site.external_a[phase - 1]) + 1e-6 or load == 0, (phase, load, site)
    if all(t == 0 for t in targets.values()):
        assert not any(could_run_alone(d, site, (over or {}).get(d.station, 0.0)) for d in demands)


def play(limit: float, setup: list, history: list[Moment], rotate: float) -> list[dict[int, Allocation]]:
    """Run the allocator through `history`; offers follow its targets unless a moment says otherwise."""
    allocator = Allocator(SharingSettings(rotate_after_s=rotate))
    offers = {sid: 0.0 for sid in range(1, len(setup) + 1)}
    now, out = 0.0, []
    for m in history:
        now += m.dt
        site = Site(limit, m.external_a)
        demands = []
        for sid, ((priority, rotation, since), (active, max_a, draw, phases, follow, offer)) in enumerate(
            zip(setup, m.cars, strict=False), 1
        ):
            offered = offers[sid] if follow or offer is None else offer
            drawn = min(offered, draw)
            demands.append(StationDemand(
                station=sid, active=active, max_a=max_a, priority=priority, phase_rotation=rotation, car_phases=phases,
                measured_a=(drawn, drawn if (phases or 3) > 1 else 0.0, drawn if (phases or 3) > 2 else 0.0),
                offered_a=offered, charging_since=since,
            ))
        result = allocator.allocate(now, site, demands)
        check(result, demands, site)
        offers = {sid: a.target_a for sid, a in result.items()}
        out.append(result)
    return out


@settings(max_examples=300, deadline=None)
@given(limit=st.floats(min_value=0, max_value=80, allow_nan=False), setup=stations,
       history=st.lists(moments, min_size=1, max_size=25),
       rotate=st.sampled_from([60.0, 1800.0]))
def test_limits_hold_whatever_happens(limit: float, setup: list, history: list[Moment], rotate: float) -> None:
    play(limit, setup, history, rotate)


@settings(max_examples=100, deadline=None)
@given(limit=st.floats(min_value=0, max_value=80, allow_nan=False), setup=stations,
       history=st.lists(moments, min_size=1, max_size=15))
def test_same_history_same_decisions(limit: float, setup: list, history: list[Moment]) -> None:
    assert play(limit, setup, history, 1800.0) == play(limit, setup, history, 1800.0)


@settings(max_examples=200, deadline=None)
@given(limit=st.floats(min_value=6, max_value=80, allow_nan=False),
       a=st.tuples(st.integers(-2, 2), st.sampled_from(ROTATIONS), st.sampled_from([None, 1, 3]), st.floats(6, 80)),
       b=st.tuples(st.integers(-2, 2), st.sampled_from(ROTATIONS), st.sampled_from([None, 1, 3]), st.floats(6, 80)),
       offers=st.tuples(st.sampled_from([0.0, 6.0, 16.0]), st.sampled_from([0.0, 6.0, 16.0])))
def test_two_stations_one_pauses_only_if_both_do_not_fit(limit: float, a: tuple, b: tuple, offers: tuple) -> None:
    demands = [
        StationDemand(station=sid, active=True, max_a=max_a, priority=prio, phase_rotation=rot, car_phases=phases,
                      offered_a=offer)
        for sid, (prio, rot, phases, max_a), offer in zip((1, 2), (a, b), offers, strict=False)
    ]
    result = Allocator().allocate(0.0, Site(limit), demands)
    running = [sid for sid, r in result.items() if r.target_a > 0]
    assert running  # each could run alone on an empty line of at least 6 A
    both_fit_at_6 = limit >= 12 or not set(demands[0].line_phases) & set(demands[1].line_phases)
    assert (len(running) == 2) == both_fit_at_6


overdrawing = st.lists(
    st.tuples(st.integers(-2, 2), st.sampled_from(ROTATIONS), st.sampled_from([1, 3]),
              st.integers(60, 800).map(lambda tenths: tenths / 10),  # settings come in tenths of an ampere
              st.sampled_from([0.0, 0.0, 0.3, 1.5, 3.0])),  # priority, rotation, phases, max, overdraw
    min_size=1, max_size=3,
)


@settings(max_examples=200, deadline=None)
@given(limit=st.floats(min_value=0, max_value=80, allow_nan=False), setup=overdrawing)
def test_cars_that_draw_more_than_offered_are_counted_at_what_they_draw(limit: float, setup: list) -> None:
    """Cars follow every offer at once, each taking its overdraw on top: once the allocator has seen
    them, what they draw fits every line phase; all wait only when no car's draw fits even alone."""
    allocator = Allocator()
    site = Site(limit)
    offers = {sid: 0.0 for sid in range(1, len(setup) + 1)}
    for second in range(40):
        demands, draws = [], {}
        for sid, (priority, rotation, phases, max_a, over) in enumerate(setup, 1):
            draws[sid] = offers[sid] + over if offers[sid] > 0 else 0.0
            demands.append(StationDemand(
                station=sid, active=True, max_a=max_a, priority=priority, phase_rotation=rotation, car_phases=phases,
                measured_a=tuple(draws[sid] if c < phases else 0.0 for c in range(3)),  # type: ignore[arg-type]
                offered_a=offers[sid],
            ))
        result = allocator.allocate(float(second), site, demands)
        check(result, demands, site, over={sid: car[4] for sid, car in enumerate(setup, 1)})
        offers = {sid: a.target_a for sid, a in result.items()}
        if second >= 10:  # long enough to have seen every car draw
            drawn = {sid: offers[sid] + setup[sid - 1][4] if offers[sid] > 0 else 0.0 for sid in offers}
            for phase, load in enumerate(line_load(demands, drawn), 1):
                assert load <= limit + 1e-6 or load == 0, (second, phase, load, offers)
