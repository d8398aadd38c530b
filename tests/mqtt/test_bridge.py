"""The bridge in the app on a real broker, without a pilot: discovery follows the station's name,
and read-only removes the controls and ignores commands."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from appliance.supervisor.api.app import create_app
from appliance.supervisor.app_context import AppContext
from tests.mqtt.conftest import Broker, Recorder
from tests.supervisor.conftest import API, TEST_OPTIONS, setup_body

BASE = "evse/bench"
MODE_CONFIG = "homeassistant/select/evse_bench/station1_mode/config"


@pytest.fixture
def running(ctx: AppContext, broker: Broker, tmp_path: Path) -> Iterator[tuple[TestClient, dict[str, str]]]:
    ctx.mqtt_url = broker.url
    ctx.storage.settings.set_value("supervisor.mqtt", {"base_topic": BASE}, 1.0)
    with TestClient(create_app(ctx, web_dir=tmp_path / "none", options=TEST_OPTIONS)) as client:
        setup = client.post(f"{API}/auth/setup", json=setup_body(ctx.data_dir))
        yield client, {"X-CSRF-Token": setup.json()["csrf_token"]}


def test_discovery_follows_a_rename_and_read_only_takes_no_commands(
        running: tuple[TestClient, dict[str, str]], recorder: Callable[[], Recorder], ctx: AppContext) -> None:
    client, admin = running
    watch = recorder()
    assert json.loads(watch.wait(MODE_CONFIG).payload)["device"]["name"] == "Station 1"
    assert client.get(f"{API}/mqtt").json()["link"]["state"] == "connected"

    mark = watch.mark()
    assert client.patch(f"{API}/stations/1", json={"name": "Garage"}, headers=admin).status_code == 200
    watch.wait(MODE_CONFIG, lambda v: json.loads(v)["device"]["name"] == "Garage", after=mark, timeout=5)
    watch.wait(f"{BASE}/station/1/mode", after=mark, timeout=12)

    mark = watch.mark()
    answer = client.put(f"{API}/mqtt", json={"read_only": True}, headers=admin)
    assert answer.status_code == 200 and answer.json()["read_only"] is True
    watch.wait(MODE_CONFIG, lambda v: v == "", after=mark, timeout=10)  # the select is gone
    watch.wait(f"{BASE}/availability", lambda v: v == "online", after=mark)
    watch.publish(f"{BASE}/station/1/mode/set", "off")
    time.sleep(1.5)
    assert ctx.core.settings.station(1).mode == "on"
    assert watch.last(f"{BASE}/error") is None
    assert [e.actor for e in ctx.storage.audit.list().items if e.actor == "mqtt"] == []
