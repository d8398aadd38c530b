"""Reading telemetry back: the coarsest table that still gives the resolution asked for.

Raw samples serve short ranges, minute rollups days, and hour/day buckets merged from the
minute rollups months and years, so a query returns a bounded number of points whatever the
range. Energy per local day comes from hour buckets grouped in the caller's time zone.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, timezone, tzinfo
from typing import Any

from sqlite_utils import Database

from appliance.supervisor.storage import rollup, validate

RESOLUTIONS: dict[str, int] = {"raw": 1, "minute": 60, "hour": 3600, "day": 86400}
DEFAULT_MAX_POINTS = 4000  # per station: an hour of raw, ~2.7 days of minutes, ~5 months of hours


@dataclass(frozen=True, slots=True)
class TelemetryBucket:
    """One station over [t, t + bucket): averages, maxima and the energy delivered in it."""

    t: float
    station: int
    n: int  # raw samples behind it
    state_min: str
    state_max: str
    offered_a_avg: float
    offered_a_max: float
    current_a_avg: tuple[float, float, float]
    voltage_v_avg: tuple[float, float, float]
    power_w_avg: tuple[float, float, float]
    power_w_max: tuple[float, float, float]
    power_total_w_avg: float
    power_total_w_max: float
    energy_wh: float
    temperature_c_max: float | None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> TelemetryBucket:
        fields = dict(row)
        for name in ("current_a_avg", "voltage_v_avg", "power_w_avg", "power_w_max"):
            fields[name] = tuple(fields.pop(f"{name}_l{k}") for k in rollup.PHASES)
        return cls(**fields)


@dataclass(frozen=True)
class TelemetrySeries:
    resolution: str
    bucket_s: int
    points: list[TelemetryBucket]  # ordered by t, then station


@dataclass(frozen=True)
class DayEnergy:
    day: date
    station: int
    energy_kwh: float


def choose_resolution(start: float, end: float, resolution: str, max_points: int) -> str:
    """`auto`: the finest resolution within max_points; a named one must fit or it is refused."""
    def points(name: str) -> int:
        bucket = RESOLUTIONS[name]
        return math.ceil((end - math.floor(start / bucket) * bucket) / bucket)

    if resolution == "auto":
        return next((name for name in RESOLUTIONS if points(name) <= max_points), "day")
    validate.choice("resolution", resolution, ("auto", *RESOLUTIONS))
    if points(resolution) > max_points:
        fitting = next((name for name in RESOLUTIONS if points(name) <= max_points), "day")
        raise ValueError(f"{resolution} resolution gives {points(resolution)} points per station over this range, "
                         f"more than {max_points}: use {fitting} or a shorter range")
    return resolution


def _buckets(db: Database, resolution: str, station: int | None, start: float, end: float) -> list[dict[str, Any]]:
    bucket = RESOLUTIONS[resolution]
    table = "telemetry_raw" if resolution == "raw" else "telemetry_minute"
    stations = [station] if station is not None else rollup.stations(db, table)
    if not stations:
        return []
    if resolution == "raw":
        sql, params = rollup.from_raw(bucket, stations)
    else:
        sql, params = rollup.from_rollup("telemetry_minute", bucket, stations)
    cursor = db.execute(sql, {**params, "start": math.floor(start / bucket) * bucket, "end": end})
    keys = [d[0] for d in cursor.description]
    return [dict(zip(keys, row)) for row in cursor]


def query(db: Database, station: Any, start: Any, end: Any, resolution: Any = "auto",
          max_points: Any = DEFAULT_MAX_POINTS) -> TelemetrySeries:
    station = validate.optional_station(station)
    start, end = validate.time_range(start, end)
    max_points = validate.integer("max_points", max_points, minimum=1, maximum=100_000)
    chosen = choose_resolution(start, end, resolution, max_points)
    rows = _buckets(db, chosen, station, start, end)
    return TelemetrySeries(chosen, RESOLUTIONS[chosen], [TelemetryBucket.from_row(r) for r in rows])


def energy_per_day(db: Database, station: Any, start: Any, end: Any, tz: tzinfo = timezone.utc) -> list[DayEnergy]:
    """kWh per station per local day in `tz` (exact for time zones on whole-hour offsets)."""
    station = validate.optional_station(station)
    start, end = validate.time_range(start, end)
    totals: dict[tuple[date, int], float] = {}
    for row in _buckets(db, "hour", station, start, end):
        key = (datetime.fromtimestamp(row["t"], tz).date(), row["station"])
        totals[key] = totals.get(key, 0.0) + row["energy_wh"]
    return [DayEnergy(day, st, wh / 1000) for (day, st), wh in sorted(totals.items())]
