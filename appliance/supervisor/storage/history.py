"""Reading telemetry back: the coarsest table that still gives the resolution asked for.

Raw samples serve short ranges, minute rollups days, hour rollups (kept from the minute ones)
months, and days merged from the hours years: a query returns a bounded number of points
whatever the range. Energy per local day sums hour rollups in the caller's time zone.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime, tzinfo
from typing import Any

from sqlite_utils import Database

import appliance.supervisor.storage.rollup as rollup
import appliance.supervisor.storage.validate as validate
from appliance.errors import InvalidInput

RESOLUTIONS: dict[str, int] = {"raw": 1, "minute": 60, "hour": 3600, "day": 86400}
SOURCES = {"raw": "telemetry_raw", "minute": "telemetry_minute", "hour": "telemetry_hour", "day": "telemetry_hour"}
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
    def from_row(cls, row: Sequence[Any]) -> TelemetryBucket:
        """From a row in `rollup.OUTPUT` order (a per-phase field takes its three columns)."""
        values: list[Any] = [row[k] for k in _LAYOUT]
        return cls(*values)


def _layout() -> list[int | slice]:
    names = rollup.OUTPUT.split(", ")
    layout: list[int | slice] = []
    for f in fields(TelemetryBucket):
        if f.name in names:
            layout.append(names.index(f.name))
        else:
            first = names.index(f"{f.name}_l1")
            layout.append(slice(first, first + len(rollup.PHASES)))
    return layout


_LAYOUT = _layout()


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

    finest = next((name for name in RESOLUTIONS if points(name) <= max_points), "day")
    if resolution == "auto":
        return finest
    validate.choice("resolution", resolution, ("auto", *RESOLUTIONS))
    if points(resolution) > max_points:
        raise InvalidInput(f"{resolution} resolution gives {points(resolution)} points per station over this range, "
                         f"more than {max_points}: use {finest} or a shorter range")
    return resolution


def _select(resolution: str, stations: list[int]) -> tuple[str, dict[str, Any]]:
    bucket, table = RESOLUTIONS[resolution], SOURCES[resolution]
    if resolution == "raw":
        return rollup.from_raw(bucket, stations)
    if resolution == "day":
        return rollup.from_rollup(table, bucket, stations)
    return rollup.stored(table, stations)


def _stations(db: Database, resolution: str, station: int | None, start: float, end: float) -> list[int]:
    if station is not None:
        return [station]
    if resolution == "raw":  # raw rows are keyed by time first: read the window's stations
        return [s for (s,) in db.execute(
            f"SELECT DISTINCT station FROM telemetry_raw WHERE {rollup.keys_from('start')} AND "
            f"{rollup.keys_before('end')} AND t >= :start AND t < :end ORDER BY station", {"start": start, "end": end})]
    return rollup.stations(db, SOURCES[resolution])


def query(db: Database, station: Any, start: Any, end: Any, resolution: Any = "auto",
          max_points: Any = DEFAULT_MAX_POINTS) -> TelemetrySeries:
    station = validate.optional_station(station)
    start, end = validate.time_range(start, end)
    max_points = validate.integer("max_points", max_points, minimum=1, maximum=100_000)
    chosen = choose_resolution(start, end, resolution, max_points)
    bucket = RESOLUTIONS[chosen]
    stations = _stations(db, chosen, station, start, end)
    if not stations:
        return TelemetrySeries(chosen, bucket, [])
    sql, params = _select(chosen, stations)
    rows = db.execute(sql, {**params, "start": math.floor(start / bucket) * bucket, "end": end})
    return TelemetrySeries(chosen, bucket, [TelemetryBucket.from_row(r) for r in rows])


def energy_per_day(db: Database, station: Any, start: Any, end: Any, tz: tzinfo = UTC) -> list[DayEnergy]:
    """kWh per station per local day in `tz`, from the hour rollups (exact for time zones on
    whole-hour offsets, i.e. nearly all)."""
    station = validate.optional_station(station)
    start, end = validate.time_range(start, end)
    if not isinstance(tz, tzinfo):
        raise InvalidInput(f"tz must be a time zone, not {type(tz).__name__}")
    totals: dict[tuple[date, int], float] = {}
    stations = _stations(db, "hour", station, start, end)
    placeholders = ", ".join("?" * len(stations))
    for t, st, wh in db.execute(f"SELECT t, station, energy_wh FROM telemetry_hour WHERE station IN ({placeholders}) "
                                "AND t >= ? AND t < ?", [*stations, math.floor(start / 3600) * 3600, end]):
        key = (datetime.fromtimestamp(t, tz).date(), st)
        totals[key] = totals.get(key, 0.0) + wh
    return [DayEnergy(day, st, wh / 1000) for (day, st), wh in sorted(totals.items())]
