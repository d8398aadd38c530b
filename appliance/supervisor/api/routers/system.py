"""The appliance itself: version, uptime, simulated or real HAT, pilot link, software updates."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException

from appliance.supervisor.api.deps import Admin, Ctx, Reader, audit
from appliance.supervisor.api.schemas import SystemInfo
from appliance.supervisor.app_context import AppContext

router = APIRouter(prefix="/system", tags=["system"])
NO_UPDATES = {503: {"description": "updates not available in this build"}}


@router.get("", response_model=SystemInfo)
async def system(ctx: Ctx, _: Reader) -> SystemInfo:
    now = ctx.clock()
    return SystemInfo(version=ctx.version, started=ctx.started, uptime_s=max(0.0, now - ctx.started),
                      simulated=ctx.simulated, hat="simulated" if ctx.simulated else "hardware",
                      pilot_connected=ctx.core.pilot_connected,
                      pilot_reconnects=None if ctx.runtime is None else ctx.runtime.link.reconnects,
                      updates_available=ctx.updater is not None)


def _updater(ctx: AppContext) -> Any:
    if ctx.updater is None:
        raise HTTPException(status_code=503, detail="updates not available in this build")
    return ctx.updater


@router.post("/update", responses=NO_UPDATES, summary="Start a software update")
async def update(ctx: Ctx, who: Admin) -> dict[str, Any]:
    updater = _updater(ctx)
    audit(ctx, who, "system.update", "system")
    return {"started": True, "status": updater}
