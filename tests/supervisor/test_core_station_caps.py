"""A central system's cap on one station (OCPP TxDefaultProfile/TxProfile): the allocator never
offers that station more, the other takes what it leaves, 0 A pauses it with a reason."""

from __future__ import annotations

from appliance.supervisor.policy import StationCap
from tests.supervisor.test_core_external_limit import targets, two_cars


def test_a_cap_holds_one_station_and_the_other_takes_the_rest() -> None:
    core, events = two_cars(1.0)
    core.cycle(1.0)
    assert targets(core) == [16.0, 16.0]
    core.set_station_cap(1, StationCap(10.0), 2.0)
    core.cycle(2.0)
    assert targets(core)[0] == 10.0 and targets(core)[1] >= 16.0
    assert core.decisions[1].reason.endswith("; limited by the central system to 10 A")
    assert (2.0, "limit", "the central system caps the station at 10 A") in events.seen


def test_zero_pauses_the_station_and_lifting_the_cap_lets_it_charge() -> None:
    core, events = two_cars(1.0)
    core.set_station_cap(2, StationCap(0.0, "the central system (transaction stopped)"), 1.0)
    core.cycle(1.0)
    assert targets(core)[1] == 0.0
    assert core.decisions[2].reason == "paused by the central system (transaction stopped)"
    core.set_station_cap(2, None, 2.0)
    core.cycle(2.0)
    assert targets(core)[1] > 0.0 and "central system" not in core.decisions[2].reason
    assert events.of("limit")[-1] == (2.0, "the central system (transaction stopped) lifted its cap")


def test_a_cap_below_6_a_pauses_too() -> None:
    core, _ = two_cars(1.0)
    core.set_station_cap(1, StationCap(4.5), 1.0)
    core.cycle(1.0)
    assert targets(core)[0] == 0.0 and core.decisions[1].reason == "paused by the central system"
