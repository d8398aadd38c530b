"""The control actions REST and MQTT share: one place checks and applies a station's settings,
a fault reset, an energy manager's limit and a meter reading, and writes the audit line.

A channel validates its input with the schemas in `schemas` and calls these; what they refuse
raises `Rejected` (a value the schema allows but the appliance's state does not), `UnknownStation`,
`ValueError` from the core, or `PilotError`. Nothing is applied when one is raised.
"""

from __future__ import annotations

from typing import Any

from appliance import protocol
from appliance.errors import InvalidInput, NotFound
from appliance.supervisor.api import persist
from appliance.supervisor.api.pilot_commands import ask_pilot
from appliance.supervisor.api.schemas import MAX_LIMIT_S, ClearFault, MeterReading, SiteLimit
from appliance.supervisor.app_context import AppContext
from appliance.supervisor.external_limit import ExternalLimit, Source
from appliance.supervisor.live import GridReading

MAX_SKEW_S = 60.0


class UnknownStation(NotFound):
    """The id names no station of this appliance."""


class Rejected(InvalidInput):
    """A well-formed value the appliance refuses now; `field` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


def known_station(ctx: AppContext, station_id: int) -> None:
    if station_id not in ctx.core.live:
        raise UnknownStation(f"no station {station_id}; the stations are {sorted(ctx.core.live)}")


def audit(ctx: AppContext, actor: str, action: str, target: str | None = None, details: Any = None) -> None:
    """Every control action leaves a line: who, what, on which station or setting."""
    ctx.storage.audit.add(ctx.clock(), actor, action, target, details)


def update_station(ctx: AppContext, actor: str, station_id: int, changes: dict[str, Any]) -> None:
    """`changes`: a validated `StationPatch` dumped with exclude_unset; all or nothing, then saved."""
    known_station(ctx, station_id)
    if not changes:
        return
    ctx.core.update_station(station_id, **changes)
    persist.save_site(ctx)
    audit(ctx, actor, "station.update", f"station/{station_id}", changes)


async def clear_fault(ctx: AppContext, actor: str, station_id: int, body: ClearFault) -> list[str]:
    """The codes the pilot cleared. A service reset needs admin rights, which the caller checks."""
    known_station(ctx, station_id)
    audit(ctx, actor, "station.clear_fault", f"station/{station_id}", body.model_dump())
    reply = await ask_pilot(ctx, protocol.ClearFault(station=station_id, code=body.code, service=body.service))
    return list(reply.cleared)


def _expiry(body: SiteLimit, now: float) -> float | None:
    """The absolute expiry; an `expires_at` in the past or too far ahead is the caller's mistake."""
    if body.expires_in_s is not None:
        return now + body.expires_in_s
    if body.expires_at is not None and not now < body.expires_at <= now + MAX_LIMIT_S:
        raise Rejected("expires_at", f"expires_at must lie in the next {MAX_LIMIT_S / 86400:g} days (now is {now:.0f})")
    return body.expires_at


def set_site_limit(ctx: AppContext, actor: str, body: SiteLimit, source: Source) -> ExternalLimit:
    now = ctx.clock()
    limit = ExternalLimit(source=source, current_a=body.per_phase(), power_w=body.power_w, set_at=now,
                          expires_at=_expiry(body, now))
    persist.save_external_limit(ctx, limit)
    audit(ctx, actor, "site.limit.set", "site/limit", limit.model_dump(mode="json"))
    return limit


def active_limit(ctx: AppContext) -> ExternalLimit | None:
    limit = ctx.core.external_limit
    return limit if limit is not None and limit.active(ctx.clock()) else None


def clear_site_limit(ctx: AppContext, actor: str) -> None:
    was_set = active_limit(ctx) is not None
    persist.save_external_limit(ctx, None)
    audit(ctx, actor, "site.limit.clear", "site/limit", {"was_set": was_set})


def meter_reading(ctx: AppContext, body: MeterReading) -> GridReading:
    """A reading stamped far from now is refused: a stale one would pass for current, a future one
    would outlive every reading after it. Readings are data, not control actions: not audited."""
    now = ctx.clock()
    if body.t is not None and abs(body.t - now) > MAX_SKEW_S:
        raise Rejected("t", f"t={body.t:g} must be within {MAX_SKEW_S:g} s of the appliance's clock ({now:.0f}); "
                            "leave it out to mean now")
    reading = GridReading(now if body.t is None else body.t, body.per_phase())
    ctx.core.set_grid(reading)
    return reading
