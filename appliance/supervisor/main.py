"""`evse supervisor`: storage, core, pilot link and the web app under uvicorn."""

from __future__ import annotations

import logging
import socket
import time
from dataclasses import replace
from pathlib import Path

from appliance import __version__, paths
from appliance.supervisor.api.app import WebOptions, create_app
from appliance.supervisor.app_context import AppContext
from appliance.supervisor.core import SupervisorCore
from appliance.supervisor.ocpp import settings as ocpp_settings
from appliance.supervisor.recorder import StorageRecorder
from appliance.supervisor.runtime import SupervisorRuntime
from appliance.supervisor.server import (
    ApplianceServer,
    Listener,
    ServerOptions,
    config,
    inherited_listeners,
    tcp_listener,
)
from appliance.supervisor.settings import SiteSettings
from appliance.supervisor.storage import Storage
from appliance.system import setup_code, tls
from appliance.system.update import installed_manager

log = logging.getLogger(__name__)


def build(socket_path: Path, data_dir: Path, simulated: bool = False,
          settings: SiteSettings | None = None, prices: list[tuple[float, float, float]] | None = None,
          mqtt_url: str | None = None, ocpp_url: str | None = None) -> AppContext:
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
                      runtime=runtime, clock=time.time, updater=installed_manager(), mqtt_url=mqtt_url)


def serve(ctx: AppContext, host: str, port: int, options: WebOptions = WebOptions(),
          server_options: ServerOptions = ServerOptions(), https_port: int | None = None) -> None:
    """Run the web app until SIGINT/SIGTERM; the app's lifespan runs the pilot link and the cycle.
    Ports handed over by systemd come first; HTTPS is on when one of them or `https_port` is TLS."""
    listeners = [*inherited_listeners(), Listener(tcp_listener(host, port))]
    if https_port is not None:
        listeners.append(Listener(tcp_listener(host, https_port), tls=True))
    tls_listeners = [item for item in listeners if item.tls]
    context = None
    if tls_listeners:
        certificate = tls.ensure_certificate(ctx.data_dir, socket.gethostname())
        context = tls.server_context(certificate)
        options = replace(options, tls_fingerprint=certificate.fingerprint,
                          https_port=tls_listeners[0].sock.getsockname()[1])
        print(f"evse: HTTPS with this charger's own certificate, SHA-256 fingerprint {certificate.fingerprint}",
              flush=True)
    app = create_app(ctx, options=options)
    code = setup_code.read_code(ctx.data_dir)
    if code is not None:
        print(f"evse: no admin password yet. First-run setup code: {setup_code.shown(code)} (needed when the password "
              f"is set from another computer; also in {ctx.data_dir / setup_code.FILE_NAME})", flush=True)
    try:
        ApplianceServer(config(app, server_options), listeners, context).run()
    finally:
        ctx.storage.close()
