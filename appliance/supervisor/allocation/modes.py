"""Charge modes per station (SPEC §5 "Modes per station"): may it charge now, and up to what.

The caller turns the answer into the allocator's input: active = car plugged and `allowed`,
max_a capped by `cap_a`. The reason is the one to show while the mode holds the car back;
while it charges, the allocator's reason says more.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from appliance.j1772.duty import MIN_CURRENT_A
from appliance.supervisor.allocation.allocator import floor_tenth
from appliance.supervisor.allocation.prices import ChargePlan, PriceSlot, PriceTable


class Mode(StrEnum):
    OFF = "off"
    ON = "on"
    LOW_COST = "low_cost"
    SOLAR = "solar"
    MIN_SOLAR = "min_solar"


@dataclass(frozen=True)
class ModeDecision:
    allowed: bool
    cap_a: float | None
    reason: str
    plan: tuple[PriceSlot, ...] = ()  # low_cost with a departure: the planned charging slots, for the UI


@dataclass(frozen=True)
class LowCost:
    """What low_cost works with.

    threshold: charge whenever the price is at or under it.
    departure, energy_kwh: deliver this much more energy (what the session still misses) by
        then, in the cheapest time; both needed for a plan.
    power_w: the station's expected charging power, rated current × phases × voltage.
    """

    threshold: float | None = None
    departure: float | None = None
    energy_kwh: float | None = None
    power_w: float = 32 * 3 * 230.0


@dataclass(frozen=True)
class SolarTiming:
    """Hysteresis of `solar`, so a passing cloud neither starts nor stops a charge."""

    start_after_s: float = 60.0
    stop_after_s: float = 180.0


def solar_surplus_a(grid_w: Sequence[float] | None, solar_a: Sequence[float], voltage_v: float = 230.0
                    ) -> tuple[float, float, float] | None:
    """The surplus per line phase 1..3 that the stations in solar modes share; None without a reading.

    grid_w: power at the grid connection per line phase, positive = import.
    solar_a: what the stations in solar modes draw now, per line phase: it is surplus they
        may keep, else charging would eat its own surplus and stop itself.
    """
    if grid_w is None:
        return None
    return (solar_a[0] - grid_w[0] / voltage_v, solar_a[1] - grid_w[1] / voltage_v, solar_a[2] - grid_w[2] / voltage_v)


def hhmm(t: float, local: bool = False) -> str:
    """Clock time of `t` in UTC (scenario times since the start read as 02:00 for 7200 s), or with
    `local` in the appliance's time zone."""
    return time.strftime("%H:%M", (time.localtime if local else time.gmtime)(t))


class ModeLogic:
    """One station's mode; keeps the solar hysteresis between calls (reset when the mode changes).

    format_time turns a time into what the user reads ("02:00"); pass local time in production.
    """

    def __init__(self, solar: SolarTiming | None = None, format_time: Callable[[float], str] = hhmm) -> None:
        self.solar = solar or SolarTiming()
        self.format_time = format_time
        self._mode: Mode | None = None
        self._solar_on = False
        self._since: float | None = None  # off: surplus since; on: short of surplus since

    @property
    def solar_on(self) -> bool:
        """Whether a solar mode lets the car charge now (min_solar always does)."""
        return self._mode is Mode.MIN_SOLAR or self._solar_on

    def decide(self, now: float, mode: Mode | str, *, prices: PriceTable | None = None,
               low_cost: LowCost | None = None, surplus_a: float | None = None) -> ModeDecision:
        """surplus_a: this station's share of the surplus (`share_surplus`), for the solar modes."""
        mode = Mode(mode)
        if mode is not self._mode:
            self._mode, self._solar_on, self._since = mode, False, None
        match mode:
            case Mode.OFF:
                return ModeDecision(False, None, "off")
            case Mode.ON:
                return ModeDecision(True, None, "on")
            case Mode.LOW_COST:
                return self._low_cost(now, prices or PriceTable(), low_cost or LowCost())
            case Mode.SOLAR:
                return self._solar(now, surplus_a)
        return _min_solar(surplus_a)

    def _low_cost(self, now: float, prices: PriceTable, lc: LowCost) -> ModeDecision:
        plan: ChargePlan | None = None
        if lc.departure is not None and lc.energy_kwh is not None:
            plan = prices.cheapest(now, lc.departure, lc.energy_kwh, lc.power_w)
        slots = plan.slots if plan is not None else ()
        by = self.format_time(lc.departure) if lc.departure is not None else ""
        if plan is not None and plan.covers(now):
            reason = (f"charging: cheapest hours before {by}" if plan.enough
                      else f"charging: {lc.energy_kwh:g} kWh need all the time left before {by}")
            return ModeDecision(True, None, reason, slots)
        price = prices.price_at(now)
        if lc.threshold is not None and price is not None and price <= lc.threshold:
            return ModeDecision(True, None, f"charging: price {price:.2f} ≤ {lc.threshold:.2f}", slots)
        upcoming = [slots[0].start] if slots else []
        if lc.threshold is not None and (cheap := prices.next_cheap(now, lc.threshold)) is not None:
            upcoming.append(cheap)
        if upcoming:
            reason = f"waiting for cheap hours from {self.format_time(min(upcoming))}"
        elif plan is not None and plan.enough:
            reason = "done: the requested energy is delivered"
        elif plan is not None:
            reason = f"waiting: departure {by} has passed"
        elif lc.threshold is not None:
            reason = f"waiting: no price at or under {lc.threshold:.2f} known"
        else:
            reason = "waiting: set a price threshold, or a departure time and energy"
        return ModeDecision(False, None, reason, slots)

    def _solar(self, now: float, surplus_a: float | None) -> ModeDecision:
        surplus = -math.inf if surplus_a is None else surplus_a
        have = "no grid reading" if surplus_a is None else f"{surplus_a:.1f} A"
        if not self._solar_on:
            if surplus < MIN_CURRENT_A:
                self._since = None
                return ModeDecision(False, None, f"waiting for solar surplus: {have} of 6 A")
            self._since = now if self._since is None else self._since
            left = self.solar.start_after_s - (now - self._since)
            if left > 0:
                return ModeDecision(False, None, f"solar surplus {have}: starting in {math.ceil(left)} s")
            self._solar_on, self._since = True, None
        if surplus >= MIN_CURRENT_A:
            self._since = None
            return ModeDecision(True, floor_tenth(surplus), f"charging from solar surplus: {have}")
        self._since = now if self._since is None else self._since
        left = self.solar.stop_after_s - (now - self._since)
        if left > 0:
            return ModeDecision(
                True, MIN_CURRENT_A, f"solar surplus down to {have}: stopping in {math.ceil(left)} s unless it returns"
            )
        self._solar_on, self._since = False, None
        return ModeDecision(
            False, None, f"stopped: importing for {self.solar.stop_after_s / 60:g} min; waiting for solar surplus"
        )


def _min_solar(surplus_a: float | None) -> ModeDecision:
    """At least 6 A whatever the sun does, more as the surplus allows."""
    if surplus_a is None or surplus_a < MIN_CURRENT_A:
        have = "no grid reading" if surplus_a is None else f"solar surplus {surplus_a:.1f} A"
        return ModeDecision(True, MIN_CURRENT_A, f"charging at the 6 A minimum: {have}")
    return ModeDecision(True, floor_tenth(surplus_a), f"charging from solar surplus: {surplus_a:.1f} A")
