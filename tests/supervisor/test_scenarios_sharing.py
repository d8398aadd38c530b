"""Issue 3 acceptance: load sharing through the production supervisor core on simulated time."""

from __future__ import annotations

import pytest

from appliance.pilot.config import PilotConfig, StationConfig
from appliance.pilot.engine import CommandRejected, PilotEngine
from appliance.supervisor.external_limit import ExternalLimit
from tests.scenario_helpers import charging


def over_limit_seconds(samples: list[dict]) -> int:
    """Longest run of consecutive samples over the line limit on any phase (0.05 A for rounding)."""
    longest = run = 0
    for s in samples:
        run = run + 1 if max(s["line_a"]) > s["line_limit_a"] + 0.05 else 0
        longest = max(longest, run)
    return longest


def offered(report, station, t):
    sample = next(s for s in report.samples if s["t"] >= t)
    return sample["stations"][str(station)]["offered_a"]


def set_limit(at: float, amps: float) -> dict:
    return {"at": at, "do": "set_limit", "line_limit_a": amps}


def samples_between(report, start: float, end: float) -> list[dict]:
    return [s for s in report.samples if start <= s["t"] <= end]


def offer_changes(report, start: float, end: float) -> list[dict]:
    """The duty changes (new offers) of any station in [start, end]."""
    return [e for e in report.of("duty") if start <= e["t"] <= end]


def first_offer(report, station: int, at_least: float, after: float) -> float:
    """When the station was first offered `at_least` amps after `after`."""
    return next(e["t"] for e in report.of("duty", station) if e["t"] > after and e["offered_a"] >= at_least)


def test_car_drawing_13_a_leaves_19_a_for_the_other_within_10_s(run) -> None:
    events = charging(1, at=1.0, max_current_a=13) + charging(2, at=10.0)
    report, runner = run(events, until=100)
    closed2 = report.first("contactor", 2, closed=True)["t"]
    assert first_offer(report, 2, 19.0, after=0.0) - closed2 <= 10
    late = samples_between(report, closed2 + 10, 100)
    assert late and all(s["stations"]["2"]["offered_a"] >= 19.0 for s in late)
    assert all(s["stations"]["1"]["offered_a"] == 13.0 for s in late)
    assert over_limit_seconds(report.samples) <= 5
    assert runner.supervisor.rejections == []


def test_a_car_that_draws_less_frees_its_current_and_gets_it_back_when_it_draws_again(run) -> None:
    events = charging(1, at=1.0) + charging(2, at=5.0) + [
        {"at": 60.0, "station": 1, "do": "draw", "limit_a": 10},
        {"at": 120.0, "station": 1, "do": "draw", "limit_a": 32}]
    report, runner = run(events, until=180)
    assert offered(report, 1, 59) == 16.0 and offered(report, 2, 59) == 16.0
    freed = first_offer(report, 2, 19.0, after=60.0)
    assert freed - 60 <= 10
    for s in samples_between(report, freed + 1, 120):  # counted at its draw plus a small margin
        assert 19.0 <= s["stations"]["2"]["offered_a"] <= 22.0 and s["stations"]["1"]["offered_a"] <= 13.0, s
    back = first_offer(report, 1, 16.0, after=120.0)
    assert back - 120 <= 10
    lowered = next(e for e in report.of("duty", 2) if e["t"] > 120 and e["offered_a"] <= 16.0)
    assert lowered["t"] <= back  # the other station was lowered first
    assert offered(report, 1, 179) == 16.0 and offered(report, 2, 179) == 16.0
    assert over_limit_seconds(report.samples) <= 5
    assert runner.supervisor.rejections == []


