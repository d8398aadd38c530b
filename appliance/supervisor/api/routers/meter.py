"""External meter readings (grid, house, solar) for solar charging and the line limit.

Readings are data, not control actions: they are not written to the audit log (a meter that
posts every few seconds would drown it), but they still need a control token. A reading
stamped far from now is refused: the allocator would treat a stale one as current, and a
future one would outlive every reading after it.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException

from appliance.supervisor.api.deps import Controller, Ctx
from appliance.supervisor.api.schemas import MeterReading
from appliance.supervisor.live import GridReading

router = APIRouter(tags=["meter"])
MAX_SKEW_S = 60.0


@router.post("/meter", summary="Post a reading; grid power per line phase, positive = import")
async def meter(body: MeterReading, ctx: Ctx, _: Controller) -> dict[str, Any]:
    now = ctx.clock()
    if body.t is not None and abs(body.t - now) > MAX_SKEW_S:
        raise HTTPException(status_code=422, detail=f"t={body.t:g} must be within {MAX_SKEW_S:g} s of the "
                                                    f"appliance's clock ({now:.0f}); leave it out to mean now")
    reading = GridReading(now if body.t is None else body.t, body.per_phase())
    ctx.core.set_grid(reading)
    return {"t": reading.t, "grid_w": list(reading.power_w)}
