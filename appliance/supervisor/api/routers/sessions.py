"""Charging sessions, plug-in to unplug, as JSON pages or one CSV file."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from appliance.supervisor.api.deps import Ctx, Reader
from appliance.supervisor.api.errors import user_input
from appliance.supervisor.api.params import End, Limit, Offset, Start, StationFilter
from appliance.supervisor.app_context import AppContext

router = APIRouter(tags=["sessions"])
CSV: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {}}, "description": "with format=csv: one line per session, oldest first"}
}


@router.get("/sessions", responses=CSV, summary="Sessions that started in [start, end), newest first")
async def sessions(ctx: Ctx, _: Reader, station: StationFilter = None, start: Start = None, end: End = None,
                   limit: Limit = 50, offset: Offset = 0,
                   format: Annotated[Literal["json", "csv"], Query()] = "json") -> Any:
    if format == "csv":
        return _csv(ctx, station, start, end)
    with user_input():
        page = ctx.storage.sessions.list(station, start, end, limit, offset)
    return {"total": page.total, "items": [{**asdict(s), "open": s.is_open} for s in page.items]}


@router.get("/sessions.csv", responses=CSV, response_class=StreamingResponse, summary="All matching sessions as CSV")
async def sessions_csv(ctx: Ctx, _: Reader, station: StationFilter = None, start: Start = None,
                       end: End = None) -> StreamingResponse:
    return _csv(ctx, station, start, end)


def _csv(ctx: AppContext, station: int | None, start: float | None, end: float | None) -> StreamingResponse:
    with user_input():  # the export is lazy: check the filters now, while an error can still be a 422
        ctx.storage.sessions.list(station, start, end, 1, 0)
    return StreamingResponse(ctx.storage.sessions.csv_lines(station, start, end), media_type="text/csv",
                             headers={"Content-Disposition": 'attachment; filename="sessions.csv"'})
