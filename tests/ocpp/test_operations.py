"""The central system's other operations against the real supervisor: registration while
Pending, RemoteStart with an idTag, ChangeAvailability scheduled behind a transaction, Reset,
UpdateFirmware (only through the signed-bundle path) and GetDiagnostics."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from ocpp.v16 import call

from appliance.system.bundle import create_bundle
from appliance.system.update import UpdateManager
from tests.ocpp.conftest import appliance, charging_car
from tests.ocpp.csms import CentralSystem, Received, until
from tests.system.wheels import make_wheel

pytestmark = pytest.mark.realtime
CP = "evse-ops"
PLUGGED = ('[[event]]\nat = 3.0\nstation = 2\ndo = "plug"\n'
           'car = { max_current_a = 16, phases = 1, battery_kwh = 40, soc = 0.5, response_s = 1.0, cable_a = 32 }\n')


def statuses(csms: CentralSystem, connector: int, after: float = 0.0) -> list[str]:
    return [m.payload["status"] for m in csms.messages("StatusNotification", CP)
            if m.payload["connector_id"] == connector and m.t > after]


def firmware(m: Received) -> str:
    return str(m.payload["status"])


@contextmanager
def http_server(body: bytes = b"not a signed bundle") -> Iterator[tuple[str, dict[str, bytes]]]:
    """Serves `body` as the bundle (GET) and keeps what is PUT; (base URL, uploads)."""
    uploads: dict[str, bytes] = {}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_PUT(self) -> None:
            uploads[self.path] = self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(201)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None: ...

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", uploads
    finally:
        server.shutdown()


def test_pending_registration_then_operations(csms: CentralSystem, tmp_path: Path) -> None:
    csms.boot_status, csms.boot_interval = "Pending", 2
    with appliance(tmp_path, PLUGGED, csms.url(CP)) as app, http_server() as (base, uploads):
        first = csms.wait_for("BootNotification", CP, timeout=20)
        csms.wait_for("BootNotification", CP, after=first.t, timeout=5)  # retried at the interval given
        until(lambda: csms.connected(CP), 5, "connected")
        assert csms.call(CP, call.GetConfiguration(key=["HeartbeatInterval"])).configuration_key  # allowed meanwhile
        assert csms.messages("StatusNotification", CP) == [] and app.ocpp.registration == "Pending"
        csms.boot_status = "Accepted"
        until(lambda: {0, 1, 2} <= {m.payload["connector_id"] for m in csms.messages("StatusNotification", CP)},
              10, "statuses of all three connectors after acceptance")
        csms.wait_for("StatusNotification", CP, where=lambda m: m.payload["connector_id"] == 2
                      and m.payload["status"] == "Preparing", timeout=10)

        assert csms.call(CP, call.RemoteStartTransaction(id_tag="card-7", connector_id=2)).status == "Accepted"
        start = csms.wait_for("StartTransaction", CP, timeout=10)
        assert start.payload["id_tag"] == "card-7" and start.payload["connector_id"] == 2
        assert csms.call(CP, call.RemoteStartTransaction(id_tag="card-8", connector_id=2)).status == "Rejected"
        assert csms.call(CP, call.ChangeAvailability(connector_id=2, type="Inoperative")).status == "Scheduled"
        assert app.ocpp.available[2] is True  # the transaction goes on

        tx_id = 1001  # the test central system's first
        asked = time.time()
        assert csms.call(CP, call.RemoteStopTransaction(transaction_id=tx_id)).status == "Accepted"
        assert csms.wait_for("StopTransaction", CP, after=asked).payload["reason"] == "Remote"
        until(lambda: "Unavailable" in statuses(csms, 2, asked), 10, "connector 2 unavailable after its transaction")
        assert app.ocpp.available[2] is False
        until(lambda: app.reason(2) == "paused by the central system (connector unavailable)", 5, "paused")
        assert csms.call(CP, call.ChangeAvailability(connector_id=2, type="Operative")).status == "Accepted"
        until(lambda: statuses(csms, 2, asked)[-1] == "Finishing", 10, "car still there, transaction over")

        failed_at = time.time()
        retrieve = datetime.now(UTC).isoformat()
        csms.call(CP, call.UpdateFirmware(location="http://127.0.0.1:9/evse.bundle", retrieve_date=retrieve))
        csms.wait_for("FirmwareStatusNotification", CP, after=failed_at,
                      where=lambda m: firmware(m) == "DownloadFailed")
        bad_at = time.time()
        csms.call(CP, call.UpdateFirmware(location=f"{base}/evse.bundle", retrieve_date=retrieve))
        csms.wait_for("FirmwareStatusNotification", CP, after=bad_at,
                      where=lambda m: firmware(m) == "InstallationFailed")
        seen = [firmware(m) for m in csms.messages("FirmwareStatusNotification", CP) if m.t > bad_at]
        assert seen == ["Downloading", "Downloaded", "Installing", "InstallationFailed"]

        name = csms.call(CP, call.GetDiagnostics(location=f"{base}/diagnostics/")).file_name
        csms.wait_for("DiagnosticsStatusNotification", CP, where=lambda m: m.payload["status"] == "Uploaded")
        text = uploads[f"/diagnostics/{name}"].decode()
        assert "# pilot log" in text and "# supervisor events" in text and "ocpp" not in name

        reset_at = time.time()
        assert csms.call(CP, call.Reset(type="Soft")).status == "Accepted"
        csms.wait_for("BootNotification", CP, after=reset_at, timeout=15)
        assert app.ocpp.link is not None and app.ocpp.link.state.reconnects >= 1
        actions = {e.action for e in app.ctx.storage.audit.list(limit=100).items}
        assert {"ocpp.reset", "ocpp.remote_start", "ocpp.remote_stop", "ocpp.change_availability",
                "ocpp.update_firmware"} <= actions


def test_a_refused_id_tag_stops_the_transaction_and_pauses(csms: CentralSystem, tmp_path: Path) -> None:
    csms.id_tag_status = "Blocked"
    with appliance(tmp_path, charging_car(1, at=3.0), csms.url(CP)) as app:
        start = csms.wait_for("StartTransaction", CP, timeout=30)
        stop = csms.wait_for("StopTransaction", CP, after=start.t - 0.001, timeout=10)
        assert stop.payload["reason"] == "DeAuthorized" and stop.payload["transaction_id"] == 1001
        until(lambda: app.offered(1) == 0.0, 10, "the station stops offering current")
        assert app.reason(1) == "paused by the central system (transaction stopped)"
        time.sleep(3)
        assert len(csms.messages("StartTransaction", CP)) == 1  # no new transaction while the car stays


def test_a_local_start_is_authorized_first(csms: CentralSystem, tmp_path: Path) -> None:
    with appliance(tmp_path, charging_car(1, at=3.0), csms.url(CP)) as app:
        start = csms.wait_for("StartTransaction", CP, timeout=30)
        authorize = csms.wait_for("Authorize", CP, timeout=1)
        assert authorize.t <= start.t
        assert authorize.payload["id_tag"] == start.payload["id_tag"] == app.ocpp.settings.id_tag
        assert len(csms.messages("Authorize", CP)) == 1  # once per plug-in


def test_a_refused_authorize_starts_nothing_and_pauses(csms: CentralSystem, tmp_path: Path) -> None:
    csms.authorize_status = "Invalid"
    with appliance(tmp_path, charging_car(1, at=3.0), csms.url(CP)) as app:
        csms.wait_for("Authorize", CP, timeout=30)
        until(lambda: app.reason(1) == "paused by the central system (transaction stopped)", 10,
              "the station is paused")
        time.sleep(3)
        assert app.offered(1) == 0.0 and csms.messages("StartTransaction", CP) == []


def test_a_central_system_that_cannot_authorize_still_gets_the_transaction(csms: CentralSystem,
                                                                            tmp_path: Path) -> None:
    csms.authorize_status = None
    with appliance(tmp_path, charging_car(1, at=3.0), csms.url(CP)) as app:
        authorize = csms.wait_for("Authorize", CP, timeout=30)
        start = csms.wait_for("StartTransaction", CP, timeout=10)
        assert start.t >= authorize.t and start.payload["connector_id"] == 1
        until(lambda: app.offered(1) > 0.0, 10, "the car charges")


def test_a_signed_firmware_waits_for_the_car_then_installs(csms: CentralSystem, tmp_path: Path) -> None:
    key = Ed25519PrivateKey.generate()
    make_wheel(tmp_path / "wheels", "0.2.0")
    create_bundle(sorted((tmp_path / "wheels").glob("*.whl")), "0.2.0", key, tmp_path / "evse.bundle")
    leaves = 'at = 25.0\nstation = 1\ndo = "unplug"\n'
    scenario = charging_car(1, at=3.0) + "\n[[event]]\n" + leaves
    with (appliance(tmp_path / "run", scenario, csms.url(CP)) as app,
          http_server((tmp_path / "evse.bundle").read_bytes()) as (base, _)):
        app.ctx.updater = UpdateManager(tmp_path / "root", keys=[key.public_key()], restart=lambda: None,
                                        health=lambda version: True)
        app.ocpp.firmware.install_poll_s = 0.5
        csms.wait_for("StartTransaction", CP, timeout=30)
        asked = time.time()
        csms.call(CP, call.UpdateFirmware(location=f"{base}/evse.bundle",
                                          retrieve_date=datetime.now(UTC).isoformat()))
        csms.wait_for("FirmwareStatusNotification", CP, after=asked, where=lambda m: firmware(m) == "Installing")
        time.sleep(3)
        assert app.ctx.updater.status().state == "staged"  # verified, not asked for while the car charges
        assert [firmware(m) for m in csms.messages("FirmwareStatusNotification", CP) if m.t > asked][-1] == "Installing"
        stop = csms.wait_for("StopTransaction", CP, timeout=30)
        installed = csms.wait_for("FirmwareStatusNotification", CP, after=asked, timeout=10,
                                  where=lambda m: firmware(m) == "Installed")
        assert installed.t >= stop.t
        assert app.ctx.updater.status().state == "requested" and app.ctx.updater.status().version == "0.2.0"
        seen = [firmware(m) for m in csms.messages("FirmwareStatusNotification", CP) if m.t > asked]
        assert seen == ["Downloading", "Downloaded", "Installing", "Installed"]
