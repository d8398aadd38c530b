"""Charging sessions: from plug-in to unplug, with energy from the meter, peak power and cost."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from appliance.supervisor.live import LiveStation


@dataclass
class ChargingSession:
    """A charging session in progress (plug-in to unplug), as the core accounts it; storage keeps
    each one as a `SessionRecord`."""

    station: int
    start: float
    mode: str
    energy_kwh: float = 0.0
    peak_power_w: float = 0.0
    cost: float = 0.0
    end: float | None = None
    id: int | None = None  # storage id
    _last_wh: float | None = None


class SessionTracker:
    """Opens a session when a car appears, accounts each reading, closes it when the car leaves."""

    def __init__(self, price_at: Callable[[float], float | None]) -> None:
        self.price_at = price_at
        self.open: dict[int, ChargingSession] = {}

    def resume(self, session: ChargingSession) -> None:
        """A session that was open before a restart carries on."""
        self.open[session.station] = session

    def update(self, live: LiveStation, now: float, mode: str) -> tuple[ChargingSession | None, ChargingSession | None]:
        """Returns (opened, closed) for this reading."""
        opened = closed = None
        current = self.open.get(live.station)
        if live.plugged and current is None:
            current = ChargingSession(live.station, now, mode, _last_wh=live.energy_wh)
            self.open[live.station] = opened = current
        if current is not None:
            self._account(current, live, now)
            if not live.plugged:
                current.end = now
                closed = self.open.pop(live.station)
        return opened, closed

    def _account(self, s: ChargingSession, live: LiveStation, now: float) -> None:
        last = s._last_wh if s._last_wh is not None else live.energy_wh
        delta = live.energy_wh - last
        if delta < 0:  # the pilot restarted and its meter count began again
            delta = live.energy_wh
        s._last_wh = live.energy_wh
        s.energy_kwh += delta / 1000
        price = self.price_at(now)
        if price is not None:
            s.cost += delta / 1000 * price
        s.peak_power_w = max(s.peak_power_w, live.power_total_w)
