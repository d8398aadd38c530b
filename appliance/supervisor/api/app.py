"""The supervisor's web app: REST API under /api/v1, the live WebSocket, OpenAPI at /docs,
and the web UI at / once it is built."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from fastapi import FastAPI
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp

from appliance.supervisor.api import docs, errors, persist
from appliance.supervisor.api.guard import AllowedHosts, HostGuard, PlainHttpGuard
from appliance.supervisor.api.headers import SecurityHeaders
from appliance.supervisor.api.routers import (
    auth,
    history,
    journal,
    meter,
    mqtt,
    ocpp,
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
from appliance.supervisor.mqtt.bridge import MqttBridge
from appliance.supervisor.ocpp.service import OcppService
from appliance.supervisor.price_provider import PriceProvider
from appliance.system import setup_code

API_PREFIX = "/api/v1"
WEB_DIR = Path(__file__).resolve().parents[1] / "web"
ROUTERS = (status, stations, sessions, history, journal, site, site_limit, prices, meter, mqtt, ocpp, system, auth,
           tokens, ws)


@dataclass(frozen=True)
class WebOptions:
    """How the app meets the network (set by `evse supervisor`/`evse sim` from their flags)."""

    allowed_hosts: tuple[str, ...] = ()  # names beyond the machine's own (--allowed-host)
    tls_fingerprint: str | None = None  # SHA-256 of the certificate when HTTPS is served
    https_port: int | None = None
    http: Literal["lan", "local"] = "lan"  # with HTTPS on, "local": plain HTTP for this machine only


class ApplianceAPI(FastAPI):
    """FastAPI with guards wrapped around everything, Starlette's error middleware included, so
    that even its 500 answers pass through them."""

    outer: list[Callable[[ASGIApp], ASGIApp]]

    def build_middleware_stack(self) -> ASGIApp:
        stack = super().build_middleware_stack()
        for wrap in self.outer:
            stack = wrap(stack)
        return stack


def sync_setup_code(ctx: AppContext) -> None:
    """The one-time setup code exists while no admin password does, and goes once one is set."""
    if ctx.auth.password_set():
        setup_code.discard_code(ctx.data_dir)
    else:
        setup_code.ensure_code(ctx.data_dir)


def create_app(ctx: AppContext, web_dir: Path = WEB_DIR, options: WebOptions = WebOptions()) -> FastAPI:
    """The web app on `ctx`. Building it only writes (or removes) the first-run setup code, so that
    it can be shown before the server starts; starting it restores the saved state."""
    price_provider = PriceProvider(ctx)
    feed = ctx.live
    bridge = MqttBridge(ctx, on_control=feed.push_snapshot)
    ocpp_service = OcppService(ctx)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        """Start-up: the saved settings, prices and limit back into the core and the first-boot
        handover imported (the setup code goes if it set a password), before the pilot link, the
        once-a-second cycle, the price provider, MQTT and OCPP start in the server's own event loop."""
        persist.restore(ctx)
        sync_setup_code(ctx)
        feed.start()
        price_provider.start()
        if ctx.runtime is not None:
            await ctx.runtime.start()
        await bridge.start()
        await ocpp_service.start()
        try:
            yield
        finally:
            await ocpp_service.stop()
            await bridge.stop()
            if ctx.runtime is not None:
                await ctx.runtime.stop()
            await price_provider.stop()
            await feed.stop()

    app = ApplianceAPI(title="EVSE appliance", version=ctx.version, lifespan=lifespan, docs_url=None,
                  openapi_url="/openapi.json", redoc_url=None, default_response_class=errors.SafeJSONResponse,
                  description="Two 22 kW AC charging stations on one line: live state, modes, history, settings.")
    app.state.ctx = ctx
    app.state.options = options
    app.state.allowed_hosts = AllowedHosts(options.allowed_hosts)
    app.outer = [lambda inner: PlainHttpGuard(inner, options.https_port) if options.http == "local" else inner,
                 lambda inner: HostGuard(inner, app.state.allowed_hosts), SecurityHeaders]  # the outermost last
    # made with the app: they run in the app's event loop
    app.state.price_provider = price_provider
    app.state.mqtt = bridge
    app.state.ocpp = ocpp_service
    errors.install(app, unlimited=frozenset({f"{API_PREFIX}{system.router.prefix}{system.UPLOAD_PATH}"}))
    sync_setup_code(ctx)
    for module in ROUTERS:
        app.include_router(module.router, prefix=API_PREFIX)
    docs.install(app)
    if web_dir.is_dir():
        app.mount("/", StaticFiles(directory=web_dir, html=True), name="web")
    else:
        app.add_api_route("/", lambda: RedirectResponse("/docs"), include_in_schema=False)
    return app
