"""Raw telemetry: buffered in RAM, written in batches, rolled up into minutes (and those into
hours) as they close.

The caller `add`s each station's sample every second, `stage()`s them, and calls `flush()` every
10 s (see `recorder.py`); the flush is one durable transaction, so a power cut costs at most the
samples still in the buffer. Writing a batch instead of each second is what keeps the SD card
alive: every commit rewrites whole pages, however few rows changed.

`stage()` appends the new samples to a spool file in RAM (tmpfs, e.g. /dev/shm) when the
Storage has one: a supervisor that crashes or is killed loses nothing, because the next start
writes the spool to the database; only a power cut (which empties RAM) loses the last batch.

A minute is rolled up once a later sample of the same station arrives (or `roll_up(now)` passes
it), from the raw rows of that minute alone: nothing is ever rescanned. A late sample re-opens
its minute, which is rolled up again at the next flush.
"""

from __future__ import annotations

import json
import math
from collections import deque
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from sqlite_utils import Database

import appliance.supervisor.storage.rollup as rollup
import appliance.supervisor.storage.validate as validate
from appliance.errors import InvalidInput
from appliance.supervisor.storage.database import Guarded

STATES = ("A", "B", "C", "D", "E", "F")
PILOT_MODES = ("X1", "X2", "F")
MINUTE = 60
HOUR = 3600
MAX_BUFFER = 3600  # rows kept while writes fail (disk full...): half an hour of two stations

Triple = tuple[float, float, float]


def _triple(name: str, value: Any) -> Triple:
    if not isinstance(value, (list, tuple)) or len(value) != 3:
        raise InvalidInput(f"{name} must be three numbers (L1, L2, L3), not {value!r}")
    a, b, c = (validate.number(f"{name}[{i}]", x) for i, x in enumerate(value))
    return a, b, c


@dataclass(frozen=True, slots=True)
class TelemetrySample:
    """One station's reading at epoch time `t`; checked on construction."""

    t: float
    station: int
    state: str
    pilot: str
    offered_a: float
    current_a: Triple
    voltage_v: Triple
    power_w: Triple
    energy_wh: float
    temperature_c: float | None = None

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "t", validate.timestamp("t", self.t))
        set_(self, "station", validate.station(self.station))
        validate.choice("state", self.state, STATES)
        validate.choice("pilot", self.pilot, PILOT_MODES)
        set_(self, "offered_a", validate.non_negative("offered_a", self.offered_a))
        for name in ("current_a", "voltage_v", "power_w"):
            set_(self, name, _triple(name, getattr(self, name)))
        set_(self, "energy_wh", validate.non_negative("energy_wh", self.energy_wh))
        set_(self, "temperature_c", validate.optional_number("temperature_c", self.temperature_c))

    def row(self) -> dict[str, Any]:
        row: dict[str, Any] = {"k": rollup.raw_key(self.t, self.station), "station": self.station, "t": self.t,
                               "state": self.state, "pilot": self.pilot, "offered_a": self.offered_a}
        for name in ("current_a", "voltage_v", "power_w"):
            for k, value in zip(rollup.PHASES, getattr(self, name), strict=False):
                row[f"{name}_l{k}"] = value
        row["energy_wh"] = self.energy_wh
        row["temperature_c"] = self.temperature_c
        return row


def _minute(t: float) -> int:
    return math.floor(t / MINUTE) * MINUTE


