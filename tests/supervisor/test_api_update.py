"""POST /system/update against a real UpdateManager on a temporary root: a signed bundle is
staged and requested, a forged one refused, and a charging car stops it unless forced."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient

from appliance.supervisor.app_context import AppContext
from appliance.system import update as update_module
from appliance.system.bundle import create_bundle
from appliance.system.update import UpdateManager
from tests.pilot_messages import event
from tests.supervisor.conftest import API
from tests.system.wheels import make_wheel

KEY = Ed25519PrivateKey.generate()


@pytest.fixture
def updater(ctx: AppContext, tmp_path: Path) -> UpdateManager:
    ctx.updater = UpdateManager(tmp_path / "root", keys=[KEY.public_key()], restart=lambda: None,
                                health=lambda version: True)
    return ctx.updater


def _bundle(tmp: Path, version: str) -> bytes:
    make_wheel(tmp / "wheels", version)
    out = tmp / "update.bundle"
    create_bundle(sorted((tmp / "wheels").glob("*.whl")), version, KEY, out)
    return out.read_bytes()


def test_signed_bundle_is_staged_and_requested(client: TestClient, admin, updater, tmp_path: Path) -> None:
    answer = client.post(f"{API}/system/update", content=_bundle(tmp_path, "0.2.0"),
                         headers={**admin, "content-type": "application/octet-stream"})
    assert answer.status_code == 200, answer.text
    assert answer.json()["version"] == "0.2.0" and answer.json()["status"]["state"] == "requested"
    assert client.get(f"{API}/system/update").json()["state"] == "requested"
    assert client.get(f"{API}/system").json()["updates_available"] is True


def test_forged_bundle_is_422_and_reported(client: TestClient, admin, updater) -> None:
    answer = client.post(f"{API}/system/update", content=b"not a bundle at all", headers=admin)
    assert answer.status_code == 422 and answer.json()["detail"].startswith("update refused")
    assert client.get(f"{API}/system/update").json()["state"] == "rejected"


def test_charging_car_needs_force(client: TestClient, admin, updater, ctx: AppContext, tmp_path: Path) -> None:
    ctx.core.on_pilot_message(event("state", station=1, state="C", contactor=True), time.time())
    bundle = _bundle(tmp_path, "0.3.0")
    refused = client.post(f"{API}/system/update", content=bundle, headers=admin)
    assert refused.status_code == 409
    detail = refused.json()["detail"]
    assert detail["charging"] == [1] and "station 1 is charging" in detail["message"]
    forced = client.post(f"{API}/system/update", params={"force": True}, content=bundle, headers=admin)
    assert forced.status_code == 200 and forced.json()["warning"]


def test_upload_larger_than_the_updater_allows_is_413(client: TestClient, admin, updater) -> None:
    updater.max_bundle_bytes = 1000
    answer = client.post(f"{API}/system/update", content=b"x" * 5000, headers=admin)
    assert answer.status_code == 413

    def chunks():  # no Content-Length: counted as it arrives
        yield from (b"x" * 600 for _ in range(3))

    assert client.post(f"{API}/system/update", content=chunks(), headers=admin).status_code == 413


def _running(updater: UpdateManager, version: str) -> None:
    updater.versions.mkdir(parents=True, exist_ok=True)
    updater.current.symlink_to(f"versions/{version}")


def test_an_older_bundle_is_409_unless_the_owner_allows_a_downgrade(client: TestClient, admin, updater, ctx,
                                                                     tmp_path: Path) -> None:
    _running(updater, "0.2.0")
    old = _bundle(tmp_path, "0.1.0")
    refused = client.post(f"{API}/system/update", content=old, headers=admin)
    assert refused.status_code == 409, refused.text
    assert "0.1.0" in refused.json()["detail"] and "0.2.0" in refused.json()["detail"]
    assert "allow_downgrade" in refused.json()["detail"]
    assert client.get(f"{API}/system/update").json()["state"] == "rejected"

    allowed = client.post(f"{API}/system/update", params={"allow_downgrade": True}, content=old, headers=admin)
    assert allowed.status_code == 200, allowed.text
    assert allowed.json()["version"] == "0.1.0" and allowed.json()["status"]["state"] == "requested"
    audited = [e for e in ctx.storage.audit.list().items if e.action == "system.update"]
    assert [e.details["allow_downgrade"] for e in audited] == [True, False]  # newest first


def test_a_replay_of_the_running_version_is_409(client: TestClient, admin, updater, tmp_path: Path) -> None:
    _running(updater, "0.2.0")
    replay = client.post(f"{API}/system/update", content=_bundle(tmp_path, "0.2.0"), headers=admin)
    assert replay.status_code == 409 and "0.2.0 is already running" in replay.json()["detail"]


def test_allow_downgrade_needs_the_admin_scope(client: TestClient, admin, updater, bearer, tmp_path: Path) -> None:
    _running(updater, "0.2.0")
    answer = client.post(f"{API}/system/update", params={"allow_downgrade": True}, content=_bundle(tmp_path, "0.1.0"),
                         headers=bearer("control"))
    assert answer.status_code == 403


def test_a_second_upload_while_one_is_received_is_409_at_once(client: TestClient, admin, updater,
                                                               tmp_path: Path) -> None:
    bundle = _bundle(tmp_path, "0.2.0")
    with updater.receiving(None):  # another upload (or the installer) holds the update lock
        busy = client.post(f"{API}/system/update", content=bundle, headers=admin)
    assert busy.status_code == 409 and "another update" in busy.json()["detail"]
    assert client.post(f"{API}/system/update", content=bundle, headers=admin).status_code == 200


def test_an_upload_that_would_fill_the_disk_is_507(client: TestClient, admin, updater, tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    bundle = _bundle(tmp_path, "0.2.0")
    free = update_module.MIN_FREE_BYTES + len(bundle)  # room for the upload, not for unpacking it as well
    monkeypatch.setattr("appliance.system.update.shutil.disk_usage", lambda path: shutil._ntuple_diskusage(
        10 * free, 9 * free, free))
    answer = client.post(f"{API}/system/update", content=bundle, headers=admin)
    assert answer.status_code == 507, answer.text
    assert "free" in answer.json()["detail"]

    def chunks():  # no Content-Length: refused once what arrived would not fit
        yield from (bundle[i:i + 4096] for i in range(0, len(bundle), 4096))

    streamed = client.post(f"{API}/system/update", content=chunks(), headers=admin)
    assert streamed.status_code == 507, streamed.text
    assert not updater.staged.exists()
