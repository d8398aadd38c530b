"""Charge modes: off, on, low-cost windows and departure plans, solar hysteresis, min+solar."""

from __future__ import annotations

import pytest

from appliance.supervisor.allocation import (
    LowCost,
    Mode,
    ModeDecision,
    ModeLogic,
    PriceSlot,
    PriceTable,
    SolarTiming,
    StationDemand,
    share_surplus,
    solar_surplus_a,
)

H = 3600.0
PRICES = PriceTable(PriceSlot(i * H, (i + 1) * H, p) for i, p in enumerate([0.31, 0.25, 0.12, 0.10, 0.22, 0.35, 0.30]))


def low_cost(now: float, **kw: object) -> ModeDecision:
    return ModeLogic().decide(now, "low_cost", prices=PRICES, low_cost=LowCost(**kw))  # type: ignore[arg-type]


def test_off_and_on() -> None:
    logic = ModeLogic()
    assert logic.decide(0.0, Mode.OFF) == ModeDecision(False, None, "off")
    assert logic.decide(0.0, "on") == ModeDecision(True, None, "on")
    with pytest.raises(ValueError):
        logic.decide(0.0, "turbo")


# ---------------------------------------------------------------- low cost: threshold
def test_threshold_waits_for_the_cheap_hours() -> None:
    waiting = low_cost(100.0, threshold=0.20)
    assert not waiting.allowed and waiting.reason == "waiting for cheap hours from 02:00"
    cheap = low_cost(2 * H + 10, threshold=0.20)
    assert cheap.allowed and cheap.cap_a is None and cheap.reason == "charging: price 0.12 ≤ 0.20"
    assert low_cost(3 * H, threshold=0.20).reason == "charging: price 0.10 ≤ 0.20"


def test_threshold_is_inclusive() -> None:
    assert low_cost(4 * H, threshold=0.22).allowed


def test_after_the_cheap_hours_and_without_prices() -> None:
    after = low_cost(5 * H, threshold=0.20)
    assert not after.allowed and after.reason == "waiting: no price at or under 0.20 known"
    assert not low_cost(20 * H, threshold=1.0).allowed  # a missing price is not cheap
    unset = low_cost(0.0)
    assert not unset.allowed and unset.reason == "waiting: set a price threshold, or a departure time and energy"


# ---------------------------------------------------------------- low cost: departure
def test_departure_charges_in_the_cheapest_hours_before_it() -> None:
    plan = dict(departure=7 * H, energy_kwh=44.0, power_w=22_000.0)  # 2 h
    before = low_cost(0.0, **plan)
    assert not before.allowed and before.reason == "waiting for cheap hours from 02:00"
    assert [(s.start / H, s.end / H) for s in before.plan] == [(2, 3), (3, 4)]
    during = low_cost(3 * H, departure=7 * H, energy_kwh=22.0, power_w=22_000.0)  # one hour charged already
    assert during.allowed and during.reason == "charging: cheapest hours before 07:00"


def test_departure_and_threshold_together() -> None:
    decision = low_cost(H + 5, threshold=0.25, departure=7 * H, energy_kwh=5.0, power_w=22_000.0)
    assert decision.allowed and decision.reason == "charging: price 0.25 ≤ 0.25"  # cheap enough, though not planned
    assert [s.start for s in decision.plan] == [3 * H]


def test_departure_too_close_charges_now() -> None:
    decision = low_cost(5 * H, departure=7 * H, energy_kwh=100.0, power_w=22_000.0)
    assert decision.allowed and decision.reason == "charging: 100 kWh need all the time left before 07:00"


def test_energy_delivered_and_departure_passed() -> None:
    assert low_cost(0.0, departure=7 * H, energy_kwh=0.0).reason == "done: the requested energy is delivered"
    passed = low_cost(8 * H, departure=7 * H, energy_kwh=10.0)
    assert not passed.allowed and passed.reason == "waiting: departure 07:00 has passed"


def test_time_format_is_the_callers() -> None:
    logic = ModeLogic(format_time=lambda t: f"t+{t / H:g}h")
    decision = logic.decide(0.0, "low_cost", prices=PRICES, low_cost=LowCost(threshold=0.2))
    assert decision.reason == "waiting for cheap hours from t+2h"


# ---------------------------------------------------------------- solar
def feed(logic: ModeLogic, start: float, end: float, surplus: float | None, mode: str = "solar") -> list[ModeDecision]:
    return [logic.decide(float(t), mode, surplus_a=surplus) for t in range(int(start), int(end))]


def test_solar_starts_after_60_s_of_surplus_not_before() -> None:
    logic = ModeLogic()
    waiting = feed(logic, 0, 60, 7.0)
    assert not any(d.allowed for d in waiting)
    assert waiting[0].reason == "solar surplus 7.0 A: starting in 60 s"
    started = logic.decide(60.0, "solar", surplus_a=7.0)
    assert started.allowed and started.cap_a == 7.0 and started.reason == "charging from solar surplus: 7.0 A"