def test_a_car_limited_at_13_a_that_later_draws_up_to_its_offer_gets_its_share_back_within_10_s(run) -> None:
    events = charging(1, at=1.0) + charging(2, at=5.0) + [
        {"at": 60.0, "station": 1, "do": "draw", "limit_a": 13},
        {"at": 200.0, "station": 1, "do": "draw", "limit_a": 32}]
    report, runner = run(events, until=260)
    for s in samples_between(report, 100, 200):  # held steady: 13 A plus the 1 A margin, the rest to station 2
        assert (s["stations"]["1"]["offered_a"], s["stations"]["2"]["offered_a"]) == (14.0, 18.0), s
    back = first_offer(report, 1, 16.0, after=200.0)
    assert back - 200 <= 10
    lowered = next(e for e in report.of("duty", 2) if e["t"] > 200 and e["offered_a"] <= 16.0)
    assert lowered["t"] <= back  # the other station was lowered first
    assert offered(report, 1, 259) == 16.0 and offered(report, 2, 259) == 16.0
    assert over_limit_seconds(report.samples) <= 5
    assert runner.supervisor.rejections == []


@pytest.mark.parametrize(("car", "drops_to_a", "offers"), [
    ({"max_current_a": 13}, None, (13.0, 19.0)),  # its charger stops at 13 A from the start: no margin
    ({}, 13.0, (14.0, 18.0)),  # it drew its share, then draws a steady 13 A: 1 A margin
    ({}, 10.0, (11.0, 21.0)),
])
def test_a_steady_pair_settles_and_stays_settled(run, car, drops_to_a, offers) -> None:
    events = charging(1, at=1.0, **car) + charging(2, at=5.0)
    if drops_to_a is not None:
        events.append({"at": 30.0, "station": 1, "do": "draw", "limit_a": drops_to_a})
    report, runner = run(events, until=420)
    assert offer_changes(report, 60, 420) == []  # six minutes without a new offer
    for s in samples_between(report, 60, 420):
        assert (s["stations"]["1"]["offered_a"], s["stations"]["2"]["offered_a"]) == offers, s
    assert runner.supervisor.rejections == []


def test_second_car_waits_until_the_first_is_lowered(run) -> None:
    events = charging(1, at=1.0) + charging(2, at=30.0)
    report, runner = run(events, until=60)
    lowered = next(e for e in report.of("duty", 1) if e["t"] > 30 and e["offered_a"] < 32)
    closed2 = report.first("contactor", 2, closed=True)
    assert closed2 is not None and closed2["t"] > lowered["t"]
    # car 1 had followed (or had its 5 s) before station 2 was offered anything
    offer2 = next(e for e in report.of("duty", 2) if e["t"] > 30 and e["offered_a"] > 0)
    assert offer2["t"] >= lowered["t"]
    car1 = next(s for s in report.samples if s["t"] >= offer2["t"])["stations"]["1"]
    assert offer2["t"] - lowered["t"] >= 5.0 - 1.01 or max(car1["current_a"]) <= lowered["offered_a"] + 1.0
    assert over_limit_seconds(report.samples) <= 5
    assert offered(report, 1, 59) == pytest.approx(16.0, abs=0.1) and offered(report, 2, 59) == pytest.approx(
        16.0, abs=0.1
    )


def test_too_little_for_both_exactly_one_pauses(run) -> None:
    events = charging(1, at=1.0) + charging(2, at=5.0)
    report, _ = run(events, until=60, site={"line_limit_a": 10})
    for s in report.samples:
        if s["t"] < 20:
            continue
        offers = [s["stations"][k]["offered_a"] for k in ("1", "2")]
        assert sorted(offers)[0] == 0 and sorted(offers)[1] >= 6, s
    assert over_limit_seconds(report.samples) <= 5


def test_priority_decides_who_pauses(run) -> None:
    events = charging(1, at=1.0) + charging(2, at=5.0)
    report, _ = run(events, until=40, site={"line_limit_a": 10}, stations=[{"id": 1}, {"id": 2, "priority": 5}])
    last = report.samples[-1]["stations"]
    assert last["2"]["offered_a"] >= 6 and last["1"]["offered_a"] == 0
    assert "priority" in last["1"]["reason"]


