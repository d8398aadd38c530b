"""The core's history into SQLite: telemetry each second, events, faults, sessions, pilot logs.

Sessions that were open when the supervisor stopped are resumed from storage, so a restart
neither loses nor splits a charging session.
"""

from __future__ import annotations

import logging
from typing import Any

from appliance.protocol import LogEntry
from appliance.supervisor.live import LiveStation
from appliance.supervisor.sessions import Session, SessionTracker
from appliance.supervisor.storage import Storage
from appliance.supervisor.storage.telemetry import TelemetrySample

log = logging.getLogger(__name__)
ROLLUP_EVERY_S = 60.0
PURGE_EVERY_S = 3600.0


class StorageRecorder:
    def __init__(self, storage: Storage) -> None:
        self.storage = storage
        self.temperature_c: float | None = None
        self._rolled = 0.0
        self._purged = 0.0

    def telemetry(self, now: float, live: LiveStation) -> None:
        try:
            self.storage.telemetry.add(TelemetrySample(
                t=now, station=live.station, state=live.state, pilot=live.pilot, offered_a=live.offered_a,
                current_a=tuple(live.current_a), voltage_v=tuple(live.voltage_v), power_w=tuple(live.power_w),
                energy_wh=max(0.0, live.energy_wh), temperature_c=self.temperature_c,
            ))
        except ValueError as exc:
            log.warning("telemetry of station %s not stored: %s", live.station, exc)

    def event(self, now: float, kind: str, station: int | None, message: str, data: dict[str, Any] | None = None) -> None:
        self.storage.events.add(now, kind, message, station, data)

    def fault(self, now: float, station: int, code: str, active: bool, message: str) -> None:
        self.storage.faults.record(now, station, code, active, message)

    def session_opened(self, session: Session) -> None:
        session.id = self.storage.sessions.open(session.station, session.start, session.mode)

    def session_updated(self, session: Session) -> None:
        if session.id is not None:
            self.storage.sessions.update(session.id, session.energy_kwh, session.peak_power_w, session.cost)

    def session_closed(self, session: Session) -> None:
        if session.id is not None:
            self.session_updated(session)
            self.storage.sessions.close(session.id, session.end)

    def resume_sessions(self, tracker: SessionTracker, stations: list[int]) -> None:
        for sid in stations:
            stored = self.storage.sessions.open_session(sid)
            if stored is not None:
                tracker.resume(Session(sid, stored.start_t, stored.mode, energy_kwh=stored.energy_kwh,
                                       peak_power_w=stored.peak_power_w, cost=stored.cost or 0.0, id=stored.id))

    def pilot_logs(self, entries: list[LogEntry], last_seq: int, boot: str | None) -> int:
        """Keep a fetch's entries; returns the `since` for the next fetch."""
        return self.storage.pilot_logs.store([e.model_dump() for e in entries], last_seq=last_seq, boot=boot)

    def tick(self, now: float) -> None:
        """Once a second: make the second durable; roll up and purge now and then."""
        self.storage.telemetry.flush()
        if now - self._rolled >= ROLLUP_EVERY_S:
            self.storage.telemetry.roll_up(now)
            self._rolled = now
        if now - self._purged >= PURGE_EVERY_S:
            self.storage.purge(now)
            self._purged = now
