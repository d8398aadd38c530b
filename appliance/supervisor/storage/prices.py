"""Energy prices as time slots [start, end) with a price per kWh (hourly or 15-minute slots,
from the REST API or a provider). Slots never overlap; replacing a range trims whatever
straddles its edges so prices outside the range stay as they were."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import appliance.supervisor.storage.validate as validate
from appliance.errors import InvalidInput
from appliance.supervisor.allocation.prices import PriceSlot
from appliance.supervisor.storage.database import Guarded

MAX_SLOTS = 10_000  # a year of hours; far more than any tariff publishes at once


def _slot(raw: Any) -> PriceSlot:
    if isinstance(raw, PriceSlot):
        raw = (raw.start, raw.end, raw.price)
    if not isinstance(raw, (tuple, list)) or len(raw) != 3:
        raise InvalidInput(f"a price slot is (start, end, price), not {raw!r}")
    start, end = validate.time_range(raw[0], raw[1])
    return PriceSlot(start, end, validate.number("price", raw[2]))


class Prices:
    def __init__(self, guarded: Guarded) -> None:
        self._g = guarded

    def replace(self, start: Any, end: Any, slots: Iterable[Any]) -> int:
        """Make `slots` the prices of [start, end): older slots there go, edges are trimmed."""
        start, end = validate.time_range(start, end)
        new = sorted((_slot(s) for s in slots), key=lambda s: s.start)
        if len(new) > MAX_SLOTS:
            raise InvalidInput(f"at most {MAX_SLOTS} price slots at once, not {len(new)}")
        for a, b in zip(new, new[1:], strict=False):
            if b.start < a.end:
                raise InvalidInput(f"price slots overlap at {b.start}")
        if new and (new[0].start < start or new[-1].end > end):
            raise InvalidInput(f"price slots must lie within [{start}, {end})")
        with self._g.write() as db:
            edge = {"start": start, "end": end}
            db.execute("INSERT INTO prices (start, end, price) SELECT :end, end, price FROM prices "
                       "WHERE start < :end AND end > :end", edge)
            db.execute("UPDATE prices SET end = :start WHERE start < :start AND end > :start", edge)
            db.execute("DELETE FROM prices WHERE start >= :start AND start < :end", edge)
            db.table("prices").insert_all({"start": s.start, "end": s.end, "price": s.price} for s in new)
        return len(new)

    def slots(self, start: Any, end: Any) -> list[PriceSlot]:
        """Slots overlapping [start, end), in time order."""
        start, end = validate.time_range(start, end)
        with self._g.read() as db:
            rows = db.table("prices").rows_where("end > ? AND start < ?", [start, end], order_by="start")
            return [PriceSlot(**r) for r in rows]
