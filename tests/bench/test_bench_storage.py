"""Storage benchmarks: telemetry ingest (2 stations, 1 Hz, one durable flush a second: ten times
the supervisor's batch rate, the worst case for flush latency) and history queries over a year
of minute rollups, against a one-day baseline. Bytes written per day: test_bench_storage_wear.py."""

from __future__ import annotations

import random
import sqlite3
import statistics
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from appliance.supervisor.storage import Storage, TelemetrySample, rollup
from appliance.supervisor.storage.migrations import migrate
from tests.bench.conftest import percentile

T0 = 1_672_531_200  # 2023-01-01 00:00 UTC
DAY = 86400
INGEST_HOURS = 2  # 7,200 durable flushes: each waits for an fsync, so a busy disk stretches the run
YEAR_DAYS = 365


def _disk_writes() -> int | None:
    """Bytes this process has sent to the block layer (Linux): what an SD card would wear."""
    try:
        text = Path("/proc/self/io").read_text()
    except OSError:
        return None
    return next(int(line.split()[1]) for line in text.splitlines() if line.startswith("write_bytes:"))


def _db_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.parent.iterdir() if p.name.startswith(path.name))


def test_bench_storage_ingest(tmp_path: Path, emit: Callable[..., None]) -> None:
    path = tmp_path / "evse.db"
    seconds = INGEST_HOURS * 3600
    flush_ms: list[float] = []
    with Storage(path) as storage:
        written_before = _disk_writes()
        started = time.perf_counter()
        for i in range(seconds):
            for station in (1, 2):
                watts = 11040.0 if station == 1 else 3680.0
                storage.telemetry.add(TelemetrySample(
                    t=T0 + i + 0.25 * station, station=station, state="C", pilot="X2", offered_a=16.0,
                    current_a=(16.0, 16.0, 16.0), voltage_v=(230.1, 229.8, 231.0), power_w=(watts / 3,) * 3,
                    energy_wh=i * watts / 3600, temperature_c=31.5))
            t = time.perf_counter()
            storage.telemetry.flush()
            flush_ms.append((time.perf_counter() - t) * 1000)
        elapsed = time.perf_counter() - started
        written_after = _disk_writes()
    rows = 2 * seconds
    written = None if written_before is None or written_after is None else written_after - written_before
    emit("storage_ingest", simulated_hours=INGEST_HOURS, rows=rows, seconds=round(elapsed, 2),
         rows_per_s=round(rows / elapsed), realtime_factor=round(seconds / elapsed),
         flush_ms_p50=round(percentile(flush_ms, 50), 3), flush_ms_p99=round(percentile(flush_ms, 99), 3),
         flush_ms_max=round(max(flush_ms), 2), db_bytes_per_raw_row=round(_db_bytes(path) / rows),
         disk_kb_written_per_flush=None if written is None else round(written / seconds / 1024, 1))


def _minutes(stations: tuple[int, ...]) -> Iterator[tuple[Any, ...]]:
    """A year of plausible minute rollups: idle, 1-phase or 3-phase charging."""
    rnd = random.Random(7)
    for m in range(YEAR_DAYS * 1440):
        t = T0 + 60 * m
        for station in stations:
            amps = rnd.choice((0.0, 0.0, 16.0, 32.0))
            phases = (amps, amps if station == 1 else 0.0, amps if station == 1 else 0.0)
            watts = [a * 230.0 for a in phases]
            yield (station, t, 60, "B" if amps == 0 else "C", "C" if amps else "B", amps, amps, *phases,
                   230.0, 230.0, 230.0, *watts, *watts, sum(watts), sum(watts), sum(watts) / 60, 35.0)


def _median_ms(fn: Callable[[], Any], repeat: int = 5) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times), result


def test_bench_storage_year_history(tmp_path: Path, emit: Callable[..., None]) -> None:
    """Fill a year of minute rollups into a v1 database (executemany), let Storage upgrade it (which
    builds the hour rollups from them, as the live path does incrementally), then query."""
    path = tmp_path / "year.db"
    old = Database(sqlite3.connect(path))
    migrate(old, target=1)
    columns = ["station", "t", *(c.name for c in rollup.COLUMNS)]
    t = time.perf_counter()
    with old.atomic():
        old.conn.executemany(f"INSERT INTO telemetry_minute ({', '.join(columns)}) "
                             f"VALUES ({', '.join('?' * len(columns))})", _minutes((1, 2)))
    fill_s = time.perf_counter() - t
    minute_rows = old["telemetry_minute"].count
    old.close()

    t = time.perf_counter()
    storage = Storage(path)
    upgrade_s = time.perf_counter() - t
    with storage:
        year_end = T0 + YEAR_DAYS * DAY
        day_start = T0 + 200 * DAY
        query = storage.history
        year_ms, year = _median_ms(lambda: query(None, T0, year_end))
        year_hours_ms, year_hours = _median_ms(lambda: query(None, T0, year_end, "hour", max_points=10_000))
        day_ms, day = _median_ms(lambda: query(None, day_start, day_start + DAY))
        energy_ms, days = _median_ms(lambda: storage.energy_per_day(None, T0, year_end))
        with storage._g.read() as db:  # what the year would cost merged straight from the minute rollups
            sql, params = rollup.from_rollup("telemetry_minute", DAY, [1, 2])
            window = {**params, "start": T0, "end": year_end}
            from_minutes_ms, _ = _median_ms(lambda: db.execute(sql, window).fetchall(), repeat=1)
    emit("storage_year_history", minute_rows=minute_rows, fill_s=round(fill_s, 2),
         upgrade_to_hours_s=round(upgrade_s, 2),
         year_resolution=year.resolution, year_points=len(year.points), year_ms=round(year_ms, 1),
         year_hourly_points=len(year_hours.points), year_hourly_ms=round(year_hours_ms, 1),
         day_resolution=day.resolution, day_points=len(day.points), day_ms=round(day_ms, 1),
         year_over_day=round(year_ms / day_ms, 2), energy_per_day_year_ms=round(energy_ms, 1), energy_days=len(days),
         year_merged_from_minutes_ms=round(from_minutes_ms, 1))
