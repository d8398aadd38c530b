"""`evse supervisor`: storage, core, pilot link and the web app under uvicorn."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import uvicorn

from appliance import __version__, paths
from appliance.supervisor.api.app import create_app
from appliance.supervisor.app_context import AppContext
from appliance.supervisor.core import SupervisorCore
from appliance.supervisor.ocpp import settings as ocpp_settings
from appliance.supervisor.recorder import StorageRecorder
from appliance.supervisor.runtime import SupervisorRuntime
from appliance.supervisor.settings import SiteSettings
from appliance.supervisor.storage import Storage
from appliance.system.update import installed_manager

log = logging.getLogger(__name__)


def build(socket_path: Path, data_dir: Path, simulated: bool = False,
          settings: SiteSettings | None = None, prices: list[tuple[float, float, float]] | None = None,
          ocpp_url: str | None = None) -> AppContext:
    """Everything `evse supervisor` runs, wired but not started (tests use it too). `ocpp_url`
    becomes the saved OCPP setting, switched on, as if set in the UI."""
    data_dir.mkdir(parents=True, exist_ok=True)
    storage = Storage(data_dir / "evse.db", spool=paths.telemetry_spool(data_dir / "evse.db"), exclusive=True)
    if ocpp_url is not None:
        storage.settings.set_value(ocpp_settings.SETTINGS_KEY,
                                   ocpp_settings.with_url(storage.settings.get_value(ocpp_settings.SETTINGS_KEY),
                                                          ocpp_url), time.time())
    recorder = StorageRecorder(storage)
    core = SupervisorCore(settings or SiteSettings(), recorder)
    if prices:  # stored, so the API, the UI and a restart see them like prices sent over REST
        storage.prices.replace(prices[0][0], prices[-1][1], prices)
        core.set_prices(prices)
    recorder.resume_sessions(core.sessions, sorted(core.live))
    runtime = SupervisorRuntime(core, socket_path, on_cycle=recorder.tick, on_logs=recorder.pilot_logs,
                                on_stop=recorder.flush)
    return AppContext(core=core, storage=storage, data_dir=data_dir, version=__version__, simulated=simulated,
                      runtime=runtime, clock=time.time, updater=installed_manager())


def serve(ctx: AppContext, host: str, port: int) -> None:
    """Run the web app until SIGINT/SIGTERM; the app's lifespan runs the pilot link and the cycle."""
    app = create_app(ctx)
    try:
        uvicorn.run(app, host=host, port=port, log_level="info", lifespan="on")
    finally:
        ctx.storage.close()
