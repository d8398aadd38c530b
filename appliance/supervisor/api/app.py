"""The supervisor's web app: REST API under /api/v1, the live WebSocket, OpenAPI at /docs,
and the web UI at / once it is built."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles

from appliance.supervisor.api import errors, persist
from appliance.supervisor.api.hub import Hub
from appliance.supervisor.api.live import LiveFeed
from appliance.supervisor.api.routers import (auth, history, journal, meter, ocpp, prices, sessions, site,
                                              site_limit, stations, status, system, tokens, ws)
from appliance.supervisor.app_context import AppContext
from appliance.supervisor.auth.backoff import LoginBackoff
from appliance.supervisor.auth.service import AuthService
from appliance.supervisor.ocpp.service import OcppService
from appliance.supervisor.price_provider import PriceProvider

API_PREFIX = "/api/v1"
WEB_DIR = Path(__file__).resolve().parents[1] / "web"
ROUTERS = (status, stations, sessions, history, journal, site, site_limit, prices, meter, system, auth, tokens, ws,
           ocpp)


def create_app(ctx: AppContext, web_dir: Path = WEB_DIR) -> FastAPI:
    feed = LiveFeed(ctx, Hub())
    price_provider = PriceProvider(ctx)
    ocpp_service = OcppService(ctx)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        """The pilot link, the once-a-second cycle, the price provider and OCPP run in the server's own event loop."""
        feed.start()
        price_provider.start()
        if ctx.runtime is not None:
            await ctx.runtime.start()
        await ocpp_service.start()
        try:
            yield
        finally:
            await ocpp_service.stop()
            if ctx.runtime is not None:
                await ctx.runtime.stop()
            await price_provider.stop()
            await feed.stop()

    app = FastAPI(title="EVSE appliance", version=ctx.version, lifespan=lifespan, docs_url="/docs",
                  openapi_url="/openapi.json", redoc_url=None, default_response_class=errors.SafeJSONResponse,
                  description="Two 22 kW AC charging stations on one line: live state, modes, history, settings.")
    app.state.ctx = ctx
    app.state.auth = AuthService(ctx.storage.auth, ctx.clock)
    app.state.backoff = LoginBackoff(time.monotonic)
    app.state.hub = feed.hub
    app.state.live = feed
    app.state.price_provider = price_provider
    app.state.ocpp = ocpp_service
    errors.install(app, unlimited=frozenset({f"{API_PREFIX}{system.router.prefix}{system.UPLOAD_PATH}"}))
    persist.restore(ctx)
    for module in ROUTERS:
        app.include_router(module.router, prefix=API_PREFIX)
    if web_dir.is_dir():
        app.mount("/", StaticFiles(directory=web_dir, html=True), name="web")
    else:
        app.add_api_route("/", lambda: RedirectResponse("/docs"), include_in_schema=False)
    return app
