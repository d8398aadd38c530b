"""What happened: events with their reasons, faults, the pilot's own log, and the audit log."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Query

from appliance.supervisor.api.deps import Admin, Ctx, Reader
from appliance.supervisor.api.errors import user_input
from appliance.supervisor.api.params import End, Limit, Offset, Start, StationFilter
from appliance.supervisor.storage import Page

router = APIRouter(tags=["history"])
Name = Annotated[str | None, Query(max_length=64, pattern=r"^[a-z][a-z0-9_.]*$")]


def _page(page: Page[Any]) -> dict[str, Any]:
    return {"total": page.total, "items": [asdict(item) for item in page.items]}


@router.get("/events", summary="State changes, decisions and system events, newest first")
async def events(ctx: Ctx, _: Reader, station: StationFilter = None, kind: Name = None, start: Start = None,
                 end: End = None, limit: Limit = 100, offset: Offset = 0) -> dict[str, Any]:
    with user_input():
        return _page(ctx.storage.events.list(station, kind, start, end, limit, offset))


@router.get("/faults", summary="Faults as raised and cleared, newest first; active=true: only those active now")
async def faults(ctx: Ctx, _: Reader, station: StationFilter = None,
                 code: Annotated[str | None, Query(min_length=1, max_length=64)] = None,
                 start: Start = None, end: End = None, limit: Limit = 100, offset: Offset = 0,
                 active: bool = False) -> dict[str, Any]:
    with user_input():
        if active:
            current = [f for f in ctx.storage.faults.active()
                       if (station is None or f.station == station) and (code is None or f.code == code)]
            return {"total": len(current), "items": [asdict(f) for f in current]}
        return _page(ctx.storage.faults.list(station, code, start, end, limit, offset))


@router.get("/logs", summary="The pilot process's log as fetched from its RAM buffer, newest first")
async def logs(ctx: Ctx, _: Reader, station: StationFilter = None, level: Name = None, limit: Limit = 200,
               offset: Offset = 0) -> dict[str, Any]:
    with user_input():
        return _page(ctx.storage.pilot_logs.list(station, level, limit, offset))


@router.get("/audit", summary="Who asked for which control action, newest first")
async def audit_log(ctx: Ctx, _: Admin, actor: Annotated[str | None, Query(min_length=1, max_length=200)] = None,
                    start: Start = None, end: End = None, limit: Limit = 100, offset: Offset = 0) -> dict[str, Any]:
    with user_input():
        return _page(ctx.storage.audit.list(actor, start, end, limit, offset))
