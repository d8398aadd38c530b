"""The supervisor's steps pass the pilot's line check: per line phase with a pilot that says so."""

from __future__ import annotations

from typing import Any

from appliance.supervisor.core import SupervisorCore
from appliance.supervisor.live import LiveStation
from appliance.supervisor.sequencer import CommandSequencer
from appliance.supervisor.settings import SiteSettings


def live(sid: int, requested_a: float, line_phases: tuple[int, ...] | None) -> LiveStation:
    return LiveStation(sid, state="C", requested_a=requested_a, allowed=requested_a > 0, offered_a=requested_a,
                       contactor=requested_a > 0, current_a=[requested_a, 0.0, 0.0], line_phases=line_phases)


def sets(commands: list[dict[str, Any]]) -> list[tuple[int, float]]:
    return [(c["station"], c["current_a"]) for c in commands]


def test_a_station_on_another_line_phase_is_raised_beside_a_full_one() -> None:
    stations = {1: live(1, 32.0, (1,)), 2: live(2, 0.0, (2,))}
    assert sets(CommandSequencer().commands(0.0, {1: 32.0, 2: 32.0}, stations, 32.0)) == [(2, 32.0)]


def test_steps_stay_within_the_line_phases_the_pilot_counts() -> None:
    stations = {1: live(1, 20.0, (1,)), 2: live(2, 0.0, (1, 2, 3))}  # car 2 has not drawn yet: all three
    assert sets(CommandSequencer().commands(0.0, {1: 20.0, 2: 32.0}, stations, 32.0)) == [(2, 12.0)]


def test_a_pilot_checking_the_plain_sum_gets_steps_within_the_sum() -> None:
    stations = {1: live(1, 20.0, None), 2: live(2, 0.0, None)}
    assert sets(CommandSequencer().commands(0.0, {1: 20.0, 2: 32.0}, stations, 32.0)) == [(2, 12.0)]
    stations = {1: live(1, 32.0, None), 2: live(2, 0.0, None)}
    assert sets(CommandSequencer().commands(0.0, {1: 32.0, 2: 32.0}, stations, 32.0)) == []


def test_the_allocator_drops_the_plain_sum_only_for_a_pilot_that_checks_per_phase() -> None:
    core = SupervisorCore(SiteSettings(line_limit_a=32.0))
    core.on_connected({"line_limit_a": 32.0}, 0.0)
    assert core.policy.allocator.settings.pilot_sum_limit is True
    core.on_connected({"line_limit_a": 32.0, "line_check": "per_phase"}, 1.0)
    assert core.policy.allocator.settings.pilot_sum_limit is False
    core.on_pilot_message({"event": "telemetry", "stations": {"1": {"state": "C", "line_phases": [1]}}}, 2.0)
    core.on_connected({"line_limit_a": 32.0}, 3.0)  # an older pilot again
    assert core.policy.allocator.settings.pilot_sum_limit is True and core.live[1].counted_line_phases == (1, 2, 3)


def test_the_pilots_line_phases_are_taken_from_its_snapshot_and_odd_ones_count_as_all() -> None:
    station = LiveStation(1)
    station.update({"state": "C", "line_phases": [2]}, 0.0)
    assert station.counted_line_phases == (2,)
    station.update({"state": "C", "line_phases": "all"}, 1.0)
    assert station.counted_line_phases == (1, 2, 3)
    assert LiveStation(2).counted_line_phases == (1, 2, 3)  # a pilot that does not say
