"""How raw telemetry becomes buckets, as SQL built from one column list.

The same list aggregates raw rows (into minute rollups, or 1-second buckets for a raw query)
and merges rollups into coarser ones (minutes into hours, hours into days): averages are
weighted by the sample count `n`, maxima stay maxima, energy deltas add up. A bucket's start
is `t` rounded down to the bucket size, so days are UTC days.

Energy: the meter's `energy_wh` counts up from the pilot process's start. A bucket's energy is
the sum of the counter's steps from the sample before to each sample in the bucket, so buckets
partition the energy exactly; a step down means the pilot restarted and its counter began
again from 0, so that step counts the new reading.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

PHASES = (1, 2, 3)
# Raw rows live in a rowid table whose rowid `k` is the time in ms and the station (1..99): rows
# arrive in key order, and interior pages hold only keys (a WITHOUT ROWID table keeps whole rows
# there, many levels of them with small pages), so a batch rewrites few pages. Range queries
# seek on k, with the exact bounds on t after it.
KEY_STATIONS = 100


def raw_key(t: float, station: int) -> int:
    return math.floor(t * 1000 + 0.5) * KEY_STATIONS + station


def keys_from(param: str) -> str:
    """SQL: k at or below every raw key with t >= :param."""
    return f"k >= (CAST(:{param} * 1000 AS INTEGER) - 1) * {KEY_STATIONS}"


def keys_before(param: str) -> str:
    """SQL: k above every raw key with t < :param."""
    return f"k < (CAST(:{param} * 1000 AS INTEGER) + 2) * {KEY_STATIONS}"
_TOTAL_POWER = "power_w_l1 + power_w_l2 + power_w_l3"


@dataclass(frozen=True)
class Column:
    name: str
    raw: str  # aggregate over raw samples
    merge: str  # aggregate over finer rollups


def _avg(name: str, raw: str) -> Column:
    return Column(name, f"AVG({raw})", f"SUM({name} * n) / SUM(n)")


def _max(name: str, raw: str) -> Column:
    return Column(name, f"MAX({raw})", f"MAX({name})")


COLUMNS: tuple[Column, ...] = (
    Column("n", "COUNT(*)", "SUM(n)"),
    Column("state_min", "MIN(state)", "MIN(state_min)"),
    Column("state_max", "MAX(state)", "MAX(state_max)"),
    _avg("offered_a_avg", "offered_a"),
    _max("offered_a_max", "offered_a"),
    *(_avg(f"current_a_avg_l{k}", f"current_a_l{k}") for k in PHASES),
    *(_avg(f"voltage_v_avg_l{k}", f"voltage_v_l{k}") for k in PHASES),
    *(_avg(f"power_w_avg_l{k}", f"power_w_l{k}") for k in PHASES),
    *(_max(f"power_w_max_l{k}", f"power_w_l{k}") for k in PHASES),
    _avg("power_total_w_avg", _TOTAL_POWER),
    _max("power_total_w_max", _TOTAL_POWER),
    Column("energy_wh", "SUM(energy_step)", "SUM(energy_wh)"),
    _max("temperature_c_max", "temperature_c"),
)
OUTPUT = "t, station, " + ", ".join(c.name for c in COLUMNS)


def _select(kind: str) -> str:
    return ", ".join(f"{getattr(c, kind)} AS {c.name}" for c in COLUMNS)


def _stations(stations: Sequence[int]) -> tuple[str, dict[str, Any]]:
    names = [f"s{i}" for i in range(len(stations))]
    return ", ".join(f":{n}" for n in names), dict(zip(names, stations, strict=False))


def from_raw(bucket_s: int, stations: Sequence[int]) -> tuple[str, dict[str, Any]]:
    """SELECT of raw samples in [:start, :end) aggregated into `bucket_s` buckets.

    Each station's last sample before :start joins in only to give the first step its base.
    """
    placeholders, params = _stations(stations)
    before = " UNION ALL ".join(
        f"SELECT * FROM (SELECT * FROM telemetry_raw WHERE {keys_before('start')} AND station = :{name} "
        f"AND t < :start ORDER BY k DESC LIMIT 1)"
        for name in params)
    sql = f"""
        WITH samples AS (
            {before} UNION ALL
            SELECT * FROM telemetry_raw WHERE {keys_from("start")} AND {keys_before("end")}
                AND station IN ({placeholders}) AND t >= :start AND t < :end
        ), steps AS (
            SELECT *, CASE WHEN prev IS NULL THEN 0.0 WHEN energy_wh >= prev THEN energy_wh - prev
                           ELSE energy_wh END AS energy_step
            FROM (SELECT *, LAG(energy_wh) OVER (PARTITION BY station ORDER BY t) AS prev FROM samples)
        )
        SELECT CAST(t / {bucket_s} AS INTEGER) * {bucket_s} AS t, station, {_select("raw")}
        FROM steps WHERE t >= :start
        GROUP BY station, CAST(t / {bucket_s} AS INTEGER) ORDER BY 1, station"""
    return sql, params


def from_rollup(table: str, bucket_s: int, stations: Sequence[int]) -> tuple[str, dict[str, Any]]:
    """SELECT of `table`'s rollups in [:start, :end) merged into `bucket_s` buckets."""
    placeholders, params = _stations(stations)
    sql = f"""
        SELECT CAST(t / {bucket_s} AS INTEGER) * {bucket_s} AS t, station, {_select("merge")}
        FROM {table} WHERE station IN ({placeholders}) AND t >= :start AND t < :end
        GROUP BY station, CAST(t / {bucket_s} AS INTEGER) ORDER BY 1, station"""
    return sql, params


def stored(table: str, stations: Sequence[int]) -> tuple[str, dict[str, Any]]:
    """SELECT of `table`'s rollups in [:start, :end) as they are."""
    placeholders, params = _stations(stations)
    return (f"SELECT {OUTPUT} FROM {table} WHERE station IN ({placeholders}) AND t >= :start AND t < :end "
            "ORDER BY t, station"), params


def stations(db: Database, table: str) -> list[int]:
    """Stations present in `table`, one index seek each (the primary key starts with station)."""
    found: list[int] = []
    while (nxt := db.execute(f"SELECT MIN(station) FROM {table} WHERE station > ?",
                             [found[-1] if found else 0]).fetchone()[0]) is not None:
        found.append(nxt)
    return found
