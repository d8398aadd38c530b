"""GetCompositeSchedule: what the installed profiles together allow a connector over the next
`duration` seconds, as one schedule of periods."""

from __future__ import annotations

from dataclasses import dataclass

from appliance.supervisor.ocpp.profiles import ProfileStore


@dataclass(frozen=True)
class Electrical:
    """What turns amps into watts for one connector."""

    voltage_v: float
    phases: int
    rating_a: float


def amps_at(store: ProfileStore, connector: int, t: float, tx_start: float | None, el: Electrical) -> float | None:
    """The tightest of the connector's own limit and the charge point's maximum, in amps."""
    limits = [store.limit(0, t, tx_start)] + ([store.limit(connector, t, tx_start)] if connector else [])
    amps = [limit.amps(el.voltage_v, el.phases) for limit in limits if limit is not None]
    return min(amps) if amps else None


def composite_schedule(store: ProfileStore, connector: int, now: float, duration_s: int, unit: str,
                       tx_start: float | None, el: Electrical) -> list[tuple[int, float]] | None:
    """(start offset in s, limit in `unit`) periods from `now`; None when no profile applies."""
    edges = sorted({now} | store.changes(connector, now, now + duration_s, tx_start))
    periods: list[tuple[int, float]] = []
    any_limit = False
    for t in edges:
        amps = amps_at(store, connector, t, tx_start, el)
        any_limit = any_limit or amps is not None
        amps = el.rating_a if amps is None else min(amps, el.rating_a)
        value = round(amps if unit == "A" else amps * el.voltage_v * el.phases, 1)
        if not periods or periods[-1][1] != value:
            periods.append((int(round(t - now)), value))
    return periods if any_limit else None
