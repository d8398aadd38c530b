"""The pilot's line check per line phase: each car counted where its meter saw it draw."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from appliance.pilot.config import PilotConfig, StationConfig
from appliance.pilot.engine import CommandRejected, PilotEngine
from tests.pilot.test_phase_use import reading

ROTATIONS = [(1, 2, 3), (2, 3, 1), (3, 1, 2), (1, 3, 2), (2, 1, 3), (3, 2, 1)]
ONE_PHASE = reading(10.0, 0.0, 0.0)
THREE_PHASES = reading(10.0, 10.0, 10.0)


def engine(
    limit: float = 32.0,
    rotations: tuple[Any, Any] = ((1, 2, 3), (2, 3, 1)),
    ratings: tuple[float, float] = (32.0, 32.0),
) -> PilotEngine:
    return PilotEngine(
        PilotConfig(
            line_limit_a=limit,
            stations=[
                StationConfig(id=sid, max_current_a=rating, phase_rotation=rot)
                for sid, (rot, rating) in enumerate(zip(rotations, ratings, strict=False), 1)
            ],
        )
    )


def learn(e: PilotEngine, **meters: Any) -> None:
    e.learn_phases(0.0, {int(sid[1:]): m for sid, m in meters.items()})


def test_two_1_phase_cars_on_different_line_phases_may_each_have_the_line_limit() -> None:
    e = engine()
    learn(e, s1=ONE_PHASE, s2=ONE_PHASE)
    e.set_current(0.0, 1, 32.0, True)
    e.set_current(0.0, 2, 32.0, True)
    assert [e.allocated_a(p) for p in (1, 2, 3)] == [32.0, 32.0, 0.0]


def test_a_car_not_yet_drawing_is_counted_on_every_line_phase_and_the_rejection_says_where() -> None:
    e = engine()
    learn(e, s1=ONE_PHASE)
    e.set_current(0.0, 1, 32.0, True)
    with pytest.raises(CommandRejected, match=r"6 A on line phase L1 with 32 A already allocated .* 32 A per phase"):
        e.set_current(0.0, 2, 6.0, True)
    e.set_current(0.0, 1, 26.0, True)
    e.set_current(0.0, 2, 6.0, True)
    learn(e, s2=ONE_PHASE)  # its L1 is on line phase 2: now there is room
    e.set_current(0.0, 1, 32.0, True)
    e.set_current(0.0, 2, 32.0, True)


def test_a_car_switching_to_3_phases_is_recounted_and_the_line_shrunk_at_once() -> None:
    e = engine()
    learn(e, s1=ONE_PHASE, s2=ONE_PHASE)
    e.set_current(0.0, 1, 32.0, True)
    e.set_current(0.0, 2, 32.0, True)
    e.stations[2].contactor = True  # the one charging keeps its current
    learn(e, s1=THREE_PHASES)
    assert e.stations[1].phases.line_phases == (1, 2, 3)
    assert (e.stations[1].request_allowed, e.stations[2].request_a) == (False, 32.0)
    assert max(e.allocated_a(p) for p in (1, 2, 3)) == 32.0
    assert "line phase L2 over the 32 A limit: station 1 paused" in e.log.since(0)[-1].message


def test_a_lower_line_limit_shrinks_per_line_phase() -> None:
    e = engine(rotations=((1, 2, 3), (1, 2, 3)))
    learn(e, s1=THREE_PHASES, s2=ONE_PHASE)
    e.set_current(0.0, 1, 20.0, True)
    e.set_current(0.0, 2, 12.0, True)
    e.set_line_limit(0.0, 24.0)  # larger allocation first: station 1 keeps 20, station 2 would get 4: paused
    assert (e.stations[1].request_a, e.stations[2].request_allowed) == (20.0, False)


# -- properties ------------------------------------------------------------------------------------------
conductor_sets = st.sampled_from([(), (1,), (2,), (3,), (1, 2), (1, 3), (1, 2, 3)])
currents = st.floats(min_value=0.0, max_value=90.0, allow_nan=False) | st.sampled_from([0.0, 5.9, 6.0, 16.0, 32.0])
operations = st.lists(st.one_of(
    st.tuples(st.just("set"), st.sampled_from([1, 2]), currents, st.booleans()),
    st.tuples(st.just("limit"), currents),
    st.tuples(st.just("learn"), st.sampled_from([1, 2]), conductor_sets),
    st.tuples(st.just("charging"), st.sampled_from([1, 2]), st.booleans()),
), min_size=1, max_size=30)
setups = st.tuples(
    st.floats(min_value=6.0, max_value=80.0, allow_nan=False),
    st.tuples(st.sampled_from(ROTATIONS), st.sampled_from(ROTATIONS)),
    st.tuples(
        st.floats(min_value=6.0, max_value=80.0, allow_nan=False),
        st.floats(min_value=6.0, max_value=80.0, allow_nan=False),
    ),
    st.tuples(st.sampled_from([None, 13.0, 20.0, 32.0, 63.0]), st.sampled_from([None, 13.0, 20.0, 32.0, 63.0])),
)


def counted_on(rotation: tuple[int, int, int], conductors: set[int]) -> set[int]:
    """The line phases a car loads, worked out here from the wiring (all three until it drew)."""
    return {rotation[c - 1] for c in conductors} if conductors else {1, 2, 3}


class Model:
    """What the test knows independently of the engine: the wiring and the cars' conductors."""

    def __init__(self, e: PilotEngine) -> None:
        self.e = e
        self.conductors: dict[int, set[int]] = {1: set(), 2: set()}

    def phases(self, sid: int) -> set[int]:
        return counted_on(self.e.stations[sid].cfg.phase_rotation, self.conductors[sid])

    def load(self) -> dict[int, float]:
        return {p: sum(s.request_a for sid, s in self.e.stations.items() if s.request_allowed and p in self.phases(sid))
                for p in (1, 2, 3)}

    def allowed(self, sid: int, amps: float, allowed: bool) -> bool:
        s = self.e.stations[sid]
        limit = self.e.line_limit_a
        if (
            (allowed and 0 < amps < 6)
            or amps > s.cfg.max_current_a
            or amps > limit
            or (s.cable_a is not None and amps > s.cable_a)
        ):
            return False
        others = {p: sum(o.request_a for oid, o in self.e.stations.items()
                         if oid != sid and o.request_allowed and p in self.phases(oid)) for p in (1, 2, 3)}
        return not allowed or all(others[p] + amps <= limit + 1e-9 for p in self.phases(sid))

    def check(self) -> None:
        limit = self.e.line_limit_a
        assert all(amps <= limit + 1e-6 for amps in self.load().values()), (self.load(), limit)
        for s in self.e.stations.values():
            if s.request_allowed and s.request_a > 0:  # allowed at 0 A is a pause as well
                assert 6.0 <= s.request_a <= s.cfg.max_current_a and (s.cable_a is None or s.request_a <= s.cable_a)


