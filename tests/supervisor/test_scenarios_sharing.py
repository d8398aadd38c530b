"""Issue 3 acceptance: load sharing through the production supervisor core on simulated time."""

from __future__ import annotations

import pytest

from tests.scenario_helpers import charging


def over_limit_seconds(report) -> int:
    """Longest run of consecutive samples over the line limit on any phase."""
    longest = run = 0
    for s in report.samples:
        run = run + 1 if max(s["line_a"]) > s["line_limit_a"] + 0.05 else 0
        longest = max(longest, run)
    return longest


def offered(report, station, t):
    sample = next(s for s in report.samples if s["t"] >= t)
    return sample["stations"][str(station)]["offered_a"]


def test_car_drawing_13_a_leaves_19_a_for_the_other(run) -> None:
    events = charging(1, at=1.0, max_current_a=13) + charging(2, at=10.0)
    report, runner = run(events, until=100)
    arrived = 11.0
    late = [s for s in report.samples if s["t"] >= arrived + 70]
    assert late and all(s["stations"]["2"]["offered_a"] >= 19.0 for s in late)
    first_19 = next(s["t"] for s in report.samples if s["stations"]["2"]["offered_a"] >= 19.0)
    assert first_19 - arrived <= 70
    assert over_limit_seconds(report) <= 5
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
    assert over_limit_seconds(report) <= 5
    assert offered(report, 1, 59) == pytest.approx(16.0, abs=0.1) and offered(report, 2, 59) == pytest.approx(16.0, abs=0.1)


def test_too_little_for_both_exactly_one_pauses(run) -> None:
    events = charging(1, at=1.0) + charging(2, at=5.0)
    report, _ = run(events, until=60, site={"line_limit_a": 10})
    for s in report.samples:
        if s["t"] < 20:
            continue
        offers = [s["stations"][k]["offered_a"] for k in ("1", "2")]
        assert sorted(offers)[0] == 0 and sorted(offers)[1] >= 6, s
    assert over_limit_seconds(report) <= 5


def test_priority_decides_who_pauses(run) -> None:
    events = charging(1, at=1.0) + charging(2, at=5.0)
    report, _ = run(events, until=40, site={"line_limit_a": 10}, stations=[{"id": 1}, {"id": 2, "priority": 5}])
    last = report.samples[-1]["stations"]
    assert last["2"]["offered_a"] >= 6 and last["1"]["offered_a"] == 0
    assert "priority" in last["1"]["reason"]
