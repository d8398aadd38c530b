"""The API with a real pilot: `evse pilot --sim` as a subprocess over its Unix socket, the
supervisor runtime in the app's event loop. Commands reach the pilot and its events reach
WebSocket clients."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from appliance.supervisor.api.app import create_app
from appliance.supervisor.app_context import AppContext
from appliance.supervisor.core import SupervisorCore
from appliance.supervisor.runtime import SupervisorRuntime
from appliance.supervisor.settings import SiteSettings
from appliance.supervisor.storage import Storage
from tests.supervisor.conftest import API, TEST_OPTIONS, setup_body

pytestmark = pytest.mark.realtime
PLUG_AT_S = 4.0  # after the supervisor has connected


@pytest.fixture
def pilot_socket(tmp_path: Path) -> Iterator[Path]:
    sock = tmp_path / "pilot.sock"
    scenario = tmp_path / "cars.toml"
    scenario.write_text(f'[[event]]\nat = {PLUG_AT_S}\nstation = 1\ndo = "plug"\ncar = {{ cable_a = 20 }}\n')
    proc = subprocess.Popen([sys.executable, "-m", "appliance", "pilot", "--sim", "--socket", str(sock),
                             "--scenario", str(scenario)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 20
    while not sock.exists():
        assert proc.poll() is None, proc.stderr.read().decode()
        assert time.monotonic() < deadline, "pilot socket never appeared"
        time.sleep(0.05)
    yield sock
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=10)


def test_commands_and_events_through_a_real_pilot(pilot_socket: Path, tmp_path: Path) -> None:
    with Storage(tmp_path / "evse.db") as storage:
        core = SupervisorCore(SiteSettings())
        ctx = AppContext(core=core, storage=storage, data_dir=tmp_path, version="test", simulated=True,
                         runtime=SupervisorRuntime(core, pilot_socket))
        with TestClient(create_app(ctx, web_dir=tmp_path / "none", options=TEST_OPTIONS)) as client:
            setup = client.post(f"{API}/auth/setup", json=setup_body(tmp_path))
            headers = {"X-CSRF-Token": setup.json()["csrf_token"]}
            deadline = time.monotonic() + 10
            while not client.get(f"{API}/system").json()["pilot_connected"]:
                assert time.monotonic() < deadline, "the supervisor never connected to the pilot"
                time.sleep(0.1)

            with client.websocket_connect(f"{API}/ws") as ws:
                assert ws.receive_json()["type"] == "snapshot"
                cleared = client.post(f"{API}/stations/1/clear-fault", json={"code": "DiodeFault"}, headers=headers)
                assert cleared.status_code == 200 and cleared.json() == {"station": 1, "cleared": []}
                assert client.post(f"{API}/stations/2/self-test", headers=headers).json()["started"] is True
                plugged = None
                while plugged is None:
                    message = ws.receive_json()  # snapshots arrive every second, so this never blocks for long
                    if message["type"] == "state" and (message["event"].get("cause") or {}).get("to") == "B":
                        plugged = message
                    assert time.monotonic() < deadline + PLUG_AT_S + 5, "no plug-in event"
            assert plugged["station"]["id"] == 1 and plugged["station"]["state"] == "B"
            assert client.get(f"{API}/stations/1").json()["cable_a"] == 20.0
