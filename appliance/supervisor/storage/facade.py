"""The supervisor's storage in one object: open a file, get every repository on one connection."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, tzinfo
from pathlib import Path
from types import TracebackType
from typing import Any

import appliance.supervisor.storage.validate as validate
from appliance.supervisor.storage.auth import Auth
from appliance.supervisor.storage.database import Guarded, connect, repage
from appliance.supervisor.storage.history import DEFAULT_MAX_POINTS, DayEnergy, TelemetrySeries, energy_per_day, query
from appliance.supervisor.storage.journal import AuditLog, Events, Faults
from appliance.supervisor.storage.migrations import migrate
from appliance.supervisor.storage.ocpp_outbox import OcppOutbox
from appliance.supervisor.storage.pilot_logs import PilotLogs
from appliance.supervisor.storage.prices import Prices
from appliance.supervisor.storage.sessions import Sessions
from appliance.supervisor.storage.settings import (
    AUDIT_MAX_ROWS,
    AUDIT_RETENTION_DAYS,
    EVENT_MAX_ROWS,
    EVENT_RETENTION_DAYS,
    RAW_RETENTION_DAYS,
    Settings,
)
from appliance.supervisor.storage.telemetry import Telemetry

DAY_S = 86400


@dataclass(frozen=True)
class PurgeReport:
    raw_rows: int
    browser_sessions: int
    events: int
    audit: int


class Storage:
    """`Storage(path)` or `Storage(":memory:")`; thread rule in `database.py`. `spool`: a file in
    RAM (tmpfs) where telemetry waits for its batch, so that a killed supervisor loses none of it.
    `exclusive`: this Storage alone may open the file while it is open (see `connect`).

    Repositories: telemetry, sessions, events, faults, audit, pilot_logs, prices, settings, auth, ocpp.
    """

    def __init__(self, path: str | Path, spool: Path | None = None, exclusive: bool = False) -> None:
        db = connect(path, exclusive)
        try:
            self.schema_version = migrate(db)
            repage(db)
        except BaseException:
            db.close()
            raise
        self._g = Guarded(db)
        self.telemetry = Telemetry(self._g, spool)
        self.sessions = Sessions(self._g)
        self.events = Events(self._g)
        self.faults = Faults(self._g)
        self.audit = AuditLog(self._g)
        self.pilot_logs = PilotLogs(self._g)
        self.prices = Prices(self._g)
        self.settings = Settings(self._g)
        self.auth = Auth(self._g)
        self.ocpp = OcppOutbox(self._g)

    def history(self, station: Any, start: Any, end: Any, resolution: Any = "auto",
                max_points: Any = DEFAULT_MAX_POINTS) -> TelemetrySeries:
        """Stored telemetry over [start, end) of one station or all (None); `resolution` is auto,
        raw, minute, hour or day (see `history.py`)."""
        with self._g.read() as db:
            return query(db, station, start, end, resolution, max_points)

    def energy_per_day(self, station: Any, start: Any, end: Any,
                       tz: tzinfo = UTC) -> list[DayEnergy]:
        with self._g.read() as db:
            return energy_per_day(db, station, start, end, tz)

    @contextmanager
    def batch(self) -> Iterator[None]:
        """One durable transaction around several repositories' writes: each commit rewrites
        whole pages, so writes that can wait for each other should share one."""
        with self._g.write(durable=True):
            yield

    def purge(self, now: Any) -> PurgeReport:
        """Housekeeping, e.g. hourly: raw telemetry past its retention (rollups stay), expired
        logins, events and audit entries past their age or row limits."""
        now = validate.timestamp("now", now)
        get = self.settings.get
        return PurgeReport(
            self.telemetry.purge(now - get(RAW_RETENTION_DAYS) * DAY_S), self.auth.purge_browser_sessions(now),
            self.events.prune(now - get(EVENT_RETENTION_DAYS) * DAY_S, get(EVENT_MAX_ROWS)),
            self.audit.prune(now - get(AUDIT_RETENTION_DAYS) * DAY_S, get(AUDIT_MAX_ROWS)))

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
