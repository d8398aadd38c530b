"""SPEC §5 / issue 11: while two cars charge, the appliance writes at most 150 MB a day to
storage. Half a simulated hour through the real core, recorder and SQLite file, counted with
/proc/self/io write_bytes (figures over a longer run: tests/bench/test_bench_storage_wear.py),
and the exclusive locking that keeps SQLite's WAL index off the disk."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from appliance.supervisor.storage import Storage
from tests.supervisor.two_cars import DAY_S, charge_two_cars

BUDGET_BYTES_PER_DAY = 150e6
SIMULATED_S = 1800


def test_two_cars_charging_write_at_most_150_mb_a_day(tmp_path: Path) -> None:
    if not Path("/proc/self/io").exists():
        pytest.skip("needs Linux /proc/self/io")
    written = charge_two_cars(tmp_path / "evse.db", SIMULATED_S)
    if written == 0:
        pytest.skip("the temporary directory is not on a block device (tmpfs?): nothing to count")
    per_day = written * DAY_S / SIMULATED_S
    assert per_day <= BUDGET_BYTES_PER_DAY, f"{per_day / 1e6:.0f} MB/day"


def test_the_supervisors_database_keeps_its_wal_index_in_memory(tmp_path: Path) -> None:
    """No memory-mapped -shm file for the kernel to write back every few seconds; the price is
    that nothing else may open the file while the supervisor has it."""
    path = tmp_path / "evse.db"
    with Storage(path, exclusive=True) as storage:
        storage.events.add(1_700_000_000.0, "system", "started")
        assert sorted(p.name for p in tmp_path.iterdir()) == ["evse.db", "evse.db-wal"]
        other = sqlite3.connect(path, timeout=0)
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute("SELECT COUNT(*) FROM events").fetchone()
        other.close()
    assert sqlite3.connect(path).execute("SELECT COUNT(*) FROM events").fetchone()[0] == 1
