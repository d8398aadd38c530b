"""The supervisor's steps pass the pilot's line check, per line phase."""

from __future__ import annotations

from appliance.protocol import SetCurrent, StationSnapshot
from appliance.supervisor.live import LiveStation
from appliance.supervisor.sequencer import CommandSequencer


def live(sid: int, requested_a: float, line_phases: tuple[int, ...]) -> LiveStation:
    return LiveStation(station=sid, state="C", requested_a=requested_a, allowed=requested_a > 0, offered_a=requested_a,
                       contactor=requested_a > 0, current_a=[requested_a, 0.0, 0.0], line_phases=list(line_phases))


def sets(commands: list[SetCurrent]) -> list[tuple[int, float]]:
    return [(c.station, c.current_a) for c in commands]


def test_a_station_on_another_line_phase_is_raised_beside_a_full_one() -> None:
    stations = {1: live(1, 32.0, (1,)), 2: live(2, 0.0, (2,))}
    assert sets(CommandSequencer().commands(0.0, {1: 32.0, 2: 32.0}, stations, 32.0)) == [(2, 32.0)]


def test_steps_stay_within_the_line_phases_the_pilot_counts() -> None:
    stations = {1: live(1, 20.0, (1,)), 2: live(2, 0.0, (1, 2, 3))}  # car 2 has not drawn yet: all three
    assert sets(CommandSequencer().commands(0.0, {1: 20.0, 2: 32.0}, stations, 32.0)) == [(2, 12.0)]


def test_the_pilots_line_phases_are_taken_from_its_snapshot() -> None:
    station = LiveStation(station=1)
    assert station.counted_line_phases == (1, 2, 3)  # no car has drawn yet
    station.update(StationSnapshot(station=1, state="C", line_phases=[2]), 0.0)
    assert station.counted_line_phases == (2,)
