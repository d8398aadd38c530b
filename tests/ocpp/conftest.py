"""The real supervisor (its app, runtime and storage) over `evse pilot --sim` with scripted
cars, connected to the test central system."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from appliance.supervisor.api.app import create_app
from appliance.supervisor.app_context import AppContext
from appliance.supervisor.main import build
from appliance.supervisor.ocpp.service import OcppService
from appliance.supervisor.ocpp.settings import SETTINGS_KEY
from appliance.supervisor.settings import SiteSettings
from tests.ocpp.csms import CentralSystem
from tests.supervisor.conftest import TEST_OPTIONS


@dataclass
class Appliance:
    ctx: AppContext
    client: TestClient
    ocpp: OcppService

    def offered(self, station: int) -> float:
        return self.ctx.core.live[station].offered_a

    def reason(self, station: int) -> str:
        return self.ctx.core.decisions[station].reason


@contextmanager
def pilot(tmp: Path, scenario: str) -> Iterator[Path]:
    """`evse pilot --sim` playing `scenario` (TOML) in real time; its socket."""
    sock = tmp / "pilot.sock"
    (tmp / "cars.toml").write_text(scenario)
    proc = subprocess.Popen([sys.executable, "-m", "appliance", "pilot", "--sim", "--socket", str(sock),
                             "--scenario", str(tmp / "cars.toml")], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 20
        while not sock.exists():
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
            assert time.monotonic() < deadline, "pilot socket never appeared"
            time.sleep(0.05)
        yield sock
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=10)


@contextmanager
def appliance(tmp: Path, scenario: str, url: str, settings: SiteSettings | None = None,
              max_backoff_s: float = 2.0, password: str | None = None) -> Iterator[Appliance]:
    """Pilot and supervisor, the supervisor's OCPP link on `url` (Basic auth with `password`);
    reconnects within `max_backoff_s`."""
    tmp.mkdir(parents=True, exist_ok=True)
    with ExitStack() as stack:
        sock = stack.enter_context(pilot(tmp, scenario))
        ctx = build(sock, tmp / "data", simulated=True, settings=settings, ocpp_url=url)
        stack.callback(ctx.storage.close)
        if password is not None:
            saved = ctx.storage.settings.get_value(SETTINGS_KEY)
            ctx.storage.settings.set_value(SETTINGS_KEY, {**saved, "password": password}, ctx.clock())
        app = create_app(ctx, web_dir=tmp / "no-web-ui", options=TEST_OPTIONS)
        service: OcppService = app.state.ocpp
        service.max_backoff_s = max_backoff_s
        service.response_timeout_s = 10.0
        client = stack.enter_context(TestClient(app))
        yield Appliance(ctx, client, service)


@pytest.fixture
def csms() -> Iterator[CentralSystem]:
    central = CentralSystem()
    central.start()
    yield central
    central.stop()


CHARGING_CAR = """
[[event]]
at = {at}
station = {station}
do = "plug"
car = {{ max_current_a = 32, phases = 3, battery_kwh = 60, soc = 0.2, response_s = 1.0, cable_a = 32 }}

[[event]]
at = {request}
station = {station}
do = "request"
"""


def charging_car(station: int = 1, at: float = 3.0) -> str:
    return CHARGING_CAR.format(at=at, request=at + 1.0, station=station)


Until = Callable[[Callable[[], bool], float, str], float]
