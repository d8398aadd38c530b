"""The supervisor's web app: REST API under /api/v1, the live WebSocket, OpenAPI at /docs,
and the web UI at / once it is built."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles

from appliance.supervisor.api import errors, persist
from appliance.supervisor.api.routers import (
    auth,
    history,
    journal,
    meter,
    prices,
    sessions,
    site,
    site_limit,
    stations,
    status,
    system,
    tokens,
    ws,
)
from appliance.supervisor.app_context import AppContext
from appliance.supervisor.price_provider import PriceProvider

API_PREFIX = "/api/v1"
WEB_DIR = Path(__file__).resolve().parents[1] / "web"
ROUTERS = (status, stations, sessions, history, journal, site, site_limit, prices, meter, system, auth, tokens, ws)


def create_app(ctx: AppContext, web_dir: Path = WEB_DIR) -> FastAPI:
    """The web app on `ctx`; building it changes nothing. Starting it restores the saved state."""
    price_provider = PriceProvider(ctx)
    feed = ctx.live

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        """Start-up: the saved settings, prices and limit back into the core and the first-boot
        handover imported, before the pilot link, the once-a-second cycle and the price provider
        start in the server's own event loop."""
        persist.restore(ctx)
        feed.start()
        price_provider.start()
        if ctx.runtime is not None:
            await ctx.runtime.start()
        try:
            yield
        finally:
            if ctx.runtime is not None:
                await ctx.runtime.stop()
            await price_provider.stop()
            await feed.stop()

    app = FastAPI(title="EVSE appliance", version=ctx.version, lifespan=lifespan, docs_url="/docs",
                  openapi_url="/openapi.json", redoc_url=None, default_response_class=errors.SafeJSONResponse,
                  description="Two 22 kW AC charging stations on one line: live state, modes, history, settings.")
    app.state.ctx = ctx
    app.state.price_provider = price_provider  # made with the app: it runs in the app's event loop
    errors.install(app, unlimited=frozenset({f"{API_PREFIX}{system.router.prefix}{system.UPLOAD_PATH}"}))
    for module in ROUTERS:
        app.include_router(module.router, prefix=API_PREFIX)
    if web_dir.is_dir():
        app.mount("/", StaticFiles(directory=web_dir, html=True), name="web")
    else:
        app.add_api_route("/", lambda: RedirectResponse("/docs"), include_in_schema=False)
    return app
