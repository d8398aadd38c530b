"""An energy manager's limit on the whole site over REST: set, read, clear.

Control scope, not admin: an energy manager steers charging, it does not install anything,
and its limit only ever lowers what the site's own line limit allows.
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Response

from appliance.supervisor.api import persist
from appliance.supervisor.api.deps import Controller, Ctx, Live, Reader, audit
from appliance.supervisor.api.schemas import MAX_LIMIT_S, SiteLimit
from appliance.supervisor.app_context import AppContext
from appliance.supervisor.external_limit import ExternalLimit

router = APIRouter(prefix="/site/limit", tags=["site"])


def _active(ctx: AppContext) -> ExternalLimit | None:
    limit = ctx.core.external_limit
    return limit if limit is not None and limit.active(ctx.clock()) else None


def _expiry(body: SiteLimit, now: float) -> float | None:
    """The absolute expiry; an `expires_at` in the past or too far ahead is the caller's mistake."""
    if body.expires_in_s is not None:
        return now + body.expires_in_s
    if body.expires_at is not None and not now < body.expires_at <= now + MAX_LIMIT_S:
        raise HTTPException(status_code=422, detail=[{
            "loc": ["body", "expires_at"], "type": "value_error",
            "msg": f"expires_at must lie in the next {MAX_LIMIT_S / 86400:g} days (now is {now:.0f})"}])
    return body.expires_at


@router.get("", response_model=ExternalLimit | None, summary="The energy manager's limit in force, or null")
async def site_limit(ctx: Ctx, _: Reader) -> ExternalLimit | None:
    return _active(ctx)


@router.put("", response_model=ExternalLimit, summary="Cap the whole site until the limit expires",
            description="Per-phase amps and/or total watts; 0 means no charging. Replaces any earlier limit. "
                        "A watts limit spreads over the line phases the cars use.")
async def set_site_limit(body: SiteLimit, ctx: Ctx, who: Controller, live: Live) -> ExternalLimit:
    now = ctx.clock()
    limit = ExternalLimit(source="rest", current_a=body.per_phase(), power_w=body.power_w, set_at=now,
                          expires_at=_expiry(body, now))
    persist.save_external_limit(ctx, limit)
    audit(ctx, who, "site.limit.set", "site/limit", limit.model_dump(mode="json"))
    live.push_snapshot()
    return limit


@router.delete("", status_code=204, summary="Lift the energy manager's limit; the site's own settings hold")
async def clear_site_limit(ctx: Ctx, who: Controller, live: Live) -> Response:
    was_set = _active(ctx) is not None
    persist.save_external_limit(ctx, None)
    audit(ctx, who, "site.limit.clear", "site/limit", {"was_set": was_set})
    live.push_snapshot()
    return Response(status_code=204)
