"""Commands from the API to the pilot process, with its failures as clear HTTP answers."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import HTTPException

from appliance.supervisor.app_context import AppContext
from appliance.supervisor.pilot_link import PilotUnavailable


async def pilot_command(ctx: AppContext, command: dict[str, Any]) -> dict[str, Any]:
    """The pilot's reply; 503 when it cannot be asked, 409 when it refuses (with its reason)."""
    if ctx.runtime is None:
        raise HTTPException(status_code=503, detail="no pilot process is connected to this supervisor")
    try:
        reply = await ctx.runtime.command(command)
    except PilotUnavailable as exc:
        raise HTTPException(status_code=503, detail=f"the pilot process is not reachable: {exc}") from None
    except asyncio.TimeoutError:
        raise HTTPException(status_code=503, detail="the pilot process did not answer in time") from None
    if not reply.get("ok"):
        error = reply.get("error") or {}
        raise HTTPException(status_code=409, detail=f"the pilot refused: {error.get('message', 'no reason given')}")
    return reply
