"""External meter readings (grid, house, solar) for solar charging and the line limit.

Readings are data, not control actions: they are not written to the audit log (a meter that
posts every few seconds would drown it), but they still need a control token. The checks are
`control.meter_reading`'s, shared with MQTT.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from appliance.supervisor.api import control
from appliance.supervisor.api.deps import Controller, Ctx
from appliance.supervisor.api.errors import user_input
from appliance.supervisor.api.schemas import MeterReading

router = APIRouter(tags=["meter"])


@router.post("/meter", summary="Post a reading; grid power per line phase, positive = import")
async def meter(body: MeterReading, ctx: Ctx, _: Controller) -> dict[str, Any]:
    with user_input():
        reading = control.meter_reading(ctx, body)
    return {"t": reading.t, "grid_w": list(reading.power_w)}
