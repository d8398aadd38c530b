"""MQTT commands against a real core and storage: applied as REST would apply them, audited as
`mqtt`, refused with an error message and no change at all when REST would refuse them too."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from appliance.supervisor.app_context import AppContext
from appliance.supervisor.mqtt.commands import CommandHandler
from appliance.supervisor.mqtt.topics import Topics
from tests.supervisor.conftest import API

BASE = "evse/test"
NOW = 1_800_000_000.0


class Sent:
    def __init__(self) -> None:
        self.messages: list[tuple[str, str, bool]] = []
        self.applied = 0

    def publish(self, topic: str, payload: str, retain: bool) -> None:
        self.messages.append((topic, payload, retain))

    def errors(self) -> list[dict[str, Any]]:
        return [json.loads(p) for t, p, _ in self.messages if t == f"{BASE}/error"]


@pytest.fixture
def sent() -> Sent:
    return Sent()


@pytest.fixture
def handler(ctx: AppContext, sent: Sent) -> CommandHandler:
    ctx.clock = lambda: NOW

    def applied() -> None:
        sent.applied += 1

    return CommandHandler(ctx, Topics(BASE, "homeassistant"), applied, sent.publish)


def _send(handler: CommandHandler, topic: str, payload: str | bytes) -> None:
    data = payload if isinstance(payload, bytes) else payload.encode()
    asyncio.run(handler.handle(f"{BASE}/{topic}", data))


def _audit(ctx: AppContext) -> list[tuple[str, str, str | None, Any]]:
    return [(e.actor, e.action, e.target, e.details) for e in ctx.storage.audit.list().items]


def test_station_settings_are_applied_saved_and_audited(ctx: AppContext, handler: CommandHandler, sent: Sent) -> None:
    _send(handler, "station/1/mode/set", "solar")
    _send(handler, "station/2/max_current/set", "16.5")
    _send(handler, "station/2/priority/set", '"-5"')
    _send(handler, "station/1/enable/set", "false")
    stations = {s.id: s for s in ctx.core.settings.stations}
    assert (stations[1].mode, stations[2].max_current_a, stations[2].priority) == ("off", 16.5, -5)
    _send(handler, "station/1/enable/set", "ON")
    _send(handler, "station/2/mode/set", "min_solar")
    _send(handler, "station/2/enable/set", "true")  # already enabled: the mode stays
    assert [s.mode for s in ctx.core.settings.stations] == ["on", "min_solar"]
    assert sent.errors() == [] and sent.applied == 7
    saved = ctx.storage.settings.get_value("supervisor.site")
    assert [s["mode"] for s in saved["stations"]] == ["on", "min_solar"]
    audit = _audit(ctx)
    assert {a[0] for a in audit} == {"mqtt"} and len(audit) == 6  # the no-change enable is no action
    assert ("mqtt", "station.update", "station/2", {"max_current_a": 16.5}) in audit


def test_site_limit_and_meter_readings(ctx: AppContext, handler: CommandHandler, sent: Sent) -> None:
    _send(handler, "site/limit/set", json.dumps({"current_a": [16, 16, 10], "power_w": 9000, "expires_in_s": 300}))
    limit = ctx.core.external_limit
    assert limit is not None and limit.source == "mqtt" and limit.current_a == (16, 16, 10)
    assert (limit.power_w, limit.expires_at) == (9000, NOW + 300)
    assert ctx.storage.settings.get_value("supervisor.external_limit")["source"] == "mqtt"
    _send(handler, "meter/set", json.dumps({"house_w": 1200, "solar_w": 4200}))
    assert ctx.core.grid is not None and ctx.core.grid.power_w == (-1000, -1000, -1000) and ctx.core.grid.t == NOW
    _send(handler, "site/limit/set", "clear")
    assert ctx.core.external_limit is None and sent.errors() == []
    assert [a[1] for a in _audit(ctx)] == ["site.limit.clear", "site.limit.set"]  # readings are data, not audited


@pytest.mark.parametrize(("topic", "payload", "complaint"), [
    ("station/1/max_current/set", "40", "exceeds the station rating of 32"),
    ("station/1/max_current/set", "5", "greater than or equal to 6"),
    ("station/1/max_current/set", "NaN", "finite number"),
    ("station/1/max_current/set", "sixteen", "max_current_a"),
    ("station/1/mode/set", "turbo", "'off', 'on', 'low_cost', 'solar' or 'min_solar'"),
    ("station/1/mode/set", "null", "mode"),
    ("station/1/priority/set", "5.5", "priority"),
    ("station/1/enable/set", "maybe", "enable takes true or false"),
    ("station/3/mode/set", "on", "no station 3"),
    ("station/x/mode/set", "on", "not a station number"),
    ("station/1/colour/set", "red", "no command 'colour'"),
    ("station/1/clear_fault/set", '{"service": true}', "needs an administrator"),
    ("station/1/clear_fault/set", "PRESS", "no pilot process is connected"),
    ("site/limit/set", '{"current_a": 16, "expires_at": 1}', "in the next 31 days"),
    ("site/limit/set", '{"expires_in_s": 60}', "give current_a, power_w or both"),
    ("site/limit/set", '{"current_a": 16', "Invalid JSON"),
    ("site/limit/set", '{"current_a": 16, "until": 5}', "Extra inputs are not permitted"),
    ("meter/set", '{"grid_w": 100, "t": 1}', "within 60 s"),
    ("meter/set", "", "Input should be an object"),
    ("station/1/mode/set", b"\xff\xfe", "not UTF-8"),
    ("station/1/mode/set", "x" * 70000, "larger than"),
])
def test_a_bad_command_changes_nothing_and_says_why(ctx: AppContext, handler: CommandHandler, sent: Sent,
                                                    topic: str, payload: str | bytes, complaint: str) -> None:
    before = ctx.core.settings.model_dump()
    _send(handler, topic, payload)
    assert ctx.core.settings.model_dump() == before
    assert ctx.core.external_limit is None and ctx.core.grid is None
    [error] = sent.errors()
    assert error["topic"] == f"{BASE}/{topic}" and complaint in error["error"], error
    assert sent.applied == 0 and all(not retain for _, _, retain in sent.messages)
    assert [a for a in _audit(ctx) if a[1] != "station.clear_fault"] == []


@pytest.mark.parametrize(("path", "body", "topic", "payload"), [
    ("/stations/1", {"max_current_a": 40}, "station/1/max_current/set", "40"),
    ("/stations/1", {"mode": "turbo"}, "station/1/mode/set", "turbo"),
    ("/site/limit", {"power_w": 9000, "expires_at": NOW - 1}, "site/limit/set", '{"power_w": 9000, "expires_at": 1}'),
    ("/meter", {"grid_w": 100, "t": NOW - 120}, "meter/set", json.dumps({"grid_w": 100, "t": NOW - 120})),
])
def test_rest_and_mqtt_refuse_alike(client: TestClient, admin: dict[str, str], ctx: AppContext,
                                    handler: CommandHandler, sent: Sent, path: str, body: dict, topic: str,
                                    payload: str) -> None:
    method = {"/stations/1": client.patch, "/site/limit": client.put, "/meter": client.post}[path]
    answer = method(f"{API}{path}", json=body, headers=admin)
    assert answer.status_code == 422
    _send(handler, topic, payload)
    [error] = sent.errors()
    rest = json.dumps(answer.json()["detail"])
    assert error["error"].split(": ")[-1][:30] in rest, (error, rest)
