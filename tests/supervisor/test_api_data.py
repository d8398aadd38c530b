"""Data endpoints on real storage: sessions and their CSV export, prices, meter readings, the
site, telemetry and the journals; bad queries answer 4xx with a message."""

from __future__ import annotations

import csv
import io

import pytest
from fastapi.testclient import TestClient

from appliance.supervisor.app_context import AppContext
from appliance.supervisor.storage import RAW_RETENTION_DAYS, TelemetrySample
from tests.supervisor.conftest import API

T0 = 1_750_000_000.0  # 2025-06-15 15:06:40 UTC


def _sessions(ctx: AppContext) -> None:
    first = ctx.storage.sessions.open(1, T0, "on")
    ctx.storage.sessions.update(first, 12.3456, 11_040.0, 3.21)
    ctx.storage.sessions.close(first, T0 + 5400)
    second = ctx.storage.sessions.open(2, T0 + 7200, "solar")
    ctx.storage.sessions.update(second, 1.5, 4_100.0, None)


def test_sessions_json_and_csv_export(client: TestClient, admin, ctx: AppContext) -> None:
    _sessions(ctx)
    page = client.get(f"{API}/sessions").json()
    assert page["total"] == 2
    assert [(s["station"], s["open"]) for s in page["items"]] == [(2, True), (1, False)]  # newest first
    assert client.get(f"{API}/sessions", params={"station": 1}).json()["total"] == 1

    export = client.get(f"{API}/sessions.csv")
    assert export.status_code == 200 and export.headers["content-type"].startswith("text/csv")
    assert "attachment" in export.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(export.text)))
    assert rows[0] == {"id": "1", "station": "1", "start": "2025-06-15T15:06:40+00:00",
                       "end": "2025-06-15T16:36:40+00:00", "energy_kwh": "12.346", "peak_kw": "11.04", "cost": "3.21",
                       "mode": "on"}
    assert rows[1]["end"] == "" and rows[1]["cost"] == "" and rows[1]["mode"] == "solar"
    same = client.get(f"{API}/sessions", params={"format": "csv", "station": 2})
    assert [r["station"] for r in csv.DictReader(io.StringIO(same.text))] == ["2"]
    for bad in ({"station": 0}, {"start": -1}, {"limit": 0}, {"format": "xml"}, {"start": "inf"}):
        assert client.get(f"{API}/sessions", params=bad).status_code == 422, bad
    assert client.get(f"{API}/sessions.csv", params={"start": "inf"}).status_code == 422


