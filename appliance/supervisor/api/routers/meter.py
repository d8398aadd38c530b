"""External meter readings (grid, house, solar) for solar charging and the line limit.

Readings are data, not control actions: they are not written to the audit log (a meter that
posts every few seconds would drown it), but they still need a control token.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from appliance.supervisor.api.deps import Controller, Ctx
from appliance.supervisor.api.schemas import MeterReading
from appliance.supervisor.core import GridReading

router = APIRouter(tags=["meter"])


@router.post("/meter", summary="Post a reading; grid power per line phase, positive = import")
async def meter(body: MeterReading, ctx: Ctx, _: Controller) -> dict[str, Any]:
    reading = GridReading(ctx.clock() if body.t is None else body.t, body.per_phase())
    ctx.core.set_grid(reading)
    return {"t": reading.t, "grid_w": list(reading.power_w)}
