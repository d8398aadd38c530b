"""Telemetry over time (raw seconds up to day buckets) and energy per local day, for charts."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import APIRouter, HTTPException, Query
from starlette.concurrency import run_in_threadpool

from appliance.supervisor.api.deps import Ctx, Reader
from appliance.supervisor.api.errors import user_input
from appliance.supervisor.api.params import End, Start, StationFilter
from appliance.supervisor.app_context import AppContext

router = APIRouter(tags=["history"])
Resolution = Literal["auto", "raw", "minute", "hour", "day"]
TimeZone = Annotated[str, Query(max_length=64, description="IANA time zone, e.g. Europe/Berlin")]
HOUR_S = 3600.0
DAY_S = 86400.0


def _window(ctx: AppContext, start: float | None, end: float | None, default_span: float) -> tuple[float, float]:
    """Missing ends default to "until now" and a span back from the end."""
    end = ctx.clock() if end is None else end
    return (max(0.0, end - default_span) if start is None else start), end


@router.get("/telemetry", summary="Per-station averages and maxima over time; the last hour by default")
async def telemetry(ctx: Ctx, _: Reader, start: Start = None, end: End = None, station: StationFilter = None,
                    resolution: Annotated[Resolution, Query(description="auto: finest that fits max_points")] = "auto",
                    max_points: Annotated[int, Query(ge=1, le=20_000)] = 4000) -> dict[str, Any]:
    start, end = _window(ctx, start, end, HOUR_S)
    with user_input():
        series = await run_in_threadpool(ctx.storage.history, station, start, end, resolution, max_points)
    return {"start": start, "end": end, "resolution": series.resolution, "bucket_s": series.bucket_s,
            "points": [asdict(p) for p in series.points]}


@router.get("/energy/daily", summary="kWh per station per local day; the last 30 days by default")
async def energy_daily(ctx: Ctx, _: Reader, start: Start = None, end: End = None, station: StationFilter = None,
                       tz: TimeZone = "UTC") -> list[dict[str, Any]]:
    try:
        zone = ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise HTTPException(status_code=422, detail=f"unknown time zone {tz!r}") from None
    start, end = _window(ctx, start, end, 30 * DAY_S)
    with user_input():
        days = await run_in_threadpool(ctx.storage.energy_per_day, station, start, end, zone)
    return [{"day": d.day.isoformat(), "station": d.station, "energy_kwh": round(d.energy_kwh, 3)} for d in days]
