"""An energy manager's limit on the whole site over REST: set, read, clear.

Control scope, not admin: an energy manager steers charging, it does not install anything,
and its limit only ever lowers what the site's own line limit allows. The checks are
`control`'s, shared with MQTT.
"""

from __future__ import annotations

from fastapi import APIRouter, Response

from appliance.supervisor.api import control
from appliance.supervisor.api.deps import Controller, Ctx, Live, Reader
from appliance.supervisor.api.errors import user_input
from appliance.supervisor.api.schemas import SiteLimit
from appliance.supervisor.external_limit import ExternalLimit

router = APIRouter(prefix="/site/limit", tags=["site"])


@router.get("", response_model=ExternalLimit | None, summary="The energy manager's limit in force, or null")
async def site_limit(ctx: Ctx, _: Reader) -> ExternalLimit | None:
    return control.active_limit(ctx)


@router.put("", response_model=ExternalLimit, summary="Cap the whole site until the limit expires",
            description="Per-phase amps and/or total watts; 0 means no charging. Replaces any earlier limit. "
                        "A watts limit spreads over the line phases the cars use.")
async def set_site_limit(body: SiteLimit, ctx: Ctx, who: Controller, live: Live) -> ExternalLimit:
    with user_input():
        limit = control.set_site_limit(ctx, who.actor, body, "rest")
    live.push_snapshot()
    return limit


@router.delete("", status_code=204, summary="Lift the energy manager's limit; the site's own settings hold")
async def clear_site_limit(ctx: Ctx, who: Controller, live: Live) -> Response:
    control.clear_site_limit(ctx, who.actor)
    live.push_snapshot()
    return Response(status_code=204)