def play(setup: tuple, ops: list[tuple]) -> None:
    limit, rotations, ratings, cables = setup
    e = engine(limit, rotations, ratings)
    for sid, cable in enumerate(cables, 1):
        e.stations[sid].vehicle.cable_a = cable
    model = Model(e)
    for op in ops:
        running_before = [s.id for s in e.stations.values() if s.request_allowed and s.request_a > 0]
        if op[0] == "set":
            _, sid, amps, allowed = op
            expected = model.allowed(sid, amps, allowed)
            try:
                e.set_current(0.0, sid, amps, allowed)
            except CommandRejected:
                assert not expected, op
            else:
                assert expected, op
                assert (e.stations[sid].request_a, e.stations[sid].request_allowed) == (amps, allowed)
        elif op[0] == "limit":
            if op[1] > e.config.line_limit_a:
                continue
            e.set_line_limit(0.0, op[1])
            if running_before and op[1] >= 6:  # a line with room for one never pauses both
                assert any(s.request_allowed and s.request_a > 0 for s in e.stations.values())
        elif op[0] == "learn":
            _, sid, conductors = op
            model.conductors[sid] |= set(conductors)
            amps = [10.0 if c in conductors else 0.0 for c in (1, 2, 3)]
            learn(e, **{f"s{sid}": reading(*amps)})
            assert set(e.stations[sid].phases.line_phases) == model.phases(sid)
            if running_before:  # the line limit did not change: whoever was first still fits
                assert any(s.request_allowed and s.request_a > 0 for s in e.stations.values())
        else:
            e.stations[op[1]].contactor = op[2]
        model.check()


@settings(max_examples=400, deadline=None)
@given(setup=setups, ops=operations)
def test_accepted_allocations_never_break_a_limit_on_any_line_phase(setup: tuple, ops: list[tuple]) -> None:
    play(setup, ops)
