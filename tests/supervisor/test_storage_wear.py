"""SPEC §5 / issue 11: while two cars charge, the appliance writes at most 150 MB a day to
storage. Half a simulated hour through the real core, recorder and SQLite file, counted with
/proc/self/io write_bytes (figures over a longer run: tests/bench/test_bench_storage_wear.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

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
