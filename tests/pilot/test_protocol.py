"""The pilot's command handler: every kind of bad input gets a clear error, nothing dies."""

from __future__ import annotations

import json
from typing import Any

import pytest

from appliance import protocol as p
from appliance.pilot.config import PilotConfig, StationConfig
from appliance.pilot.engine import PilotEngine
from appliance.pilot.service import PilotService


@pytest.fixture
def service() -> PilotService:
    engine = PilotEngine(
        PilotConfig(line_limit_a=32, stations=[StationConfig(id=1), StationConfig(id=2, max_current_a=16)])
    )
    return PilotService(engine, lambda: 1.0, simulated=True)


@pytest.mark.parametrize(
    ("line", "code", "words"),
    [
        (b"{not json", "bad_json", "not JSON"),
        (b"\xff\xfe", "bad_json", "not JSON"),
        (b"[1, 2]", "bad_request", "JSON object"),
        (b'"set"', "bad_request", "JSON object"),
        (b'{"cmd": "explode"}', "unknown_command", "unknown cmd"),
        (b'{"id": 3}', "unknown_command", "unknown cmd"),
        (b'{"cmd": "set", "station": 1, "current_a": "lots", "allowed": true}', "bad_request", "current_a"),
        (b'{"cmd": "set", "station": 1, "allowed": true}', "bad_request", "current_a"),
        (b'{"cmd": "set", "station": 1, "current_a": 10, "allowed": true, "extra": 1}', "bad_request", "extra"),
        (b'{"cmd": "set", "station": 1, "current_a": NaN, "allowed": true}', "bad_request", "current_a"),
        (b'{"cmd": "heartbeat", "v": "2"}', "bad_request", "v"),
        (b'{"cmd": "heartbeat", "v": 1}', "unsupported_version", "version 1 is not spoken here"),
        (
            b'{"cmd": "set", "v": 3, "station": 1, "current_a": 10, "allowed": true}',
            "unsupported_version",
            "speaks version 2",
        ),
        (b'{"cmd": "hello", "versions": [1]}', "unsupported_version", "update the supervisor and the pilot together"),
        (b'{"cmd": "hello", "versions": "all"}', "bad_request", "versions"),
        (b'{"cmd": "fetch_logs", "limit": 0}', "bad_request", "limit"),
    ],
)
def test_malformed_commands_get_an_error_reply(service: PilotService, line: bytes, code: str, words: str) -> None:
    reply = service.handle_line(line)
    assert reply["ok"] is False and reply["error"]["code"] == code
    assert words in reply["error"]["message"]


@pytest.mark.parametrize(
    ("command", "words"),
    [
        ({"cmd": "set", "station": 3, "current_a": 10, "allowed": True}, "unknown station 3"),
        ({"cmd": "set", "station": 1, "current_a": 40, "allowed": True}, "rating of 32 A"),
        ({"cmd": "set", "station": 2, "current_a": 20, "allowed": True}, "rating of 16 A"),
        ({"cmd": "set", "station": 1, "current_a": 4, "allowed": True}, "below the 6 A minimum"),
        ({"cmd": "set", "station": 1, "current_a": -1, "allowed": True}, "not a current"),
        ({"cmd": "set_line_limit", "line_limit_a": 40}, "installation's line limit of 32 A"),
        ({"cmd": "clear_fault", "station": 1, "code": "Gremlins"}, "unknown fault code"),
    ],
)
def test_commands_that_break_a_limit_are_rejected_with_the_reason(
    service: PilotService, command: dict, words: str
) -> None:
    reply = service.handle({"id": 9, **command})
    assert reply["ok"] is False and reply["id"] == 9 and reply["error"]["code"] == "rejected"
    assert words in reply["error"]["message"]


