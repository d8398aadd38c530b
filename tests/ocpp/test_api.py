"""GET|PUT /api/v1/ocpp: admin to change, the password never shown, bad URLs a 422; and what
the central system set (profiles, availability) survives a restart of the supervisor."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from appliance import __version__
from appliance.cli import main
from appliance.supervisor.api.app import create_app
from appliance.supervisor.app_context import AppContext
from appliance.supervisor.core import SupervisorCore
from appliance.supervisor.main import build
from appliance.supervisor.ocpp.service import OcppService
from appliance.supervisor.settings import SiteSettings
from appliance.supervisor.storage import Storage
from tests.ocpp.profiles_helpers import absolute_profile
from tests.supervisor.conftest import API, TEST_OPTIONS, setup_body


@pytest.fixture
def ctx(tmp_path: Path) -> Iterator[AppContext]:
    with Storage(tmp_path / "evse.db") as storage:
        yield AppContext(core=SupervisorCore(SiteSettings()), storage=storage, data_dir=tmp_path, version=__version__,
                         simulated=True)


@pytest.fixture
def client(ctx: AppContext, tmp_path: Path) -> Iterator[TestClient]:
    with TestClient(create_app(ctx, web_dir=tmp_path / "none", options=TEST_OPTIONS)) as c:
        yield c


def login(client: TestClient) -> dict[str, str]:
    answer = client.post(f"{API}/auth/setup", json=setup_body(client.app.state.ctx.data_dir))
    return {"X-CSRF-Token": answer.json()["csrf_token"]}


@pytest.mark.parametrize("body", [
    {"url": "http://csms.example/ocpp/cp1"},
    {"url": "ws://csms.example/"},
    {"url": "ws://csms.example:99999/cp1"},
    {"url": "ws://user:secret@csms.example/cp1"},
    {"url": "ws:///cp1"},
    {"url": 5},
    {"id_tag": "x" * 21},
    {"password": ""},
    {"enabled": True},  # no URL to connect to
    {"colour": "blue"},
])
def test_bad_settings_are_422(client: TestClient, body: dict[str, object]) -> None:
    headers = login(client)
    answer = client.put(f"{API}/ocpp", json=body, headers=headers)
    assert answer.status_code == 422, answer.text
    assert client.get(f"{API}/ocpp").json()["url"] is None


def test_settings_need_admin_and_keep_the_password_secret(client: TestClient, ctx: AppContext) -> None:
    assert client.get(f"{API}/ocpp").status_code == 401
    headers = login(client)
    view = client.get(f"{API}/ocpp").json()
    assert view["enabled"] is False and view["link"]["state"] == "disabled" and view["password_set"] is False
    token = client.post(f"{API}/tokens", json={"name": "meter", "scope": "control"}, headers=headers).json()["token"]
    denied = client.put(f"{API}/ocpp", json={"url": "ws://csms.example/cp1"},
                        headers={"Authorization": f"Bearer {token}"})
    assert denied.status_code == 403

    body = {"url": "ws://127.0.0.1:9/ocpp/garage-1", "password": "s3cret-s3cret", "id_tag": "garage"}
    answer = client.put(f"{API}/ocpp", json=body, headers=headers)
    assert answer.status_code == 200, answer.text
    view = answer.json()
    assert "s3cret" not in answer.text and view["password_set"] is True and view["charge_point_id"] == "garage-1"
    assert view["enabled"] is False and view["id_tag"] == "garage"
    audit = [e for e in ctx.storage.audit.list().items if e.action == "ocpp.update"]
    assert audit and "s3cret" not in str(audit[0].details) and audit[0].details["password_set"] is True

    answer = client.put(f"{API}/ocpp", json={"enabled": True}, headers=headers)  # nobody listens on port 9
    assert answer.status_code == 200 and answer.json()["url"] == body["url"]
    deadline = time.monotonic() + 10
    while (link := client.get(f"{API}/ocpp").json()["link"])["last_error"] is None:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert link["state"] in ("connecting", "waiting") and "refused" in link["last_error"].lower()
    assert client.put(f"{API}/ocpp", json={"password": None, "enabled": False}, headers=headers).json()[
        "password_set"] is False


def test_profiles_and_availability_survive_a_restart(ctx: AppContext) -> None:
    service = OcppService(ctx)
    site_max = absolute_profile(1, "ChargePointMaxProfile", 20.0, start_offset_s=-60)
    assert service.set_profile(0, site_max) == "Accepted"
    assert service.set_profile(2, absolute_profile(2, "TxDefaultProfile", 0.0, start_offset_s=-60)) == "Accepted"
    assert service.change_availability(1, "Inoperative") == "Accepted"
    limit = ctx.core.external_limit
    assert limit is not None and limit.source == "ocpp" and limit.current_a == (20.0, 20.0, 20.0)

    ctx.core.external_limit = None
    ctx.core.station_caps.clear()
    again = OcppService(ctx)  # the supervisor restarted; the central system is not back yet
    again.apply_limits(ctx.clock())
    assert ctx.core.external_limit is not None and ctx.core.external_limit.current_a == (20.0, 20.0, 20.0)
    assert ctx.core.station_caps[1].amps == 0 and "unavailable" in ctx.core.station_caps[1].source
    assert ctx.core.station_caps[2].amps == 0 and ctx.core.station_caps[2].source == "the central system"
    assert again.clear_profiles(None, None, None, None) == "Accepted"
    assert again.change_availability(0, "Operative") == "Accepted"
    again.apply_limits(ctx.clock())
    assert ctx.core.external_limit is None and ctx.core.station_caps == {}


@pytest.mark.parametrize("command", ["supervisor", "sim"])
def test_cli_refuses_a_bad_ocpp_url(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main([command, "--ocpp-url", "http://csms.example/ocpp/cp1"])
    assert exited.value.code == 2 and "ws:// or wss://" in capsys.readouterr().err


def test_ocpp_url_given_at_start_is_the_saved_setting_switched_on(tmp_path: Path) -> None:
    ctx = build(tmp_path / "pilot.sock", tmp_path / "data", ocpp_url="ws://csms.example:8180/steve/garage-2")
    try:
        service = OcppService(ctx)
        assert service.settings.enabled and service.settings.charge_point_id == "garage-2"
        assert service.view()["url"] == "ws://csms.example:8180/steve/garage-2"
    finally:
        ctx.storage.close()


def test_a_transaction_open_at_a_restart_waits_for_the_pilot(ctx: AppContext) -> None:
    ref = ctx.storage.ocpp.start(1, "evse-local", 1200, ctx.clock() - 600, {"connectorId": 1, "idTag": "evse-local",
                                                                            "meterStart": 1200})
    service = OcppService(ctx)  # restarted; the pilot has not connected yet
    service.tick(ctx.clock())
    assert [p.action for p in ctx.storage.ocpp.pending()] == ["StartTransaction"]
    assert service.transactions.running[1].ref == ref and service.status[1].status == "Available"
