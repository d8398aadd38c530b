"""One SQLite connection per Storage, behind a lock.

Threading rule: a Storage owns exactly one connection, opened with `check_same_thread=False`,
and every public method holds the Storage's re-entrant lock for its whole duration. The asyncio
app may therefore call it from the event-loop thread and from a background writer thread (or
`asyncio.to_thread`) at once: calls are serialised, never interleaved on the connection.
Generators (CSV export) read a page under the lock and yield outside it. Another process, or a
second Storage on the same file, is fine too (WAL lets readers run beside the one writer, and
the busy timeout makes a second writer wait instead of failing), except beside an `exclusive`
Storage, as the supervisor's is (see `connect`).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from appliance.errors import InvalidInput

BUSY_TIMEOUT_S = 5.0
# SD-card wear: a commit appends every page it changed to the WAL, so the small batch commits of
# telemetry cost whole pages; with 512-byte pages two cars charging write about half what they
# do with 4096 (110 against 204 MB/day, tests/bench/test_bench_storage_wear.py).
PAGE_SIZE = 512
# A checkpoint copies each page changed since the last one back once, however often it changed:
# ~4 MB of WAL lets the hot pages of many batches fold into one write.
WAL_AUTOCHECKPOINT_PAGES = 8000


def connect(path: str | Path, exclusive: bool = False) -> Database:
    """WAL + synchronous=NORMAL: every commit survives a crash of the process, and a power cut
    from the next durable write on (see `Guarded.write`), without an fsync per statement.

    `exclusive` (the supervisor, which owns its file): no other connection may open the file
    while this one is open, and in return SQLite keeps the WAL index in the process's memory
    instead of the memory-mapped `-shm` file beside the database, which the kernel would
    otherwise write back to the SD card every few seconds (SD-card wear).
    """
    conn = sqlite3.connect(str(path), check_same_thread=False, timeout=BUSY_TIMEOUT_S)
    db = Database(conn)
    db.execute(f"PRAGMA page_size={PAGE_SIZE}")  # a new file only; `repage` converts an older one
    if exclusive:  # before the first access in WAL mode, or the -shm file is made anyway
        db.execute("PRAGMA locking_mode=EXCLUSIVE")
    db.enable_wal()
    db.execute(f"PRAGMA wal_autocheckpoint={WAL_AUTOCHECKPOINT_PAGES}")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("PRAGMA foreign_keys=ON")
    db.execute(f"PRAGMA busy_timeout={int(BUSY_TIMEOUT_S * 1000)}")
    return db


def repage(db: Database) -> None:
    """Rewrite a database made with another page size (once, at the first start of this
    version; VACUUM cannot change the page size of a WAL database, hence the detour)."""
    if (
        db.execute("PRAGMA page_size").fetchone()[0] == PAGE_SIZE
        or not db.execute("PRAGMA database_list").fetchone()[2]
    ):
        return
    db.execute("PRAGMA journal_mode=DELETE")
    db.execute(f"PRAGMA page_size={PAGE_SIZE}")
    db.execute("VACUUM")
    db.enable_wal()


def insert(db: Database, table: str, row: dict[str, Any]) -> int:
    """Insert one row; returns its id."""
    rowid = db.table(table).insert(row).last_rowid
    if rowid is None:
        raise RuntimeError(f"SQLite reported no row inserted into {table}")
    return rowid


class Guarded:
    """The connection and its lock; repositories reach the database only through here."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._lock = threading.RLock()
        self._unsynced = False  # a NORMAL commit happened since the last fsync
        self._outer_durable: bool | None = None  # the open write's durability; None outside one

    @contextmanager
    def read(self) -> Iterator[Database]:
        with self._lock:
            yield self._db

    @contextmanager
    def write(self, durable: bool = False) -> Iterator[Database]:
        """One transaction: everything inside commits together or not at all.

        A constraint violation rolls everything back and becomes a ValueError, like any bad input.
        `durable` commits with synchronous=FULL, i.e. with an fsync of the WAL, which also covers
        every NORMAL commit before it. A write inside another joins its transaction (a savepoint),
        so several repositories can share one commit; SQLite cannot change the safety level inside
        a transaction, so a durable write may only nest in a durable one.
        """
        with self._lock:
            if self._outer_durable is not None:
                if durable and not self._outer_durable:
                    raise RuntimeError("a durable write cannot join a transaction that is not durable")
                with self._db.atomic():
                    yield self._db
                return
            if durable:
                self._db.execute("PRAGMA synchronous=FULL")
            self._outer_durable = durable
            try:
                with self._db.atomic():
                    yield self._db
                self._unsynced = not durable
            except sqlite3.IntegrityError as exc:  # a constraint caught what the checks let through
                raise InvalidInput(f"refused by the database: {exc}") from None
            finally:
                self._outer_durable = None
                if durable:
                    self._db.execute("PRAGMA synchronous=NORMAL")

    def sync(self) -> None:
        """Make earlier NORMAL commits durable when there is no durable write to carry them
        (a passive checkpoint fsyncs the WAL first)."""
        with self._lock:
            if self._unsynced:
                self._db.execute("PRAGMA wal_checkpoint(PASSIVE)")
                self._unsynced = False

    def close(self) -> None:
        with self._lock:
            self._db.close()
