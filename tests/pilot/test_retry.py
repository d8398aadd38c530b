"""RetryBudget: the wait after each trip and the limit per plug-in (SPEC §3: 15 min, 3 times)."""

from __future__ import annotations

import pytest

from appliance.pilot.retry import RetryBudget

WAIT_S = 900.0
MAX_RETRIES = 3


@pytest.fixture
def budget() -> RetryBudget:
    return RetryBudget(WAIT_S, MAX_RETRIES)


def test_a_trip_sets_the_retry_one_wait_later(budget: RetryBudget) -> None:
    assert budget.trip(20.0) == "trip 1 of this plug-in, retry in 15 min (3 left)"
    assert budget.trips == 1 and budget.retry_at == 20.0 + WAIT_S
    assert not budget.due(20.0 + WAIT_S - 0.01)
    assert budget.due(20.0 + WAIT_S)


def test_each_trip_restarts_the_wait(budget: RetryBudget) -> None:
    budget.trip(0.0)
    assert budget.trip(100.0) == "trip 2 of this plug-in, retry in 15 min (2 left)"
    assert budget.retry_at == 100.0 + WAIT_S
    assert not budget.due(WAIT_S)


def test_the_trip_after_max_retries_latches(budget: RetryBudget) -> None:
    notes = [budget.trip(t) for t in (0.0, 1000.0, 2000.0, 3000.0)]
    assert notes[2] == "trip 3 of this plug-in, retry in 15 min (1 left)"
    assert notes[3] == "trip 4 of this plug-in: latched until the car is unplugged"
    assert budget.trips == MAX_RETRIES + 1 and budget.retry_at is None
    assert not budget.due(1e9)


def test_retried_ends_the_wait_and_keeps_the_count(budget: RetryBudget) -> None:
    budget.trip(0.0)
    budget.retried()
    assert budget.retry_at is None and not budget.due(WAIT_S) and budget.trips == 1


def test_reset_starts_a_new_plug_in(budget: RetryBudget) -> None:
    for t in (0.0, 1.0, 2.0, 3.0):
        budget.trip(t)
    budget.reset()
    assert budget.trips == 0 and budget.retry_at is None
    assert budget.trip(10.0) == "trip 1 of this plug-in, retry in 15 min (3 left)"


@pytest.mark.parametrize(("wait_s", "text"), [(900.0, "15 min"), (60.0, "1 min"), (10.0, "10 s"), (2.5, "2.5 s")])
def test_the_note_names_the_wait(wait_s: float, text: str) -> None:
    assert RetryBudget(wait_s, 1).trip(0.0) == f"trip 1 of this plug-in, retry in {text} (1 left)"