def test_line_limit_0_a_pauses_charging_until_the_limit_is_raised(run) -> None:
    events = charging(1, at=1.0) + [set_limit(60.0, 0), set_limit(120.0, 32)]
    report, runner = run(events, until=150)
    assert offered(report, 1, 59) == 32.0
    cut = samples_between(report, 61, 119)
    assert all(s["line_limit_a"] == 0 for s in cut)  # nobody pushed the limit back up
    assert all(s["stations"]["1"]["offered_a"] == 0 for s in cut)
    assert all(s["stations"]["1"]["reason"] == "paused: line limit 0 A" for s in cut[1:])
    assert report.first("duty", 1, after=59.9)["offered_a"] == 0 and report.first("duty", 1, after=59.9)["t"] <= 61
    # the car stops within its 2 s response; the contactor opens when it does and stays open
    assert report.first("contactor", 1, after=60, closed=False)["t"] <= 63
    assert all(not s["stations"]["1"]["contactor"] for s in samples_between(report, 64, 119))
    assert report.first("contactor", 1, after=60, closed=True)["t"] > 120
    resumed = report.first("duty", 1, after=120)
    assert resumed["offered_a"] == 32.0 and resumed["t"] <= 122
    assert report.first("contactor", 1, after=120, closed=True)["t"] <= 126
    assert all(s["stations"]["1"]["current_a"] == [32.0] * 3 for s in samples_between(report, 130, 150))
    assert runner.supervisor.rejections == []


def test_a_cut_that_leaves_room_for_one_keeps_one_charging(run) -> None:
    events = charging(1, at=1.0) + charging(2, at=5.0) + [set_limit(60.0, 10)]
    report, runner = run(events, until=120)
    assert offered(report, 1, 59) == 16.0 and offered(report, 2, 59) == 16.0
    for s in samples_between(report, 62, 120):  # the pilot shrinks at once; the supervisor's cycle is 1 s
        st = [s["stations"][k] for k in ("1", "2")]
        on = [x for x in st if x["offered_a"] > 0]
        assert len(on) == 1 and 6 <= on[0]["offered_a"] <= 10 and on[0]["contactor"], s
    kept = next(k for k in ("1", "2") if report.samples[-1]["stations"][k]["offered_a"] > 0)
    assert report.first("contactor", int(kept), after=60, closed=False) is None  # it never stopped
    assert over_limit_seconds(report.samples) <= 5
    assert runner.supervisor.rejections == []


@pytest.mark.parametrize("overdrawing_first", [True, False])
def test_a_car_overdrawing_below_the_over_current_margin_does_not_hold_the_line_over(run, overdrawing_first) -> None:
    # offered 16 A it takes 17.5 A, under OverCurrent's 16 * 1.1 + 0.5 = 18.1 A
    first, second = (1.0, 10.0) if overdrawing_first else (10.0, 1.0)
    events = charging(1, at=first, overdraw_a=1.5) + charging(2, at=second)
    report, runner = run(events, until=180)
    both = max(report.first("contactor", sid, closed=True)["t"] for sid in (1, 2))
    after = samples_between(report, both, 180)
    assert over_limit_seconds(after) <= 5
    assert report.of("fault") == []
    late = samples_between(report, 60, 180)
    for s in late:
        one, two = s["stations"]["1"], s["stations"]["2"]
        assert max(s["line_a"]) <= 32.05 and one["contactor"] and two["contactor"], s
        assert max(one["current_a"]) == pytest.approx(one["offered_a"] + 1.5, abs=0.05)  # it keeps overdrawing
        # counted at what it draws, each car takes the same share of the line
        assert max(one["current_a"]) == pytest.approx(max(two["current_a"]), abs=0.15)
    assert runner.supervisor.rejections == []


