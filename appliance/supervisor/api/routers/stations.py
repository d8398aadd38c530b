"""Each station: its live view, the user's settings (mode, priority, cap, departure plan) and
the actions that go to the pilot (clear a fault, RCD self-test)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException

from appliance import protocol
from appliance.supervisor.api import control
from appliance.supervisor.api.deps import Controller, Ctx, Live, Reader, audit
from appliance.supervisor.api.errors import user_input
from appliance.supervisor.api.params import StationPath
from appliance.supervisor.api.pilot_commands import PilotError, pilot_command
from appliance.supervisor.api.schemas import ClearFault, StationPatch
from appliance.supervisor.app_context import AppContext
from appliance.supervisor.auth.tokens import allows

router = APIRouter(prefix="/stations", tags=["stations"])
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "no such station"}}


def _known(ctx: AppContext, station_id: int) -> None:
    with user_input():
        control.known_station(ctx, station_id)


@router.get("", summary="Every station's live view")
async def stations(ctx: Ctx, _: Reader) -> list[dict[str, Any]]:
    return [ctx.core.station_view(sid) for sid in sorted(ctx.core.live)]


@router.get("/{station_id}", responses=NOT_FOUND)
async def station(station_id: StationPath, ctx: Ctx, _: Reader) -> dict[str, Any]:
    _known(ctx, station_id)
    return ctx.core.station_view(station_id)


@router.patch("/{station_id}", responses=NOT_FOUND, summary="Change mode, priority, current cap, name, departure plan")
async def update_station(station_id: StationPath, body: StationPatch, ctx: Ctx, who: Controller,
                         live: Live) -> dict[str, Any]:
    changes = body.model_dump(exclude_unset=True)
    with user_input():
        control.update_station(ctx, who.actor, station_id, changes)
    if changes:
        live.push_snapshot()
    return ctx.core.station_view(station_id)


@router.post("/{station_id}/clear-fault", responses=NOT_FOUND,
             summary="Clear latched faults; service: true also clears a welded contactor (admin)")
async def clear_fault(station_id: StationPath, ctx: Ctx, who: Controller,
                      body: ClearFault | None = None) -> dict[str, Any]:
    _known(ctx, station_id)
    body = body or ClearFault()
    if body.service and not allows(who.scope or "read", "admin"):
        raise HTTPException(status_code=403, detail="a service reset needs the 'admin' scope")
    try:
        cleared = await control.clear_fault(ctx, who.actor, station_id, body)
    except PilotError as exc:
        raise HTTPException(status_code=exc.status, detail=str(exc)) from None
    return {"station": station_id, "cleared": cleared}


@router.post("/{station_id}/self-test", responses=NOT_FOUND,
             summary="Start the RCD self-test; the result arrives as a state event")
async def self_test(station_id: StationPath, ctx: Ctx, who: Controller) -> dict[str, Any]:
    _known(ctx, station_id)
    audit(ctx, who, "station.self_test", f"station/{station_id}")
    reply = await pilot_command(ctx, protocol.SelfTest(station=station_id))
    return {"station": station_id, "started": reply.started}
