"""The core's history into SQLite: telemetry each second, events, faults, sessions, pilot logs.

Events, faults and the opening and closing of sessions are written (durably) as they happen.
Telemetry and the running totals of open sessions are written together every 10 s, in one
transaction: the SD card sees one commit per batch instead of several a second, and a power
cut loses at most that batch (see `storage/telemetry.py` for why a crash loses nothing).

Sessions that were open when the supervisor stopped are resumed from storage, so a restart
neither loses nor splits a charging session.
"""

from __future__ import annotations

import logging
from typing import Any

from appliance.protocol import LogEntry
from appliance.supervisor.live import LiveStation
from appliance.supervisor.sessions import ChargingSession, SessionTracker
from appliance.supervisor.storage import Storage
from appliance.supervisor.storage.telemetry import TelemetrySample
from appliance.wiring import triple

log = logging.getLogger(__name__)
FLUSH_EVERY_S = 10.0  # SPEC §5: a power cut loses at most the last 10 s of telemetry
ROLLUP_EVERY_S = 60.0
PURGE_EVERY_S = 3600.0

Totals = tuple[float, float, float | None]  # a session's energy_kwh, peak_power_w, cost


class StorageRecorder:
    def __init__(self, storage: Storage, flush_every_s: float = FLUSH_EVERY_S) -> None:
        self.storage = storage
        self.flush_every_s = flush_every_s
        self.temperature_c: float | None = None
        self._flushed = float("-inf")
        self._rolled = 0.0
        self._purged = 0.0
        self._totals: dict[int, Totals] = {}  # open sessions' totals not written yet, by session id
        self._written: dict[int, Totals] = {}  # what the database holds, to skip unchanged rows

    def telemetry(self, now: float, live: LiveStation) -> None:
        try:
            self.storage.telemetry.add(TelemetrySample(
                t=now, station=live.station, state=live.state, pilot=live.pilot, offered_a=live.offered_a,
                current_a=triple(live.current_a), voltage_v=triple(live.voltage_v), power_w=triple(live.power_w),
                energy_wh=max(0.0, live.energy_wh), temperature_c=self.temperature_c,
            ))
        except ValueError as exc:
            log.warning("telemetry of station %s not stored: %s", live.station, exc)

    def event(
        self, now: float, kind: str, station: int | None, message: str, data: dict[str, Any] | None = None
    ) -> None:
        self.storage.events.add(now, kind, message, station, data)

    def fault(self, now: float, station: int, code: str, active: bool, message: str) -> None:
        self.storage.faults.record(now, station, code, active, message)

    def session_opened(self, session: ChargingSession) -> None:
        session.id = self.storage.sessions.open(session.station, session.start, session.mode)

    def session_updated(self, session: ChargingSession) -> None:
        """Kept until the next flush; a session whose totals did not change is not rewritten."""
        if session.id is not None:
            totals = (session.energy_kwh, session.peak_power_w, session.cost)
            if self._written.get(session.id) != totals:
                self._totals[session.id] = totals

    def session_closed(self, session: ChargingSession) -> None:
        if session.id is not None:
            self._totals.pop(session.id, None)
            self._written.pop(session.id, None)
            with self.storage.batch():
                self.storage.sessions.update(session.id, session.energy_kwh, session.peak_power_w, session.cost)
                self.storage.sessions.close(session.id, session.end)

    def resume_sessions(self, tracker: SessionTracker, stations: list[int]) -> None:
        for sid in stations:
            stored = self.storage.sessions.open_session(sid)
            if stored is not None:
                tracker.resume(ChargingSession(sid, stored.start_t, stored.mode, energy_kwh=stored.energy_kwh,
                                       peak_power_w=stored.peak_power_w, cost=stored.cost or 0.0, id=stored.id))

    def pilot_logs(self, entries: list[LogEntry], last_seq: int, boot: str | None) -> int:
        """Keep a fetch's entries; returns the `since` for the next fetch."""
        return self.storage.pilot_logs.store([e.model_dump() for e in entries], last_seq=last_seq, boot=boot)

    def tick(self, now: float) -> None:
        """Once a second: spool the second; every `flush_every_s` write the batch; roll up and
        purge now and then."""
        self.storage.telemetry.stage()
        if now - self._flushed >= self.flush_every_s:
            self.flush()
            self._flushed = now
        if now - self._rolled >= ROLLUP_EVERY_S:
            self.storage.telemetry.roll_up(now)
            self._rolled = now
        if now - self._purged >= PURGE_EVERY_S:
            self.storage.purge(now)
            self._purged = now

    def flush(self) -> None:
        """Sessions' totals and the buffered telemetry in one durable transaction."""
        totals = dict(self._totals)
        with self.storage.batch():
            for session_id, (energy_kwh, peak_power_w, cost) in totals.items():
                self.storage.sessions.update(session_id, energy_kwh, peak_power_w, cost)
            self.storage.telemetry.flush()
        self._written.update(totals)
        self._totals.clear()

