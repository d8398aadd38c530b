"""The installation: line limit, voltage, price threshold and source, station ratings and phase
rotation, and whether reads need a login. Admin only: a wrong line limit can trip the main fuse.
Readers get the price source's URL without credentials and query string (where feeds keep
their API keys); so does the audit log."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from appliance.errors import InvalidInput
from appliance.supervisor.api import persist
from appliance.supervisor.api.deps import Admin, Ctx, Live, Provider, Reader, audit
from appliance.supervisor.api.errors import user_input
from appliance.supervisor.api.schemas import SiteUpdate
from appliance.supervisor.auth.tokens import allows
from appliance.supervisor.price_provider import redacted
from appliance.supervisor.settings import SiteSettings

router = APIRouter(tags=["site"])


@router.get("/site", description="The price source's URL comes whole to admins only.")
async def site(ctx: Ctx, who: Reader) -> dict[str, Any]:
    view = ctx.core.settings.model_dump(mode="json")
    if not allows(who.scope or "read", "admin"):
        view["price_source"] = redacted(view["price_source"])
    return view


@router.put("/site", summary="Change the site's settings; fields left out keep their value",
            description="A changed price source is fetched before the answer; GET /prices shows how that went.")
async def update_site(body: SiteUpdate, ctx: Ctx, who: Admin, live: Live, provider: Provider) -> dict[str, Any]:
    changes = body.model_dump(mode="json", exclude_unset=True)
    with user_input():
        settings = merged(ctx.core.settings, changes)
        persist.check_stations(settings, set(ctx.core.live))
    source_changed = settings.price_source != ctx.core.settings.price_source
    ctx.core.update_site(settings)
    persist.save_site(ctx)
    audited = {**changes, "price_source": redacted(changes["price_source"])} if "price_source" in changes else changes
    audit(ctx, who, "site.update", "site", audited)
    if source_changed:
        await provider.reconfigured()
    live.push_snapshot()
    return settings.model_dump(mode="json")


def merged(current: SiteSettings, changes: dict[str, Any]) -> SiteSettings:
    """The current settings with `changes`; a lowered rating lowers the station's user cap with it."""
    changes = dict(changes)
    hardware = changes.pop("stations", None) or []
    by_id = {s["id"]: s for s in hardware}
    if len(by_id) != len(hardware):
        raise InvalidInput("each station may appear only once")
    known = {s.id for s in current.stations}
    if set(by_id) - known:
        raise InvalidInput(f"no station {sorted(set(by_id) - known)}; the stations are {sorted(known)}")
    stations = []
    for station in current.stations:
        data = {**station.model_dump(), **by_id.get(station.id, {})}
        if data.get("rating_a") is not None and data["max_current_a"] > data["rating_a"]:
            data["max_current_a"] = data["rating_a"]
        stations.append(data)
    return SiteSettings.model_validate({**current.model_dump(), **changes, "stations": stations})
