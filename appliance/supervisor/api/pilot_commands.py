"""Commands from the API to the pilot process, with its failures as clear HTTP answers."""

from __future__ import annotations

from typing import TypeVar

from fastapi import HTTPException

from appliance import protocol as p
from appliance.supervisor.app_context import AppContext
from appliance.supervisor.pilot_link import PilotRefused, PilotUnavailable

R = TypeVar("R", bound=p.Reply)


async def pilot_command(ctx: AppContext, command: p.BaseCommand[R]) -> R:
    """The pilot's reply; 503 when it cannot be asked, 409 when it refuses (with its reason)."""
    if ctx.runtime is None:
        raise HTTPException(status_code=503, detail="no pilot process is connected to this supervisor")
    try:
        return await ctx.runtime.command(command)
    except PilotRefused as exc:
        raise HTTPException(status_code=409, detail=f"the pilot refused: {exc}") from None
    except PilotUnavailable as exc:
        raise HTTPException(status_code=503, detail=f"the pilot process is not reachable: {exc}") from None
    except TimeoutError:
        raise HTTPException(status_code=503, detail="the pilot process did not answer in time") from None
