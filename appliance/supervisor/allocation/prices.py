"""Energy prices in time slots, and the cheapest-slots plan for charging before a departure.

Times are seconds since the epoch (scenario files: since the start); the code only compares
them. Slots may be hourly, 15-minute or mixed, with gaps. A time without a price is never
cheap: the planner uses unpriced time only when the priced time before departure cannot
deliver the energy, so the car is still charged by the time the user asked for.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import pairwise

_SLACK_S = 1e-6


@dataclass(frozen=True)
class PriceSlot:
    """[start, end) at `price` per kWh; price None = not known."""

    start: float
    end: float
    price: float | None = None

    def __post_init__(self) -> None:
        if not (math.isfinite(self.start) and math.isfinite(self.end)) or self.end <= self.start:
            raise ValueError(f"price slot {self.start!r}..{self.end!r}: the end must be after the start")
        if self.price is not None and not math.isfinite(self.price):
            raise ValueError(f"price slot {self.start:g}..{self.end:g}: price {self.price!r} is not a number")

    @property
    def duration_s(self) -> float:
        return self.end - self.start


@dataclass(frozen=True)
class ChargePlan:
    """The chosen charging time, in time order; `enough` says whether it delivers the energy."""

    slots: tuple[PriceSlot, ...]
    enough: bool

    def covers(self, t: float) -> bool:
        return any(s.start <= t < s.end for s in self.slots)


class PriceTable:
    """Known prices, sorted; overlapping slots are refused (a time cannot have two prices)."""

    def __init__(self, slots: Iterable[PriceSlot] = ()) -> None:
        ordered = sorted(slots, key=lambda s: s.start)
        for a, b in pairwise(ordered):
            if b.start < a.end:
                raise ValueError(f"price slots {a.start:g}..{a.end:g} and {b.start:g}..{b.end:g} overlap")
        self.slots = tuple(ordered)
        self._starts = [s.start for s in ordered]

    def price_at(self, t: float) -> float | None:
        i = bisect_right(self._starts, t) - 1
        return self.slots[i].price if i >= 0 and t < self.slots[i].end else None

    def next_cheap(self, now: float, threshold: float) -> float | None:
        """When the first time at or under `threshold` begins (now, if now is); None if none is known."""
        for s in self.slots:
            if s.end > now and s.price is not None and s.price <= threshold:
                return max(s.start, now)
        return None

    def timeline(self, start: float, end: float) -> list[PriceSlot]:
        """[start, end) cut into the known slots and the unpriced gaps between them."""
        out: list[PriceSlot] = []
        t = start
        for s in self.slots:
            if s.end <= t:
                continue
            if s.start >= end:
                break
            if s.start > t:
                out.append(PriceSlot(t, s.start))
                t = s.start
            stop = min(s.end, end)
            out.append(PriceSlot(t, stop, s.price))
            t = stop
        if t < end:
            out.append(PriceSlot(t, end))
        return out

    def cheapest(self, now: float, departure: float, energy_kwh: float, power_w: float) -> ChargePlan:
        """The cheapest time from now to departure that delivers `energy_kwh` at `power_w`.

        Cheapest first, the earlier of equal prices first, unpriced time last; a slot needed
        only in part is used from its start. Called again with the energy still missing, the
        plan follows a car that charges slower than expected.
        """
        if power_w <= 0:
            raise ValueError(f"charging power {power_w!r} W must be positive")
        needed_s = max(0.0, energy_kwh) * 3.6e6 / power_w
        chosen: list[PriceSlot] = []
        got = 0.0
        by_price = sorted(self.timeline(now, departure), key=lambda s: (s.price is None, s.price or 0.0, s.start))
        for s in by_price:
            if got >= needed_s - _SLACK_S:
                break
            take = min(s.duration_s, needed_s - got)
            chosen.append(PriceSlot(s.start, s.start + take, s.price))
            got += take
        return ChargePlan(tuple(sorted(chosen, key=lambda s: s.start)), enough=got >= needed_s - _SLACK_S)
