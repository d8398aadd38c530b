"""Energy prices in time slots (hourly or 15-minute), for low-cost charging and session costs."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from appliance.supervisor.api import persist
from appliance.supervisor.api.deps import Controller, Ctx, Live, Provider, Reader, audit
from appliance.supervisor.api.errors import user_input
from appliance.supervisor.api.params import End, Start
from appliance.supervisor.api.schemas import Prices
from appliance.supervisor.auth.tokens import allows

router = APIRouter(tags=["prices"])
DAY_S = 86400.0


@router.get("/prices", summary="Stored slots overlapping [start, end); default: yesterday to a week ahead",
            description="`source` is the configured price source; for a URL, with the status of its fetches "
                        "(its credentials and query string only for admins).")
async def prices(ctx: Ctx, who: Reader, provider: Provider, start: Start = None, end: End = None) -> dict[str, Any]:
    now = ctx.clock()
    start = max(0.0, now - DAY_S) if start is None else start
    end = max(start, now) + 7 * DAY_S if end is None else end
    with user_input():
        slots = ctx.storage.prices.slots(start, end)
    return {"start": start, "end": end, "slots": [{"start": s.start, "end": s.end, "price": s.price} for s in slots],
            "source": provider.view(full=allows(who.scope or "read", "admin"))}


@router.put("/prices", summary="Replace the prices over [start, end) with these slots")
async def put_prices(body: Prices, ctx: Ctx, who: Controller, live: Live) -> dict[str, Any]:
    with user_input():
        count = persist.replace_prices(ctx, *body.span, [(s.start, s.end, s.price) for s in body.slots])
    audit(ctx, who, "prices.replace", "prices", {"start": body.start, "end": body.end, "slots": count})
    live.push_snapshot()
    return {"start": body.start, "end": body.end, "stored": count}