def test_the_line_limit_holds_across_stations_decrease_first(service: PilotService) -> None:
    assert service.handle({"cmd": "set", "station": 1, "current_a": 32, "allowed": True})["ok"]
    refused = service.handle({"cmd": "set", "station": 2, "current_a": 10, "allowed": True})
    assert not refused["ok"] and "lower the other station first" in refused["error"]["message"]
    assert service.handle({"cmd": "set", "station": 1, "current_a": 22, "allowed": True})["ok"]
    assert service.handle({"cmd": "set", "station": 2, "current_a": 10, "allowed": True})["ok"]
    # pausing a station frees its share
    assert service.handle({"cmd": "set", "station": 1, "current_a": 0, "allowed": False})["ok"]
    assert service.handle({"cmd": "set", "station": 2, "current_a": 16, "allowed": True})["ok"]


def test_lowering_the_line_limit_shrinks_allocations_at_once(service: PilotService) -> None:
    service.handle({"cmd": "set", "station": 1, "current_a": 16, "allowed": True})
    service.handle({"cmd": "set", "station": 2, "current_a": 16, "allowed": True})
    assert service.handle({"cmd": "set_line_limit", "line_limit_a": 20})["ok"]
    snap = service.handle({"cmd": "get_all"})
    total = sum(s["requested_a"] for s in snap["stations"].values())
    assert total <= 20


def test_hello_get_all_and_logs(service: PilotService) -> None:
    hello = service.handle({"cmd": "hello", "client": "test", "id": "a"})
    assert (
        hello["ok"]
        and hello["id"] == "a"
        and hello["protocol"] == 2
        and hello["v"] == 2
        and len(hello["stations"]) == 2
    )
    snap = service.handle({"cmd": "get_all"})
    assert set(snap["stations"]) == {"1", "2"} and snap["stations"]["1"]["state"] == "A"
    logs = service.handle({"cmd": "fetch_logs", "since": 0})
    assert logs["ok"] and logs["last_seq"] >= 1 and logs["entries"][0]["message"] == "supervisor connected"
    json.dumps(snap)  # everything the pilot sends is plain JSON


def test_hello_says_the_line_is_checked_per_phase_and_the_snapshot_says_where(service: PilotService) -> None:
    assert service.handle({"cmd": "hello"})["line_check"] == "per_phase"
    snap = service.handle({"cmd": "get_all"})
    assert [snap["stations"][k]["line_phases"] for k in ("1", "2")] == [[1, 2, 3], [1, 2, 3]]  # no car has drawn yet
    service.handle({"cmd": "set", "station": 1, "current_a": 30, "allowed": True})
    refused = service.handle({"cmd": "set", "station": 2, "current_a": 6, "allowed": True})
    assert "6 A on line phase L1 with 30 A already allocated there" in refused["error"]["message"]


def test_hello_negotiates_a_version_both_sides_speak(service: PilotService) -> None:
    hello = service.handle({"cmd": "hello", "versions": [1, 2, 7]})
    assert hello["ok"] and hello["protocol"] == 2 and hello["versions"] == [2]
    old = service.handle({"v": 1, "cmd": "hello", "client": "supervisor 0.1"})
    assert old["ok"] is False and old["error"]["code"] == "unsupported_version"
    assert "protocol version 1" in old["error"]["message"] and "speaks version 2" in old["error"]["message"]


def test_every_reply_and_event_parses_into_the_shared_models(service: PilotService) -> None:
    """What the pilot sends, the supervisor reads with the same models: nothing is lost on the way."""
    commands: list[p.BaseCommand[Any]] = [
        p.Hello(client="t"), p.Heartbeat(), p.SetCurrent(station=1, current_a=16, allowed=True),
        p.SetLineLimit(line_limit_a=30), p.GetAll(), p.ClearFault(station=1), p.FetchLogs(), p.SelfTest(station=2),
    ]
    for command in commands:
        wire = json.loads(json.dumps(service.handle(command.model_copy(update={"id": 5}).wire())))
        reply = command.reply_type.model_validate(wire)
        assert reply.id == 5 and reply.model_dump(mode="json", by_alias=True) == wire
    telemetry = p.EVENT.validate_python(json.loads(json.dumps(service.telemetry())))
    assert isinstance(telemetry, p.TelemetryEvent) and telemetry.stations[1].requested_a == 16
    assert telemetry.line_limit_a == 30 and telemetry.stations[2].max_current_a == 16
