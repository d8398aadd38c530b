"""Input hardening over HTTP: meter readings only near the supervisor's clock, names without
control or bidi characters, the price-source URL's secrets for admins only."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from appliance.supervisor.api import persist
from appliance.supervisor.api.app import create_app
from appliance.supervisor.app_context import AppContext
from tests.supervisor.conftest import API, TEST_OPTIONS


@pytest.mark.parametrize("offset", [-61.0, 61.0, 1e308])
def test_meter_reading_far_from_now_is_422(client: TestClient, bearer, ctx: AppContext, offset: float) -> None:
    t = offset if offset > 1e300 else ctx.clock() + offset
    answer = client.post(f"{API}/meter", json={"t": t, "grid_w": 100}, headers=bearer("control"))
    assert answer.status_code == 422, answer.text
    assert "within 60 s of the appliance's clock" in answer.text
    assert ctx.core.grid is None or ctx.core.grid.t != t


def test_meter_reading_near_now_is_taken(client: TestClient, bearer, ctx: AppContext) -> None:
    t = ctx.clock() - 30
    answer = client.post(f"{API}/meter", json={"t": t, "grid_w": 300}, headers=bearer("control"))
    assert answer.status_code == 200, answer.text
    assert ctx.core.grid.t == t


BAD_NAMES = ["bad\x00name", "tab\there", "line\nbreak", "evil\u202egpj.exe", "iso\u2066late\u2069", "del\x7f",
             "c1\x85", "rlm\u200f", "sep\u2028"]


@pytest.mark.parametrize("name", BAD_NAMES)
def test_station_name_with_control_characters_is_422(client: TestClient, admin, name: str) -> None:
    answer = client.patch(f"{API}/stations/1", json={"name": name}, headers=admin)
    assert answer.status_code == 422, answer.text
    assert "control" in answer.text
    assert client.get(f"{API}/stations/1").json()["name"] != name


@pytest.mark.parametrize("name", BAD_NAMES)
def test_token_name_with_control_characters_is_422(client: TestClient, admin, name: str) -> None:
    answer = client.post(f"{API}/tokens", json={"name": name, "scope": "read"}, headers=admin)
    assert answer.status_code == 422 and "control" in answer.text, answer.text
    assert all(t["name"] != name for t in client.get(f"{API}/tokens", headers=admin).json())


@pytest.mark.parametrize("name", ["Garage links", "Carport 🚗", "Einfahrt Süd", "👩‍👩‍👧 family"])
def test_ordinary_station_names_are_kept(client: TestClient, admin, name: str) -> None:
    answer = client.patch(f"{API}/stations/1", json={"name": name}, headers=admin)
    assert answer.status_code == 200 and answer.json()["name"] == name


SECRET_URL = "http://owner:s3cret@127.0.0.1:9/feed?token=abc123#frag"  # port 9: refused at once


def test_readers_see_the_price_source_url_without_its_credentials(client: TestClient, admin, bearer, ctx: AppContext,
                                                                  caplog: pytest.LogCaptureFixture) -> None:
    source = {"kind": "url", "url": SECRET_URL}
    assert client.put(f"{API}/site", json={"price_source": source}, headers=admin).status_code == 200
    reader, control = bearer("read"), bearer("control")

    for who in (reader, control):
        site = client.get(f"{API}/site", headers=who).json()
        prices = client.get(f"{API}/prices", headers=who).json()
        for shown in (site["price_source"]["url"], prices["source"]["url"]):
            assert shown == "http://127.0.0.1:9/feed", shown
    assert "s3cret" in client.get(f"{API}/site", headers=bearer("admin")).json()["price_source"]["url"]
    assert "abc123" in client.get(f"{API}/site").json()["price_source"]["url"]  # the admin's own session edits it

    secrets = ("s3cret", "abc123", "owner")
    audited = str([e.details for e in ctx.storage.audit.list().items])
    assert "127.0.0.1:9/feed" in audited and not any(s in audited for s in secrets), audited
    assert not any(s in caplog.text for s in secrets), caplog.text
    assert not any(s in str(e) for e in ctx.storage.events.list().items for s in secrets)


def test_a_name_saved_before_the_check_does_not_lose_the_saved_site(ctx: AppContext, tmp_path: Path) -> None:
    saved = ctx.core.settings.model_dump(mode="json")
    saved["line_limit_a"] = 20.0
    saved["stations"][0]["name"] = "old\tname"
    ctx.storage.settings.set_value(persist.SITE_KEY, saved, ctx.clock())
    with TestClient(create_app(ctx, web_dir=tmp_path / "no-web-ui", options=TEST_OPTIONS)):  # restored at start-up
        assert ctx.core.settings.line_limit_a == 20.0 and ctx.core.settings.station(1).name == "old\tname"