class Telemetry:
    def __init__(self, guarded: Guarded, spool: Path | None = None) -> None:
        self._g = guarded
        self._spool = spool
        self._buffer: deque[TelemetrySample] = deque(maxlen=MAX_BUFFER)
        self._unstaged: list[TelemetrySample] = []  # added since the last stage()
        self._latest: dict[int, float] = {}  # per station: newest sample written
        self._dirty: dict[int, float] = {}  # per station: oldest sample not yet in a closed rollup
        with guarded.read() as db:
            self._resume(db)
        self._replay()

    def _replay(self) -> None:
        """Write what a killed predecessor left in the spool (a torn last line is skipped)."""
        if self._spool is None or not self._spool.exists():
            return
        for line in self._spool.read_text(encoding="utf-8", errors="replace").splitlines():
            try:
                fields: dict[str, Any] = {k: tuple(v) if isinstance(v, list) else v
                                          for k, v in json.loads(line).items()}
                self._buffer.append(TelemetrySample(**fields))
            except (ValueError, TypeError):
                continue
        self.flush()

    def _resume(self, db: Database) -> None:
        """After a restart, pick up where the rollups stopped (normally the last open minute):
        only raw rows after the oldest station's last rolled minute need a look."""
        rolled = {station: db.execute("SELECT MAX(t) FROM telemetry_minute WHERE station = ?", [station]).fetchone()[0]
                  for station in rollup.stations(db, "telemetry_minute")}
        window = f"WHERE {rollup.keys_from('since')} AND t >= :since" if rolled else ""
        for station, oldest, newest in db.execute(
            f"SELECT station, MIN(t), MAX(t) FROM telemetry_raw {window} GROUP BY station",
            {"since": min(rolled.values(), default=0) + MINUTE},
        ):
            self._latest[station] = newest
            last = rolled.get(station)
            self._dirty[station] = oldest if last is None else max(oldest, last + MINUTE)

    def add(self, sample: TelemetrySample) -> None:
        if not isinstance(sample, TelemetrySample):
            raise InvalidInput(f"expected a TelemetrySample, not {type(sample).__name__}")
        self._buffer.append(sample)
        self._unstaged.append(sample)

    def stage(self) -> None:
        """Append the samples added since the last call to the spool (no fsync: RAM only). While
        writes fail and the buffer is full, the spool is rewritten from the buffer instead, so it
        never holds more than the buffer does."""
        if self._spool is None or not self._unstaged:
            self._unstaged.clear()
            return
        full = len(self._buffer) == MAX_BUFFER
        lines = "".join(json.dumps(asdict(s)) + "\n" for s in (self._buffer if full else self._unstaged))
        with self._spool.open("w" if full else "a", encoding="utf-8") as f:
            f.write(lines)
        self._unstaged.clear()

    @property
    def pending(self) -> int:
        return len(self._buffer)

    def flush(self) -> int:
        """Write the buffered samples and roll up the minutes they closed; returns the count.

        On failure the samples stay buffered for the next flush (up to MAX_BUFFER, oldest dropped).
        """
        samples = list(self._buffer)
        if not samples:  # no telemetry (pilot away): still bound what a power cut takes
            self._g.sync()
            return 0
        latest, dirty = dict(self._latest), dict(self._dirty)
        for s in samples:
            latest[s.station] = max(latest.get(s.station, s.t), s.t)
            dirty[s.station] = min(dirty.get(s.station, s.t), s.t)
        with self._g.write(durable=True) as db:
            db.table("telemetry_raw").insert_all((s.row() for s in samples), replace=True)
            for station in {s.station for s in samples}:
                self._roll(db, dirty, station, _minute(latest[station]))
        self._latest, self._dirty = latest, dirty
        self._buffer.clear()
        self._unstaged.clear()
        if self._spool is not None:
            self._spool.unlink(missing_ok=True)
        return len(samples)

    def roll_up(self, now: float) -> None:
        """Close every minute that ended by `now`, even for a station that went quiet."""
        now = validate.timestamp("now", now)
        dirty = dict(self._dirty)
        with self._g.write() as db:
            for station in dirty:
                self._roll(db, dirty, station, _minute(now))
        self._dirty = dirty

    def _roll(self, db: Database, dirty: dict[int, float], station: int, upto: int) -> None:
        """(Re)compute the minute rollups of `station` from its oldest unrolled sample up to `upto`,
        then the hours those minutes belong to (from at most 60 minute rows each)."""
        start = _minute(dirty[station])
        if start >= upto:
            return
        select, params = rollup.from_raw(MINUTE, [station])
        db.execute(f"INSERT OR REPLACE INTO telemetry_minute ({rollup.OUTPUT}) {select}",
                   {**params, "start": start, "end": upto})
        select, params = rollup.from_rollup("telemetry_minute", HOUR, [station])
        db.execute(f"INSERT OR REPLACE INTO telemetry_hour ({rollup.OUTPUT}) {select}",
                   {**params, "start": start // HOUR * HOUR, "end": -(-upto // HOUR) * HOUR})
        dirty[station] = upto

    def purge(self, before: float) -> int:
        """Delete raw samples older than `before` (their minutes are rolled up first); returns the count."""
        before = validate.timestamp("before", before)
        self.roll_up(before)
        with self._g.write() as db:
            return int(db.execute(f"DELETE FROM telemetry_raw WHERE {rollup.keys_before('before')} AND t < :before",
                                  {"before": before}).rowcount)
