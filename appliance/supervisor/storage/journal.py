"""What happened: events (state changes, control decisions and their reasons), faults as the
pilot raised and cleared them, and the audit log of who asked for which control action.

Each row is durable when `add`/`record` returns (its own fsync'd commit): they are rare, and
they are what the owner reads after something went wrong. The logs are bounded by age and row
count (`prune`, run with the hourly housekeeping)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import appliance.supervisor.storage.validate as validate
from appliance.supervisor.storage.database import Guarded, insert
from appliance.supervisor.storage.paging import Page, Where, paged


def _json(value: str | None) -> Any:
    return None if value is None else json.loads(value)


def _prune(guarded: Guarded, table: str, before: Any, max_rows: Any) -> int:
    """Delete rows older than `before`, then all but the newest `max_rows`; returns the count."""
    before = validate.timestamp("before", before)
    max_rows = validate.integer("max_rows", max_rows, minimum=0)
    with guarded.write() as db:
        deleted = db.execute(f"DELETE FROM {table} WHERE t < ?", [before]).rowcount
        deleted += db.execute(f"DELETE FROM {table} WHERE id <= "
                              f"(SELECT id FROM {table} ORDER BY id DESC LIMIT 1 OFFSET ?)", [max_rows]).rowcount
    return deleted


@dataclass(frozen=True)
class Event:
    id: int
    t: float
    station: int | None
    kind: str
    message: str
    data: Any


@dataclass(frozen=True)
class Fault:
    id: int
    t: float
    station: int
    code: str
    active: bool
    message: str


@dataclass(frozen=True)
class AuditEntry:
    id: int
    t: float
    actor: str
    action: str
    target: str | None
    details: Any


class Events:
    def __init__(self, guarded: Guarded) -> None:
        self._g = guarded

    def add(self, t: Any, kind: Any, message: Any, station: Any = None, data: Any = None) -> int:
        """`kind` is a short name such as "state" or "decision"; `data` any JSON value."""
        row = {"t": validate.timestamp("t", t), "station": validate.optional_station(station),
               "kind": validate.identifier("kind", kind), "message": validate.text("message", message),
               "data": validate.optional_json_text("data", data)}
        with self._g.write(durable=True) as db:
            return insert(db, "events", row)

    def prune(self, before: Any, max_rows: Any) -> int:
        return _prune(self._g, "events", before, max_rows)

    def list(self, station: Any = None, kind: Any = None, start: Any = None, end: Any = None,
             limit: Any = 100, offset: Any = 0) -> Page[Event]:
        """Newest first."""
        where = (Where().add("station = ?", validate.optional_station(station))
                 .add("kind = ?", None if kind is None else validate.identifier("kind", kind))
                 .window("t", start, end))
        with self._g.read() as db:
            return paged(db, "events", where, "t DESC, id DESC", limit, offset,
                         lambda r: Event(**{**r, "data": _json(r["data"])}))


class Faults:
    def __init__(self, guarded: Guarded) -> None:
        self._g = guarded

    def record(self, t: Any, station: Any, code: Any, active: Any, message: Any) -> int:
        """One row per change: raised (`active`) or cleared."""
        row = {"t": validate.timestamp("t", t), "station": validate.station(station),
               "code": validate.text("code", code, 64), "active": validate.flag("active", active),
               "message": validate.text("message", message)}
        with self._g.write(durable=True) as db:
            return insert(db, "faults", row)

    def active(self) -> list[Fault]:
        """Faults whose latest change raised them, per station and code."""
        with self._g.read() as db:
            rows = db.query("""
                SELECT f.* FROM faults f
                JOIN (SELECT MAX(id) AS id FROM faults GROUP BY station, code) latest ON latest.id = f.id
                WHERE f.active = 1 ORDER BY f.station, f.t""")
            return [_fault(r) for r in rows]

    def list(self, station: Any = None, code: Any = None, start: Any = None, end: Any = None,
             limit: Any = 100, offset: Any = 0) -> Page[Fault]:
        """Newest first."""
        where = (Where().add("station = ?", validate.optional_station(station))
                 .add("code = ?", validate.optional_text("code", code, 64)).window("t", start, end))
        with self._g.read() as db:
            return paged(db, "faults", where, "t DESC, id DESC", limit, offset, _fault)


def _fault(row: dict[str, Any]) -> Fault:
    return Fault(**{**row, "active": bool(row["active"])})


class AuditLog:
    def __init__(self, guarded: Guarded) -> None:
        self._g = guarded

    def add(self, t: Any, actor: Any, action: Any, target: Any = None, details: Any = None) -> int:
        """`actor`: the user or the token's name; `target`: e.g. "station/1"; `details`: JSON."""
        row = {"t": validate.timestamp("t", t), "actor": validate.text("actor", actor, 200),
               "action": validate.text("action", action, 200), "target": validate.optional_text("target", target, 200),
               "details": validate.optional_json_text("details", details)}
        with self._g.write(durable=True) as db:
            return insert(db, "audit_log", row)

    def prune(self, before: Any, max_rows: Any) -> int:
        return _prune(self._g, "audit_log", before, max_rows)

    def list(self, actor: Any = None, start: Any = None, end: Any = None, limit: Any = 100,
             offset: Any = 0) -> Page[AuditEntry]:
        """Newest first."""
        where = Where().add("actor = ?", validate.optional_text("actor", actor, 200)).window("t", start, end)
        with self._g.read() as db:
            return paged(db, "audit_log", where, "t DESC, id DESC", limit, offset,
                         lambda r: AuditEntry(**{**r, "details": _json(r["details"])}))
