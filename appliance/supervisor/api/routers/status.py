"""The whole picture in one call: what the UI and simple displays poll."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from appliance.supervisor.api.deps import Ctx, Reader

router = APIRouter(tags=["status"])


@router.get("/status", summary="Line currents and every station's live state and decision")
async def status(ctx: Ctx, _: Reader) -> dict[str, Any]:
    return {"t": ctx.clock(), **ctx.core.snapshot()}
