"""Price slots: lookups, gaps, and the cheapest-slots plan before a departure."""

from __future__ import annotations

import pytest

from appliance.supervisor.allocation import PriceSlot, PriceTable

H = 3600.0


def hourly(*prices: float | None, start: float = 0.0) -> PriceTable:
    return PriceTable(PriceSlot(start + i * H, start + (i + 1) * H, p) for i, p in enumerate(prices) if p is not None)


def spans(plan) -> list[tuple[float, float]]:
    return [(s.start / H, s.end / H) for s in plan.slots]


def test_price_at_includes_the_start_and_excludes_the_end() -> None:
    table = hourly(0.31, 0.12)
    assert table.price_at(0.0) == 0.31 and table.price_at(H - 0.001) == 0.31
    assert table.price_at(H) == 0.12 and table.price_at(2 * H) is None and table.price_at(-1.0) is None


def test_slots_arrive_in_any_order_and_may_mix_hours_and_quarters() -> None:
    table = PriceTable([PriceSlot(H, H + 900, 0.10), PriceSlot(0, H, 0.30), PriceSlot(H + 900, H + 1800, 0.20)])
    assert [s.price for s in table.slots] == [0.30, 0.10, 0.20]
    assert table.price_at(H + 1000) == 0.20


def test_next_cheap_start() -> None:
    table = hourly(0.31, 0.25, 0.12, 0.10)
    assert table.next_cheap(100.0, 0.20) == 2 * H
    assert table.next_cheap(2 * H + 50, 0.20) == 2 * H + 50  # already in one
    assert table.next_cheap(0.0, 0.05) is None


def test_timeline_fills_the_gaps_with_unpriced_time() -> None:
    table = hourly(0.30, None, 0.10)
    pieces = [(s.start / H, s.end / H, s.price) for s in table.timeline(0.5 * H, 2.5 * H)]
    assert pieces == [(0.5, 1.0, 0.30), (1.0, 2.0, None), (2.0, 2.5, 0.10)]


def test_plan_picks_the_cheapest_hours_and_enough_of_them() -> None:
    table = hourly(0.30, 0.25, 0.12, 0.10, 0.11, 0.28, 0.35)
    plan = table.cheapest(0.0, 7 * H, energy_kwh=33.0, power_w=11_000.0)  # 3 h at 11 kW
    assert plan.enough and spans(plan) == [(2, 3), (3, 4), (4, 5)]
    assert plan.covers(3.5 * H) and not plan.covers(1.5 * H) and not plan.covers(5 * H)


def test_plan_uses_only_the_part_of_a_slot_it_needs() -> None:
    table = hourly(0.30, 0.12, 0.10, 0.20)
    plan = table.cheapest(0.0, 4 * H, energy_kwh=16.5, power_w=11_000.0)  # 1.5 h
    assert plan.enough and spans(plan) == [(1, 1.5), (2, 3)]


def test_equal_prices_go_to_the_earlier_slot() -> None:
    plan = hourly(0.20, 0.20, 0.20).cheapest(0.0, 3 * H, energy_kwh=11.0, power_w=11_000.0)
    assert spans(plan) == [(0, 1)]


def test_plan_follows_the_time_and_the_energy_left() -> None:
    table = hourly(0.10, 0.30, 0.12)
    first = table.cheapest(0.0, 3 * H, energy_kwh=22.0, power_w=11_000.0)
    assert spans(first) == [(0, 1), (2, 3)]
    later = table.cheapest(0.5 * H, 3 * H, energy_kwh=16.5, power_w=11_000.0)  # the car charged 30 min as planned
    assert spans(later) == [(0.5, 1), (2, 3)]
    slow = table.cheapest(0.5 * H, 3 * H, energy_kwh=20.0, power_w=11_000.0)  # it charged slower than expected
    assert slow.enough and spans(slow) == [(0.5, 1), (1, pytest.approx(1 + 3.5 / 11)), (2, 3)]  # 3.5 kWh more


def test_unpriced_time_only_when_the_priced_time_is_not_enough() -> None:
    table = hourly(0.40, None, 0.50)
    assert spans(table.cheapest(0.0, 3 * H, energy_kwh=11.0, power_w=11_000.0)) == [(0, 1)]
    plan = table.cheapest(0.0, 3 * H, energy_kwh=27.5, power_w=11_000.0)  # 2.5 h
    assert plan.enough and spans(plan) == [(0, 1), (1, 1.5), (2, 3)]


def test_not_enough_time_takes_all_of_it() -> None:
    plan = hourly(0.10, 0.20).cheapest(0.0, 2 * H, energy_kwh=60.0, power_w=11_000.0)
    assert not plan.enough and spans(plan) == [(0, 1), (1, 2)]


def test_nothing_to_plan() -> None:
    table = hourly(0.10)
    assert table.cheapest(0.0, H, energy_kwh=0.0, power_w=11_000.0).slots == ()
    assert table.cheapest(0.0, H, energy_kwh=0.0, power_w=11_000.0).enough
    gone = table.cheapest(2 * H, H, energy_kwh=5.0, power_w=11_000.0)
    assert gone.slots == () and not gone.enough


def test_quarter_hour_slots() -> None:
    table = PriceTable(PriceSlot(i * 900.0, (i + 1) * 900.0, p) for i, p in enumerate([0.3, 0.1, 0.2, 0.05]))
    plan = table.cheapest(0.0, H, energy_kwh=5.5, power_w=11_000.0)  # 30 min
    assert [(s.start, s.end) for s in plan.slots] == [(900.0, 1800.0), (2700.0, 3600.0)]


@pytest.mark.parametrize("bad", [
    lambda: PriceSlot(10.0, 10.0, 0.1),
    lambda: PriceSlot(0.0, float("inf"), 0.1),
    lambda: PriceSlot(0.0, 10.0, float("nan")),
    lambda: PriceTable([PriceSlot(0.0, H, 0.1), PriceSlot(H / 2, 2 * H, 0.2)]),
    lambda: hourly(0.1).cheapest(0.0, H, energy_kwh=1.0, power_w=0.0),
])
def test_bad_prices_are_refused(bad) -> None:
    with pytest.raises(ValueError):
        bad()
