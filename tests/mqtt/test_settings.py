"""The MQTT setting: broker URLs, topics, the password kept apart, and the REST API on it."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from appliance.cli import main
from appliance.supervisor.app_context import AppContext
from appliance.supervisor.mqtt.discovery import station_configs
from appliance.supervisor.mqtt.settings import MqttSettings, default_base_topic, parse_url
from appliance.supervisor.mqtt.state import site_values, station_values
from appliance.supervisor.mqtt.topics import Topics
from tests.supervisor.conftest import API

MQTT = f"{API}/mqtt"


@pytest.mark.parametrize(("url", "expected"), [
    ("mqtt://broker.local", ("broker.local", 1883, False, None, None)),
    ("mqtts://ha:s3cr%40t@10.0.0.2", ("10.0.0.2", 8883, True, "ha", "s3cr@t")),
    ("mqtt://user@[fd00::1]:1884", ("fd00::1", 1884, False, "user", None)),
])
def test_broker_urls(url: str, expected: tuple) -> None:
    broker = parse_url(url)
    assert (broker.host, broker.port, broker.tls, broker.username, broker.password) == expected
    assert "s3cr" not in broker.url()


@pytest.mark.parametrize(("url", "complaint"), [
    ("http://broker", "scheme must be mqtt or mqtts"), ("mqtt://", "names no host"),
    ("mqtt://broker:99999", "not an MQTT URL"), ("mqtt://broker:0", "port 0"),
    ("mqtt://broker/evse", "no path"), ("broker:1883", "scheme"),
])
def test_bad_urls_say_what_is_wrong(url: str, complaint: str) -> None:
    with pytest.raises(ValueError, match=complaint):
        parse_url(url)


def test_the_command_line_refuses_a_bad_url(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["supervisor", "--mqtt-url", "mqtt://"])
    assert exit_.value.code == 2 and "names no host" in capsys.readouterr().err


def test_a_new_url_keeps_or_replaces_the_password() -> None:
    settings = MqttSettings(enabled=True).with_url("mqtt://ha:first@broker")
    assert (settings.url, settings.password) == ("mqtt://ha@broker:1883", "first")
    kept = settings.with_url("mqtts://ha@broker")
    assert kept.broker() is not None and kept.broker().password == "first" and kept.broker().tls
    assert default_base_topic().startswith("evse/") and "/" not in default_base_topic()[5:]


def test_read_only_subscribes_to_no_command_and_removes_the_controls() -> None:
    topics = Topics("evse/garage", "homeassistant")
    assert topics.subscriptions(read_only=True) == ("homeassistant/status",)
    assert "evse/garage/station/+/+/set" in topics.subscriptions(read_only=False)
    configs = dict(station_configs(topics, 1, "Garage", 16.0, "1.0", read_only=True))
    removed = {t for t, c in configs.items() if c is None}
    assert removed == {f"homeassistant/{c}/evse_garage/station1_{k}/config" for c, k in
                       [("select", "mode"), ("number", "max_current"), ("number", "priority"),
                        ("button", "clear_fault")]}
    assert configs["homeassistant/sensor/evse_garage/station1_power/config"]["name"] == "Power"


def test_state_values(ctx: AppContext) -> None:
    view = ctx.core.station_view(1)
    values = station_values({**view, "state": "C", "energy_wh": 12345.6, "power_total_w": 7360.04,
                             "faults": [{"code": "RcdTrip"}], "current_a": [10.0, 10.25, 0.0], "charging": True})
    assert values["vehicle_state"] == "C" and values["energy"] == "12.346" and values["power"] == "7360"
    assert (values["faults"], values["problem"], values["plugged"], values["charging"]) == ("RcdTrip", "ON", "ON", "ON")
    assert (values["current_l2"], values["mode"], values["enabled"], values["max_current"]) == \
        ("10.25", "on", "true", "32")
    site = site_values(ctx.core.snapshot())
    assert site["limit"] == ('{"active": false, "current_a": null, "per_phase_a": null, "cap_a": null, '
                             '"power_w": null, "expires_at": null, "source": null}')


def test_rest_setting_needs_admin_hides_the_password_and_is_audited(client: TestClient, admin: dict[str, str],
                                                                    ctx: AppContext) -> None:
    first = client.get(MQTT).json()
    assert (first["enabled"], first["url"], first["password_set"], first["link"]["state"]) == \
        (False, None, False, "stopped")
    put = client.put(MQTT, json={"url": "mqtt://ha:pw@127.0.0.1:1", "read_only": True, "enabled": False},
                     headers=admin)
    assert put.status_code == 200, put.text
    body = put.json()
    assert (body["url"], body["password_set"], body["read_only"]) == ("mqtt://ha@127.0.0.1:1", True, True)
    assert "pw" not in put.text and "pw" not in client.get(MQTT).text
    assert ctx.storage.settings.get_value("supervisor.mqtt")["password"] == "pw"
    entry = ctx.storage.audit.list().items[0]
    assert (entry.action, entry.details["password_set"]) == ("mqtt.update", True) and "pw" not in str(entry.details)
    cleared = client.put(MQTT, json={"password": ""}, headers=admin).json()
    assert cleared["password_set"] is False and cleared["url"] == "mqtt://ha@127.0.0.1:1"


@pytest.mark.parametrize(("body", "field", "complaint"), [
    ({"url": "http://broker"}, "url", "scheme must be mqtt"),
    ({"base_topic": "evse/#"}, "base_topic", "no wildcards"),
    ({"discovery_prefix": "/ha"}, "discovery_prefix", "no leading"),
    ({"enabled": True}, "url", "give the broker's URL"),
    ({"enable": True}, "enable", "Extra inputs"),
])
def test_bad_settings_are_a_422(client: TestClient, admin: dict[str, str], body: dict, field: str,
                                complaint: str) -> None:
    answer = client.put(MQTT, json=body, headers=admin)
    assert answer.status_code == 422
    assert any(e["loc"][-1] == field and complaint in e["msg"] for e in answer.json()["detail"]), answer.text
    assert client.get(MQTT).json()["enabled"] is False


def test_only_an_admin_changes_it(client: TestClient, admin: dict[str, str], bearer) -> None:
    control = bearer("control")
    assert client.put(MQTT, json={"read_only": True}, headers=control).status_code == 403
    assert client.get(MQTT, headers=bearer("read")).status_code == 200
