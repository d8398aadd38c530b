"""SD-card wear: bytes written to storage per day while two cars charge (issue 11, SPEC §5),
measured as the issue did, with /proc/self/io write_bytes, over a simulated hour through the
real core, recorder and SQLite file (with the kernel's 30 s writeback of dirty pages played in).
Baselines in the same run: the same recorder writing each second (the pattern before batching),
and batching with the database opened shared, i.e. with its memory-mapped `-shm` WAL index on
disk. The budget itself is asserted in tests/supervisor/test_storage_wear.py."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from appliance.supervisor.recorder import FLUSH_EVERY_S
from tests.supervisor.two_cars import DAY_S, charge_two_cars

SIMULATED_S = 3600
BUDGET_MB_PER_DAY = 150


def test_bench_storage_wear(tmp_path: Path, emit: Callable[..., None]) -> None:
    if not Path("/proc/self/io").exists():
        pytest.skip("needs Linux /proc/self/io")
    per_day: dict[str, float] = {}
    for name, flush_every_s, exclusive in (("each_second", 1.0, True), ("batched_shared", FLUSH_EVERY_S, False),
                                           ("batched", FLUSH_EVERY_S, True)):
        (tmp_path / name).mkdir()
        started = time.perf_counter()
        written = charge_two_cars(tmp_path / name / "evse.db", SIMULATED_S, flush_every_s, exclusive)
        per_day[name] = written * DAY_S / SIMULATED_S / 1e6
        emit("storage_wear", config=name, flush_every_s=flush_every_s, exclusive=exclusive, simulated_s=SIMULATED_S,
             bytes_written=written, mb_per_day=round(per_day[name], 1), seconds=round(time.perf_counter() - started, 2))
    emit("storage_wear_summary", mb_per_day=round(per_day["batched"], 1),
         baseline_each_second_mb_per_day=round(per_day["each_second"], 1),
         ratio_to_each_second=round(per_day["batched"] / per_day["each_second"], 3),
         ratio_to_shared=round(per_day["batched"] / per_day["batched_shared"], 3),
         share_of_budget=round(per_day["batched"] / BUDGET_MB_PER_DAY, 3))
