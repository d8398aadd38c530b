"""Charging sessions, plug-in to unplug. An open session has no end yet; at most one per
station (a partial unique index), so after a restart `open_session(station)` finds it.

Opening and closing are durable at once; `update` (energy, peak, cost while charging) is an
ordinary commit that the recorder batches with the telemetry, every 10 s."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any

from sqlite_utils import Database
from sqlite_utils.db import NotFoundError

import appliance.supervisor.storage.validate as validate
from appliance.errors import InvalidInput, NotFound
from appliance.supervisor.storage.database import Guarded, insert
from appliance.supervisor.storage.paging import Page, Where, paged

CSV_HEADER = ("id", "station", "start", "end", "energy_kwh", "peak_kw", "cost", "mode")
_EXPORT_PAGE = 500


@dataclass(frozen=True)
class SessionRecord:
    """A charging session as stored: one row of the sessions table."""

    id: int
    station: int
    start_t: float
    end_t: float | None
    mode: str
    energy_kwh: float
    peak_power_w: float
    cost: float | None

    @property
    def is_open(self) -> bool:
        return self.end_t is None


def _iso(t: float | None, tz: tzinfo) -> str:
    return "" if t is None else datetime.fromtimestamp(t, tz).isoformat(timespec="seconds")


class Sessions:
    def __init__(self, guarded: Guarded) -> None:
        self._g = guarded

    def open(self, station: Any, start_t: Any, mode: Any) -> int:
        station = validate.station(station)
        row = {"station": station, "start_t": validate.timestamp("start_t", start_t),
               "mode": validate.identifier("mode", mode)}
        with self._g.write(durable=True) as db:
            existing = self._open_row(db, station)
            if existing is not None:
                raise InvalidInput(f"station {station} already has open session {existing['id']}")
            return insert(db, "sessions", row)

    def update(self, session_id: Any, energy_kwh: Any, peak_power_w: Any, cost: Any = None) -> None:
        values = {"energy_kwh": validate.non_negative("energy_kwh", energy_kwh),
                  "peak_power_w": validate.non_negative("peak_power_w", peak_power_w),
                  "cost": validate.optional_number("cost", cost)}
        with self._g.write() as db:
            self._get(db, session_id)
            db.table("sessions").update(session_id, values)

    def close(self, session_id: Any, end_t: Any) -> None:
        end_t = validate.timestamp("end_t", end_t)
        with self._g.write(durable=True) as db:
            session = self._get(db, session_id)
            if not session.is_open:
                raise InvalidInput(f"session {session.id} is already closed")
            if end_t < session.start_t:
                raise InvalidInput(f"end_t ({end_t}) is before the session's start ({session.start_t})")
            db.table("sessions").update(session.id, {"end_t": end_t})

    def get(self, session_id: Any) -> SessionRecord:
        with self._g.read() as db:
            return self._get(db, session_id)

    def open_session(self, station: Any) -> SessionRecord | None:
        """The station's session still open (e.g. from before a restart), if any."""
        station = validate.station(station)
        with self._g.read() as db:
            row = self._open_row(db, station)
        return None if row is None else SessionRecord(**row)

    def list(self, station: Any = None, start: Any = None, end: Any = None, limit: Any = 50,
             offset: Any = 0) -> Page[SessionRecord]:
        """Sessions that started in [start, end), newest first."""
        with self._g.read() as db:
            return paged(db, "sessions", self._where(station, start, end), "start_t DESC, id DESC",
                         limit, offset, lambda row: SessionRecord(**row))

    def csv_lines(self, station: Any = None, start: Any = None, end: Any = None,
                  tz: tzinfo = UTC) -> Iterator[str]:
        """CSV export, header first, oldest first; ISO times in `tz`. Reads a page at a time so a
        slow download never holds the database lock."""
        where = self._where(station, start, end)
        yield self._csv_line(CSV_HEADER)
        after = -1
        while True:
            with self._g.read() as db:
                rows = list(db.table("sessions").rows_where(f"{where.sql} AND id > ?", [*where.params, after],
                                                      order_by="id", limit=_EXPORT_PAGE))
            for row in rows:
                s = SessionRecord(**row)
                yield self._csv_line((s.id, s.station, _iso(s.start_t, tz), _iso(s.end_t, tz),
                                      round(s.energy_kwh, 3), round(s.peak_power_w / 1000, 3),
                                      "" if s.cost is None else round(s.cost, 2), s.mode))
            if len(rows) < _EXPORT_PAGE:
                return
            after = rows[-1]["id"]

    @staticmethod
    def _csv_line(fields: tuple[Any, ...]) -> str:
        out = io.StringIO()
        csv.writer(out).writerow(fields)
        return out.getvalue()

    @staticmethod
    def _where(station: Any, start: Any, end: Any) -> Where:
        return Where().add("station = ?", validate.optional_station(station)).window("start_t", start, end)

    @staticmethod
    def _open_row(db: Database, station: int) -> dict[str, Any] | None:
        return next(db.table("sessions").rows_where("station = ? AND end_t IS NULL", [station]), None)

    @staticmethod
    def _get(db: Database, session_id: Any) -> SessionRecord:
        session_id = validate.integer("session id", session_id, minimum=1)
        try:
            return SessionRecord(**db.table("sessions").get(session_id))
        except NotFoundError:
            raise NotFound(f"no session {session_id}") from None
