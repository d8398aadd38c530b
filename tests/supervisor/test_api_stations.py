"""Stations over HTTP: live views, validated edits that persist, pilot actions without a pilot."""

from __future__ import annotations

from fastapi.testclient import TestClient

from appliance.supervisor.api.app import create_app
from appliance.supervisor.app_context import AppContext
from appliance.supervisor.core import SupervisorCore
from appliance.supervisor.settings import SiteSettings
from tests.supervisor.conftest import API, TEST_OPTIONS


def test_station_views(client: TestClient, admin) -> None:
    stations = client.get(f"{API}/stations").json()
    assert [s["id"] for s in stations] == [1, 2]
    one = client.get(f"{API}/stations/1").json()
    assert one["state"] == "A" and one["mode"] == "on" and "reason" in one
    missing = client.get(f"{API}/stations/3")
    assert missing.status_code == 404 and "stations are [1, 2]" in missing.json()["detail"]
    assert client.get(f"{API}/stations/x").status_code == 422


def test_patch_validation_names_the_problem(client: TestClient, admin: dict[str, str]) -> None:
    def patch(body: object, station: int = 1):
        return client.patch(f"{API}/stations/{station}", json=body, headers=admin)

    bad_mode = patch({"mode": "turbo"})
    assert bad_mode.status_code == 422 and bad_mode.json()["detail"][0]["loc"] == ["body", "mode"]
    negative = patch({"max_current_a": -5})
    assert negative.status_code == 422 and "greater than or equal to 6" in negative.json()["detail"][0]["msg"]
    above = patch({"max_current_a": 40})
    assert above.status_code == 422
    assert above.json()["detail"] == "max_current_a 40 A exceeds the station rating of 32 A"
    assert patch({"rating_a": 80}).status_code == 422  # the rating is the installer's (PUT /site)
    assert patch({"name": "x" * 41}).status_code == 422
    assert patch({"priority": 1000}).status_code == 422
    assert patch({"mode": None}).status_code == 422
    assert patch([1, 2]).status_code == 422
    assert client.patch(f"{API}/stations/1", content=b"{not json", headers={**admin, "content-type": "application/json"}
                        ).status_code == 422
    assert client.patch(f"{API}/stations/1", content=b'{"departure": NaN}',
                        headers={**admin, "content-type": "application/json"}).status_code == 422
    assert patch({"mode": "off"}, station=9).status_code == 404
    assert client.get(f"{API}/stations/1").json()["mode"] == "on"  # nothing half-applied


def test_patch_applies_persists_and_survives_a_restart(client: TestClient, admin: dict[str, str], ctx: AppContext,
                                                        tmp_path) -> None:
    body = {"mode": "low_cost", "priority": 2, "max_current_a": 16, "name": "Garage", "departure": 1_800_000_000,
            "energy_kwh": 20}
    answer = client.patch(f"{API}/stations/2", json=body, headers=admin)
    assert answer.status_code == 200
    view = answer.json()
    assert {k: view[k] for k in body} == {**body, "max_current_a": 16.0, "departure": 1_800_000_000.0,
                                         "energy_kwh": 20.0}
    assert ctx.core.settings.station(2).mode == "low_cost"
    cleared = client.patch(f"{API}/stations/2", json={"departure": None, "energy_kwh": None}, headers=admin).json()
    assert cleared["departure"] is None and cleared["mode"] == "low_cost"

    fresh = AppContext(core=SupervisorCore(SiteSettings()), storage=ctx.storage, data_dir=tmp_path,
                       version="test", simulated=True)
    with TestClient(create_app(fresh, web_dir=tmp_path / "none", options=TEST_OPTIONS)) as restarted:
        restarted.post(f"{API}/auth/login", json={"password": "correct horse battery"})
        again = restarted.get(f"{API}/stations/2").json()
    assert (again["name"], again["mode"], again["priority"], again["max_current_a"]) == ("Garage", "low_cost", 2, 16.0)


def test_pilot_actions_without_a_pilot_are_503(client: TestClient, admin: dict[str, str]) -> None:
    for path in ("/stations/1/clear-fault", "/stations/2/self-test"):
        answer = client.post(f"{API}{path}", headers=admin)
        assert answer.status_code == 503 and "pilot" in answer.json()["detail"]
    assert client.post(f"{API}/stations/1/clear-fault", json={"code": "x" * 65}, headers=admin).status_code == 422
    assert client.post(f"{API}/stations/5/clear-fault", headers=admin).status_code == 404