def test_a_lone_overdrawing_car_is_offered_less_so_that_its_draw_fits(run) -> None:
    # a 40 A charger on a 32 A station: offered 32 A it takes 33.5 A
    report, runner = run(charging(1, at=1.0, max_current_a=40, overdraw_a=1.5), until=120)
    closed = report.first("contactor", 1, closed=True)["t"]
    assert over_limit_seconds(samples_between(report, closed, 120)) <= 5
    assert report.of("fault") == []
    for s in samples_between(report, 30, 120):
        assert s["stations"]["1"]["offered_a"] == 30.5 and s["line_a"] == [32.0] * 3, s
    assert runner.supervisor.rejections == []


def test_an_energy_managers_16_a_caps_two_cars_until_it_expires(run) -> None:
    report, runner = run(charging(1, at=1.0) + charging(2, at=5.0), until=40)
    assert offered(report, 1, 39) == 16.0 and offered(report, 2, 39) == 16.0
    runner.supervisor.core.set_external_limit(
        ExternalLimit(source="rest", current_a=(16.0, 16.0, 16.0), set_at=40.0, expires_at=100.0), 40.0)
    report = runner.run(160)
    capped = samples_between(report, 40, 99)
    longest = run_over = 0
    for s in capped:  # the cars have their 5 s to follow the lower offers
        run_over = run_over + 1 if max(s["line_a"]) > 16.05 else 0
        longest = max(longest, run_over)
    assert longest <= 5
    for s in samples_between(report, 46, 99):
        assert max(s["line_a"]) <= 16.05, s
        assert all(s["stations"][k]["contactor"] and s["stations"][k]["offered_a"] == 8.0 for k in ("1", "2")), s
        assert "limited by the energy manager (REST) to 16 A until" in s["stations"]["1"]["reason"]
    assert report.first("contactor", 1, after=40, closed=False) is None  # both kept charging throughout
    assert report.first("contactor", 2, after=40, closed=False) is None
    for s in samples_between(report, 110, 160):  # lapsed: the site's 32 A hold again
        assert [s["stations"][k]["offered_a"] for k in ("1", "2")] == [16.0, 16.0], s
        assert s["line_a"] == [32.0] * 3 and "energy manager" not in s["stations"]["1"]["reason"]
    assert runner.supervisor.rejections == []


# -- the pilot checks the line per line phase -----------------------------------------------------------
ROTATED = [{"id": 1, "phase_rotation": [1, 2, 3]}, {"id": 2, "phase_rotation": [2, 3, 1]}]


def two_1_phase_cars() -> list[dict]:
    return charging(1, at=1.0, phases=1) + charging(2, at=10.0, phases=1)


def recounted_at(runner, station: int, after: float) -> float:
    return next(e.t for e in runner.engine.log.since(0, 5000)
                if e.station == station and e.t > after and e.message.startswith("car counted on line phases"))


def test_two_1_phase_cars_on_different_line_phases_each_get_the_line_limit(run) -> None:
    report, runner = run(two_1_phase_cars(), until=90, stations=ROTATED)
    assert all(max(s["line_a"]) <= 32.0 for s in report.samples)
    for s in samples_between(report, 40, 90):
        one, two = s["stations"]["1"], s["stations"]["2"]
        assert (one["offered_a"], two["offered_a"]) == (32.0, 32.0), s
        assert one["current_a"] == [32.0, 0.0, 0.0] and two["current_a"] == [32.0, 0.0, 0.0]
        assert s["line_a"] == [32.0, 32.0, 0.0]
    assert runner.engine.stations[2].phases.line_phases == (2,)
    assert runner.supervisor.rejections == []


