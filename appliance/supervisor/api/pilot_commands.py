"""Commands from the API and MQTT to the pilot process, its failures as one exception with an HTTP status."""

from __future__ import annotations

from typing import TypeVar

from fastapi import HTTPException

from appliance import protocol as p
from appliance.supervisor.app_context import AppContext
from appliance.supervisor.pilot_link import PilotRefused, PilotUnavailable

R = TypeVar("R", bound=p.Reply)


class PilotError(Exception):
    """The pilot could not be asked (503) or refused (409); the message says why."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


async def ask_pilot(ctx: AppContext, command: p.BaseCommand[R]) -> R:
    """The pilot's reply, whichever channel asks."""
    if ctx.runtime is None:
        raise PilotError(503, "no pilot process is connected to this supervisor")
    try:
        return await ctx.runtime.command(command)
    except PilotRefused as exc:
        raise PilotError(409, f"the pilot refused: {exc}") from None
    except PilotUnavailable as exc:
        raise PilotError(503, f"the pilot process is not reachable: {exc}") from None
    except TimeoutError:
        raise PilotError(503, "the pilot process did not answer in time") from None


async def pilot_command(ctx: AppContext, command: p.BaseCommand[R]) -> R:
    """The pilot's reply; 503 when it cannot be asked, 409 when it refuses (with its reason)."""
    try:
        return await ask_pilot(ctx, command)
    except PilotError as exc:
        raise HTTPException(status_code=exc.status, detail=str(exc)) from None