def test_prices_round_trip_into_the_core(client: TestClient, admin: dict[str, str], ctx: AppContext) -> None:
    now = ctx.clock()
    hour = 3600 * (int(now) // 3600)
    slots = [{"start": hour + i * 3600, "end": hour + (i + 1) * 3600, "price": p}
             for i, p in enumerate([0.31, 0.12, 0.2])]
    put = client.put(f"{API}/prices", json={"slots": slots[::-1]}, headers=admin)
    assert put.status_code == 200 and put.json()["stored"] == 3
    assert client.get(f"{API}/prices").json()["slots"] == [{**s, "start": float(s["start"]), "end": float(s["end"])}
                                                          for s in slots]
    assert ctx.core.price_at(hour + 3700) == 0.12

    replaced = client.put(f"{API}/prices", json={"slots": [{"start": hour + 3600, "end": hour + 7200, "price": 0.05}]},
                          headers=admin)
    assert replaced.status_code == 200
    assert [s["price"] for s in client.get(f"{API}/prices").json()["slots"]] == [0.31, 0.05, 0.2]
    assert ctx.core.price_at(hour + 3700) == 0.05
    cleared = client.put(f"{API}/prices", json={"slots": [], "start": hour, "end": hour + 3 * 3600}, headers=admin)
    assert cleared.status_code == 200 and client.get(f"{API}/prices").json()["slots"] == []
    assert ctx.core.price_at(hour + 3700) is None


@pytest.mark.parametrize("body, message", [
    ({"slots": [{"start": 10, "end": 5, "price": 1}]}, "must be after its start"),
    ({"slots": [{"start": 0, "end": 3600, "price": 1}, {"start": 1800, "end": 5400, "price": 1}]}, "overlap"),
    ({"slots": []}, "give slots, or start and end"),
    ({"slots": [{"start": 0, "end": 3600, "price": 1}], "start": 100}, "within"),
    ({"slots": [{"start": 0, "end": 3600}]}, "Field required"),
    ({"slots": [{"start": 0, "end": 3600, "price": 1, "currency": "EUR"}]}, "Extra inputs"),
])
def test_bad_prices_are_422_with_a_reason(client: TestClient, admin: dict[str, str], body, message) -> None:
    answer = client.put(f"{API}/prices", json=body, headers=admin)
    assert answer.status_code == 422 and message in answer.text


def test_meter_readings_reach_the_core(client: TestClient, bearer, ctx: AppContext) -> None:
    control = bearer("control")
    then = ctx.clock() - 10
    per_phase = client.post(f"{API}/meter", json={"t": then, "grid_w": [1000, -200, 300.5]}, headers=control)
    assert per_phase.status_code == 200
    assert (ctx.core.grid.t, ctx.core.grid.power_w) == (then, (1000.0, -200.0, 300.5))
    client.post(f"{API}/meter", json={"grid_w": -3000}, headers=control)
    assert ctx.core.grid.power_w == (-1000.0, -1000.0, -1000.0) and ctx.core.grid.t > then
    client.post(f"{API}/meter", json={"house_w": 1200, "solar_w": 4200}, headers=control)
    assert ctx.core.grid.power_w == (-1000.0, -1000.0, -1000.0)
    for bad in ({}, {"solar_w": 100}, {"grid_w": [1, 2]}, {"grid_w": 1e9}, {"grid_w": "lots"}, {"t": -5, "grid_w": 0}):
        answer = client.post(f"{API}/meter", json=bad, headers=control)
        assert answer.status_code == 422, bad
    assert client.post(f"{API}/meter", json={"grid_w": 1}, headers=bearer("read")).status_code == 403


def test_site_update_is_validated_applied_and_persisted(client: TestClient, admin: dict[str, str],
                                                        ctx: AppContext) -> None:
    site = client.get(f"{API}/site").json()
    assert site["line_limit_a"] == 32 and [s["id"] for s in site["stations"]] == [1, 2]
    body = {"line_limit_a": 25, "price_threshold": 0.15, "telemetry_retention_days": 60,
            "stations": [{"id": 2, "rating_a": 16, "phase_rotation": [2, 3, 1]}]}
    changed = client.put(f"{API}/site", json=body, headers=admin)
    assert changed.status_code == 200, changed.text
    assert ctx.core.settings.line_limit_a == 25 and ctx.core.settings.price_threshold == 0.15
    two = ctx.core.settings.station(2)
    assert (two.rating_a, two.max_current_a, two.phase_rotation) == (16, 16, (2, 3, 1))  # the cap follows the rating
    assert ctx.core.settings.station(1).rating_a == 32
    assert client.get(f"{API}/site").json() == changed.json()
    assert ctx.storage.settings.get_value("supervisor.site")["line_limit_a"] == 25
    assert ctx.storage.settings.get(RAW_RETENTION_DAYS) == 60

    for bad, message in [({"line_limit_a": 5}, "greater than or equal to 6"), ({"line_limit_a": None}, "line_limit_a"),
                         ({"stations": [{"id": 1, "phase_rotation": [1, 1, 2]}]}, "permutation"),
                         ({"stations": [{"id": 3, "rating_a": 16}]}, "less than or equal to 2"),
                         ({"stations": [{"id": 1}, {"id": 1}]}, "only once"), ({"voltage_v": "high"}, "voltage_v"),
                         ({"mode": "on"}, "Extra inputs")]:
        answer = client.put(f"{API}/site", json=bad, headers=admin)
        assert answer.status_code == 422 and message in answer.text, (bad, answer.text)
    assert ctx.core.settings.line_limit_a == 25


def test_telemetry_events_faults_logs(client: TestClient, admin, ctx: AppContext) -> None:
    for i in range(120):
        ctx.storage.telemetry.add(TelemetrySample(T0 + i, 1, "C", "X2", 16.0, (16.0, 16.0, 16.0), (230.0, 230.0, 230.0),
                                                  (3680.0, 3680.0, 3680.0), 1000.0 + i * 3.07))
    ctx.storage.telemetry.flush()
    raw = client.get(f"{API}/telemetry", params={"start": T0, "end": T0 + 120, "station": 1}).json()
    assert raw["resolution"] == "raw" and len(raw["points"]) == 120 and raw["points"][0]["power_total_w_avg"] == 11040
    minutes = client.get(f"{API}/telemetry", params={"start": T0, "end": T0 + 120, "resolution": "minute"}).json()
    assert minutes["bucket_s"] == 60 and minutes["points"]
    too_fine = client.get(f"{API}/telemetry", params={"start": 0, "end": T0, "resolution": "raw"})
    assert too_fine.status_code == 422 and "use" in too_fine.json()["detail"]
    assert client.get(f"{API}/telemetry", params={"start": T0, "end": T0 - 1}).status_code == 422
    assert client.get(f"{API}/telemetry", params={"resolution": "weekly"}).status_code == 422
    daily = client.get(f"{API}/energy/daily", params={"start": T0 - 86400, "end": T0 + 86400, "tz": "Europe/Berlin"})
    assert daily.status_code == 200
    assert client.get(f"{API}/energy/daily", params={"tz": "Mars/Olympus"}).status_code == 422

    ctx.storage.events.add(T0, "decision", "waiting for cheap hours from 02:00", station=1)
    ctx.storage.faults.record(T0, 2, "RCD_DC", True, "residual current 6 mA DC")
    ctx.storage.pilot_logs.store([{"seq": 1, "t": 1.0, "level": "info", "station": 1, "message": "contactor closed"}])
    events = client.get(f"{API}/events", params={"kind": "decision"}).json()
    assert events["items"][0]["message"] == "waiting for cheap hours from 02:00"
    assert client.get(f"{API}/events", params={"kind": "Bad Kind"}).status_code == 422
    assert client.get(f"{API}/faults", params={"active": True}).json()["items"][0]["code"] == "RCD_DC"
    assert client.get(f"{API}/faults", params={"station": 1}).json()["total"] == 0
    assert client.get(f"{API}/logs").json()["items"][0]["message"] == "contactor closed"


def test_system_and_updates_not_in_this_build(client: TestClient, admin: dict[str, str]) -> None:
    info = client.get(f"{API}/system").json()
    assert info["simulated"] is True and info["hat"] == "simulated" and info["pilot_connected"] is False
    assert info["version"] and info["uptime_s"] >= 0 and info["updates_available"] is False
    answer = client.post(f"{API}/system/update", content=b"bundle", headers=admin)
    assert answer.status_code == 503 and answer.json()["detail"] == "updates not available in this build"
    assert client.get(f"{API}/system/update").status_code == 503


def test_oversized_bodies_and_unknown_paths(client: TestClient, admin: dict[str, str]) -> None:
    huge = client.put(f"{API}/prices", content=b"x" * (1024 * 1024 + 1),
                      headers={**admin, "content-type": "application/json"})
    assert huge.status_code == 413
    assert client.get(f"{API}/nothing-here").status_code == 404
    assert client.get("/", follow_redirects=False).headers["location"] == "/docs"