def test_a_gap_in_the_surplus_restarts_the_wait() -> None:
    logic = ModeLogic()
    feed(logic, 0, 50, 8.0)
    assert logic.decide(50.0, "solar", surplus_a=4.0).reason == "waiting for solar surplus: 4.0 A of 6 A"
    assert not any(d.allowed for d in feed(logic, 51, 110, 8.0))
    assert logic.decide(111.0, "solar", surplus_a=8.0).allowed


def test_solar_stops_after_180_s_of_import_not_before() -> None:
    logic = ModeLogic()
    feed(logic, 0, 100, 10.0)
    short = feed(logic, 100, 280, 3.0)
    assert all(d.allowed and d.cap_a == 6.0 for d in short)
    assert short[0].reason == "solar surplus down to 3.0 A: stopping in 180 s unless it returns"
    stopped = logic.decide(280.0, "solar", surplus_a=3.0)
    assert not stopped.allowed and stopped.reason == "stopped: importing for 3 min; waiting for solar surplus"


def test_returning_surplus_keeps_it_charging() -> None:
    logic = ModeLogic()
    feed(logic, 0, 100, 10.0)
    feed(logic, 100, 270, 3.0)
    assert logic.decide(270.0, "solar", surplus_a=9.0).allowed
    assert all(d.allowed for d in feed(logic, 271, 440, 3.0))  # a fresh 180 s


def test_solar_cap_follows_the_surplus() -> None:
    logic = ModeLogic(SolarTiming(start_after_s=0.0))
    assert [logic.decide(t, "solar", surplus_a=s).cap_a for t, s in enumerate([6.0, 9.37, 14.0, 7.25])] == [
        6.0,
        9.3,
        14.0,
        7.2,
    ]


def test_solar_without_a_grid_reading_does_not_start() -> None:
    decision = ModeLogic().decide(0.0, "solar", surplus_a=None)
    assert not decision.allowed and decision.reason == "waiting for solar surplus: no grid reading of 6 A"


def test_a_mode_change_resets_the_hysteresis() -> None:
    logic = ModeLogic()
    feed(logic, 0, 59, 8.0)
    logic.decide(59.0, "on")
    assert not logic.decide(60.0, "solar", surplus_a=8.0).allowed


def test_min_solar_keeps_6_a_and_adds_the_surplus() -> None:
    logic = ModeLogic()
    assert logic.decide(0.0, "min_solar", surplus_a=None) == ModeDecision(
        True, 6.0, "charging at the 6 A minimum: no grid reading"
    )
    low = logic.decide(1.0, "min_solar", surplus_a=2.5)
    assert low.allowed and low.cap_a == 6.0 and low.reason == "charging at the 6 A minimum: solar surplus 2.5 A"
    assert logic.decide(2.0, "min_solar", surplus_a=11.0).cap_a == 11.0


# ---------------------------------------------------------------- where the surplus comes from
def test_surplus_per_line_phase_is_the_export_plus_what_the_solar_stations_draw() -> None:
    grid = (-2300.0, -2300.0, 230.0)  # exporting 10 A on L1 and L2, importing 1 A on L3
    assert solar_surplus_a(grid, (0.0, 0.0, 0.0)) == pytest.approx((10.0, 10.0, -1.0))
    assert solar_surplus_a((0.0, -460.0, 0.0), (6.0, 6.0, 0.0)) == pytest.approx((6.0, 8.0, 0.0))
    assert solar_surplus_a(None, (0.0, 0.0, 0.0)) is None


def claim(station: int, priority: int = 0, car_phases: int | None = 3, rotation: tuple[int, int, int] = (1, 2, 3),
          max_a: float = 32.0) -> StationDemand:
    return StationDemand(station=station, active=True, max_a=max_a, priority=priority, phase_rotation=rotation,
                         car_phases=car_phases)


def test_one_surplus_is_split_equally_never_counted_twice() -> None:
    assert share_surplus((14.0, 14.0, 14.0), [claim(1), claim(2)]) == {1: 7.0, 2: 7.0}
    assert share_surplus((14.0, 14.0, 14.0), [claim(1, max_a=6.0), claim(2)]) == {1: 6.0, 2: 8.0}


def test_the_surplus_goes_by_priority_first() -> None:
    assert share_surplus((14.0, 14.0, 14.0), [claim(1), claim(2, priority=1)]) == {1: 6.0, 2: 8.0}
    assert share_surplus((40.0, 40.0, 40.0), [claim(1), claim(2, priority=1)]) == {1: 8.0, 2: 32.0}


def test_too_little_surplus_for_both_goes_to_the_first_in_order() -> None:
    assert share_surplus((10.0, 10.0, 10.0), [claim(2), claim(1)]) == {2: 10.0, 1: 0.0}
    assert share_surplus((5.0, 5.0, 5.0), [claim(1), claim(2)]) == {1: 0.0, 2: 0.0}


def test_1_phase_cars_on_different_line_phases_each_take_their_phase() -> None:
    shares = share_surplus((8.0, 9.0, -2.0), [claim(1, car_phases=1), claim(2, car_phases=1, rotation=(2, 3, 1))])
    assert shares == {1: 8.0, 2: 9.0}
