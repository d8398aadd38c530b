"""The pilot's RAM log, fetched and kept for good.

The pilot numbers its entries from 1 every time its process starts, so entries are keyed by
(boot, seq): a boot is one run of the pilot process as far as the supervisor can tell. Every
fetch reply comes from one run, and it is a new run when the caller says so (`boot` key
changed), when the pilot's `last_seq` went below what we hold, or when an entry we already
hold under that seq reads differently. Re-fetching entries already stored is harmless, so
after a reconnect fetching from 0 is always safe and reveals a restart.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

import appliance.supervisor.storage.validate as validate
from appliance.errors import InvalidInput
from appliance.supervisor.storage.database import Guarded, insert
from appliance.supervisor.storage.paging import Page, Where, paged


@dataclass(frozen=True)
class PilotLogEntry:
    boot: int
    seq: int
    t: float  # the pilot's clock: seconds since its process started
    level: str
    station: int | None
    message: str


def _entry(raw: Any) -> dict[str, Any]:
    if not isinstance(raw, Mapping):
        raise InvalidInput(f"a pilot log entry must be an object, not {type(raw).__name__}")
    try:
        return {"seq": validate.integer("seq", raw["seq"], minimum=1),
                "t": validate.number("t", raw["t"]),
                "level": validate.identifier("level", raw["level"]),
                "station": validate.optional_station(raw.get("station")),
                "message": validate.text("message", raw["message"], 10_000)}
    except KeyError as exc:
        raise InvalidInput(f"a pilot log entry needs {exc.args[0]!r}") from None


def _boot(db: Database) -> tuple[int, str | None]:
    row = db.execute("SELECT id, key FROM pilot_boots ORDER BY id DESC LIMIT 1").fetchone()
    return (0, None) if row is None else (row[0], row[1])


def _cursor(db: Database, boot: int) -> int:
    return int(db.execute("SELECT COALESCE(MAX(seq), 0) FROM pilot_logs WHERE boot = ?", [boot]).fetchone()[0])


def _new_run(db: Database, boot: int, key: str | None, rows: list[dict[str, Any]], last_seq: int | None,
             new_key: str | None) -> bool:
    """Does this reply come from another run of the pilot than the entries of `boot`?"""
    if boot == 0 or (new_key is not None and new_key != key):
        return True
    if last_seq is not None and last_seq < _cursor(db, boot):
        return True
    if not rows:
        return False
    seqs = [r["seq"] for r in rows]
    held = {seq: (t, message) for seq, t, message in db.execute(
        "SELECT seq, t, message FROM pilot_logs WHERE boot = ? AND seq BETWEEN ? AND ?",
        [boot, min(seqs), max(seqs)])}
    return any(r["seq"] in held and held[r["seq"]] != (r["t"], r["message"]) for r in rows)


class PilotLogs:
    def __init__(self, guarded: Guarded) -> None:
        self._g = guarded

    def cursor(self) -> int:
        """The `since` to fetch with: the highest seq held for the current boot (0 if none)."""
        with self._g.read() as db:
            return _cursor(db, _boot(db)[0])

    def store(self, entries: Iterable[Any], last_seq: Any = None, boot: Any = None) -> int:
        """Keep one fetch reply's entries; returns the `since` for the next fetch."""
        rows = [_entry(e) for e in entries]
        last_seq = None if last_seq is None else validate.integer("last_seq", last_seq, minimum=0)
        boot = validate.optional_text("boot", boot, 200)
        with self._g.write() as db:
            current, key = _boot(db)
            if _new_run(db, current, key, rows, last_seq, boot):
                current = insert(db, "pilot_boots", {"key": boot})
            db.table("pilot_logs").insert_all(({**r, "boot": current} for r in rows), ignore=True)
            return _cursor(db, current)

    def list(self, station: Any = None, level: Any = None, limit: Any = 200,
             offset: Any = 0) -> Page[PilotLogEntry]:
        """Newest first, across pilot restarts."""
        where = (Where().add("station = ?", validate.optional_station(station))
                 .add("level = ?", None if level is None else validate.identifier("level", level)))
        with self._g.read() as db:
            return paged(db, "pilot_logs", where, "boot DESC, seq DESC", limit, offset, lambda r: PilotLogEntry(**r))