def test_a_1_phase_car_switching_to_3_phases_is_recounted_and_the_line_holds(run) -> None:
    events = two_1_phase_cars() + [{"at": 90.0, "station": 1, "do": "switch_phases", "phases": 3}]
    report, runner = run(events, until=180, stations=ROTATED)
    assert recounted_at(runner, 1, after=90.0) - 90.0 <= 1.0
    cut = report.first("duty", 2, after=90.0)  # the pilot lowers at once, before the supervisor's cycle
    assert cut["offered_a"] < 32.0 and cut["t"] - 90.0 <= 1.0
    assert over_limit_seconds(samples_between(report, 85, 180)) <= 5
    for s in samples_between(report, 120, 180):  # both share line phase 2 now
        one, two = s["stations"]["1"], s["stations"]["2"]
        assert (one["offered_a"], two["offered_a"]) == (16.0, 16.0), s
        assert s["line_a"] == [16.0, 32.0, 16.0], s
    assert runner.supervisor.rejections == []


def test_a_3_phase_car_beside_a_1_phase_car_shares_the_line_phase_they_have_in_common(run) -> None:
    events = charging(1, at=1.0) + charging(2, at=10.0, phases=1)
    report, runner = run(events, until=90, stations=ROTATED)
    assert over_limit_seconds(report.samples) <= 5
    for s in samples_between(report, 40, 90):
        assert (s["stations"]["1"]["offered_a"], s["stations"]["2"]["offered_a"]) == (16.0, 16.0), s
        assert s["line_a"] == [16.0, 32.0, 16.0], s
    assert runner.supervisor.rejections == []


def test_with_the_supervisor_lost_the_failsafe_budget_is_per_line_phase(run) -> None:
    def failsafe_32_a(runner) -> None:
        runner.engine.config.failsafe_current_a = 32.0

    events = two_1_phase_cars() + [{"at": 60.0, "do": "supervisor_kill", "seconds": 60}]
    report, runner = run(events, until=110, setup=failsafe_32_a, stations=ROTATED)
    assert report.first("fault", 1, code="SupervisorLost", active=True)["t"] < 70
    for s in samples_between(report, 70, 110):
        assert (s["stations"]["1"]["offered_a"], s["stations"]["2"]["offered_a"]) == (32.0, 32.0), s
        assert s["line_a"] == [32.0, 32.0, 0.0], s


def test_the_pilot_holds_the_energy_managers_limit_while_the_supervisor_is_gone(run) -> None:
    """Without the supervisor a car arriving gets the failsafe current, but never above the limit
    the energy manager set: the pilot holds it (and lets it lapse on its own clock)."""
    events = charging(1, at=1.0) + [{"at": 40.0, "do": "supervisor_kill", "seconds": 100}] + charging(2, at=60.0)
    report, runner = run(events, until=20)
    runner.supervisor.core.set_external_limit(
        ExternalLimit(source="rest", current_a=(16.0, 16.0, 16.0), set_at=20.0, expires_at=400.0), 20.0)
    report = runner.run(200)
    assert report.first("fault", 1, code="SupervisorLost", active=True)["t"] < 50
    for s in samples_between(report, 30, 200):
        assert max(s["line_a"]) <= 16.05, s
    assert runner.engine.held_limit is not None and runner.engine.held_limit.amps == (16.0, 16.0, 16.0)
    for s in samples_between(report, 70, 140):  # both charge on the failsafe share of the held 16 A
        assert [s["stations"][k]["offered_a"] for k in ("1", "2")] == [8.0, 8.0], s
    assert runner.supervisor.rejections == []


def test_a_held_limit_lapses_on_the_pilots_clock() -> None:
    engine = PilotEngine(PilotConfig(line_limit_a=32, stations=[StationConfig(id=1), StationConfig(id=2)]))
    engine.hold_limit(10.0, (16.0, 16.0, 10.0), 30.0)
    assert engine.phase_limits(39.9) == {1: 16.0, 2: 16.0, 3: 10.0}
    with pytest.raises(CommandRejected, match="energy manager's limit of 10 A per phase"):
        engine.set_current(20.0, 1, 12.0, True)
    assert engine.phase_limits(40.0) == {1: 32.0, 2: 32.0, 3: 32.0} and engine.held_limit is None
    engine.set_current(41.0, 1, 12.0, True)
