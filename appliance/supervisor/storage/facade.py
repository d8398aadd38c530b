"""The supervisor's storage in one object: open a file, get every repository on one connection."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timezone, tzinfo
from pathlib import Path
from types import TracebackType
from typing import Any

from appliance.supervisor.storage import validate
from appliance.supervisor.storage.auth import Auth
from appliance.supervisor.storage.database import Guarded, connect
from appliance.supervisor.storage.history import DEFAULT_MAX_POINTS, DayEnergy, TelemetrySeries, energy_per_day, query
from appliance.supervisor.storage.journal import AuditLog, Events, Faults
from appliance.supervisor.storage.migrations import migrate
from appliance.supervisor.storage.pilot_logs import PilotLogs
from appliance.supervisor.storage.prices import Prices
from appliance.supervisor.storage.sessions import Sessions
from appliance.supervisor.storage.settings import RAW_RETENTION_DAYS, Settings
from appliance.supervisor.storage.telemetry import Telemetry

DAY_S = 86400


@dataclass(frozen=True)
class PurgeReport:
    raw_rows: int
    browser_sessions: int


class Storage:
    """`Storage(path)` or `Storage(":memory:")`; thread rule in `database.py`.

    Repositories: telemetry, sessions, events, faults, audit, pilot_logs, prices, settings, auth.
    """

    def __init__(self, path: str | Path) -> None:
        db = connect(path)
        try:
            self.schema_version = migrate(db)
        except BaseException:
            db.close()
            raise
        self._g = Guarded(db)
        self.telemetry = Telemetry(self._g)
        self.sessions = Sessions(self._g)
        self.events = Events(self._g)
        self.faults = Faults(self._g)
        self.audit = AuditLog(self._g)
        self.pilot_logs = PilotLogs(self._g)
        self.prices = Prices(self._g)
        self.settings = Settings(self._g)
        self.auth = Auth(self._g)

    def history(self, station: Any, start: Any, end: Any, resolution: Any = "auto",
                max_points: Any = DEFAULT_MAX_POINTS) -> TelemetrySeries:
        """Stored telemetry over [start, end) of one station or all (None); `resolution` is auto,
        raw, minute, hour or day (see `history.py`)."""
        with self._g.read() as db:
            return query(db, station, start, end, resolution, max_points)

    def energy_per_day(self, station: Any, start: Any, end: Any,
                       tz: tzinfo = timezone.utc) -> list[DayEnergy]:
        with self._g.read() as db:
            return energy_per_day(db, station, start, end, tz)

    def purge(self, now: Any) -> PurgeReport:
        """Housekeeping, e.g. hourly: raw telemetry past its retention (rollups stay), expired logins."""
        now = validate.timestamp("now", now)
        cutoff = now - self.settings.get(RAW_RETENTION_DAYS) * DAY_S
        return PurgeReport(self.telemetry.purge(cutoff), self.auth.purge_browser_sessions(now))

    def close(self) -> None:
        """Flush what is buffered, then close the connection."""
        try:
            self.telemetry.flush()
        finally:
            self._g.close()

    def __enter__(self) -> Storage:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()
