"""The user's settings, prices and an energy manager's limit survive a restart: saved to
storage on every change and put back into the core when the app starts. The first-boot handover (admin password hash,
line limit) is imported once and deleted."""

from __future__ import annotations

import json
import logging

from pydantic import ValidationError

from appliance.errors import InvalidInput
from appliance.supervisor.app_context import AppContext
from appliance.supervisor.external_limit import ExternalLimit
from appliance.supervisor.settings import SiteSettings
from appliance.supervisor.storage import RAW_RETENTION_DAYS
from appliance.system.firstboot import HANDOVER_NAME

log = logging.getLogger(__name__)
SITE_KEY = "supervisor.site"
EXTERNAL_LIMIT_KEY = "supervisor.external_limit"
PAST_S = 86400.0  # the core keeps yesterday's prices (costs of a session still open)...
AHEAD_S = 366 * 86400.0  # ...and whatever is published ahead


def restore(ctx: AppContext) -> None:
    """Saved settings and prices into the core, then the first-boot handover if there is one."""
    saved = ctx.storage.settings.get_value(SITE_KEY)
    if saved is not None:
        try:
            settings = SiteSettings.model_validate(saved)
            check_stations(settings, set(ctx.core.live))
        except (ValidationError, ValueError) as exc:
            log.warning("ignoring the saved site settings: %s", exc)
        else:
            ctx.core.restore_site(settings)
    restore_external_limit(ctx)
    slots = stored_prices(ctx)
    if slots:  # else keep what the core was built with (a scenario's prices)
        ctx.core.set_prices(slots)
    import_firstboot(ctx)


def import_firstboot(ctx: AppContext) -> None:
    """<data>/firstboot.json from the SD card's setup file: whoever holds the card is the owner,
    so its password replaces any other and ends every session and API token (the owner's way
    back in after losing the password, or to someone else). Kept (and logged) if it cannot be read."""
    path = ctx.data_dir / HANDOVER_NAME
    if not path.exists():
        return
    try:
        handover = dict(json.loads(path.read_text(encoding="utf-8")))
        settings = ctx.core.settings
        if "line_limit_a" in handover:
            settings = SiteSettings.model_validate({**settings.model_dump(), "line_limit_a": handover["line_limit_a"]})
        if "admin_password_hash" in handover:
            ended = ctx.storage.auth.reset_admin(handover["admin_password_hash"], ctx.clock())
            ctx.storage.audit.add(ctx.clock(), "first-boot file", "auth.reset", "admin",
                                  {"sessions_ended": ended[0], "tokens_revoked": ended[1]})
    except (OSError, ValueError, TypeError) as exc:
        log.warning("cannot import the first-boot settings in %s: %s", path, exc)
        return
    ctx.core.update_site(settings)
    save_site(ctx)
    path.unlink()
    log.info("imported the first-boot settings (%s)", ", ".join(sorted(handover)))


def check_stations(settings: SiteSettings, expected: set[int]) -> None:
    ids = [s.id for s in settings.stations]
    if len(ids) != len(set(ids)):
        raise InvalidInput("each station may appear only once")
    if set(ids) != expected:
        raise InvalidInput(f"the site has stations {sorted(expected)}, not {sorted(set(ids))}")


def save_site(ctx: AppContext) -> None:
    now = ctx.clock()
    ctx.storage.settings.set_value(SITE_KEY, ctx.core.settings.model_dump(mode="json"), now)
    ctx.storage.settings.set(RAW_RETENTION_DAYS, ctx.core.settings.telemetry_retention_days, now)


def restore_external_limit(ctx: AppContext) -> None:
    """A saved limit that has not expired caps the site again; an expired one is forgotten."""
    saved = ctx.storage.settings.get_value(EXTERNAL_LIMIT_KEY)
    if saved is None:
        return
    try:
        limit = ExternalLimit.model_validate(saved)
    except ValidationError as exc:
        log.warning("ignoring the saved external limit: %s", exc)
        limit = None
    if limit is not None and limit.active(ctx.clock()):
        ctx.core.external_limit = limit
    else:
        ctx.storage.settings.delete(EXTERNAL_LIMIT_KEY)


def save_external_limit(ctx: AppContext, limit: ExternalLimit | None) -> None:
    """Into the core and storage at once; None lifts it."""
    now = ctx.clock()
    ctx.core.set_external_limit(limit, now)
    if limit is None:
        ctx.storage.settings.delete(EXTERNAL_LIMIT_KEY)
    else:
        ctx.storage.settings.set_value(EXTERNAL_LIMIT_KEY, limit.model_dump(mode="json"), now)


def stored_prices(ctx: AppContext) -> list[tuple[float, float, float]]:
    now = ctx.clock()
    slots = ctx.storage.prices.slots(max(0.0, now - PAST_S), now + AHEAD_S)
    return [(s.start, s.end, s.price) for s in slots if s.price is not None]  # stored prices are all known


def replace_prices(ctx: AppContext, start: float, end: float, slots: list[tuple[float, float, float]]) -> int:
    """`slots` become the prices of [start, end), stored and in the core: the one way in for
    prices pushed over REST and prices the provider fetched (ValueError if storage refuses them)."""
    count = ctx.storage.prices.replace(start, end, slots)
    ctx.core.set_prices(stored_prices(ctx))
    return count
