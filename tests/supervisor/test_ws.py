"""The live WebSocket: snapshot on connect, state and fault events at once, a snapshot every
second and after control actions, auth and origin checks, and slow clients dropped."""

from __future__ import annotations

import asyncio
import math
import time
from typing import Any

import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from appliance.supervisor.api.hub import Hub, encode
from appliance.supervisor.app_context import AppContext
from tests.pilot_messages import event, telemetry
from tests.supervisor.conftest import API

WS = f"{API}/ws"


def _next(ws: Any, kind: str, limit: int = 20) -> dict[str, Any]:
    for _ in range(limit):
        message = ws.receive_json()
        if message["type"] == kind:
            return message
    raise AssertionError(f"no {kind} message in {limit}")


def test_snapshot_on_connect_then_events_at_once(client: TestClient, admin, ctx: AppContext) -> None:
    with client.websocket_connect(WS) as ws:
        first = ws.receive_json()
        assert first["type"] == "snapshot" and [s["id"] for s in first["data"]["stations"]] == [1, 2]
        assert first["data"] == {**ctx.core.snapshot(), "stations": first["data"]["stations"]}

        ctx.core.on_pilot_message(event("state", station=2, state="B", pilot="X2", cause={"from": "A", "to": "B"}),
                                  time.time())
        state = _next(ws, "state")
        assert state["event"]["cause"] == {"from": "A", "to": "B"} and state["station"]["state"] == "B"

        ctx.core.on_pilot_message(event("fault", station=1, code="RCD_DC", active=True, message="residual current"),
                                  time.time())
        fault = _next(ws, "fault")
        assert fault["event"]["code"] == "RCD_DC" and fault["station"]["id"] == 1


def test_snapshots_every_second_and_after_a_change(client: TestClient, admin: dict[str, str]) -> None:
    with client.websocket_connect(WS) as ws:
        ws.receive_json()
        started = time.monotonic()
        _next(ws, "snapshot")
        assert time.monotonic() - started < 1.5
        client.patch(f"{API}/stations/1", json={"mode": "solar"}, headers=admin)
        pushed = _next(ws, "snapshot")
        assert pushed["data"]["stations"][0]["mode"] == "solar"


def test_telemetry_is_not_forwarded_raw(client: TestClient, admin, ctx: AppContext) -> None:
    with client.websocket_connect(WS) as ws:
        ws.receive_json()
        ctx.core.on_pilot_message(telemetry(), time.time())
        assert ws.receive_json()["type"] == "snapshot"  # the periodic snapshot, not the raw frame


def test_websocket_needs_auth_and_this_origin(client: TestClient, admin, bearer, app) -> None:
    token = bearer("read")
    with client.websocket_connect(WS, headers={"Origin": "http://testserver"}) as ws:
        assert ws.receive_json()["type"] == "snapshot"
    with (
        pytest.raises(WebSocketDisconnect) as refused,
        client.websocket_connect(WS, headers={"Origin": "http://evil.example"}) as ws,
    ):
        ws.receive_json()
    assert refused.value.code == 1008
    with TestClient(app) as stranger:
        with pytest.raises(WebSocketDisconnect) as anonymous, stranger.websocket_connect(WS) as ws:
            ws.receive_json()
        assert anonymous.value.code == 1008
        with stranger.websocket_connect(WS, headers=token) as ws:
            assert ws.receive_json()["type"] == "snapshot"


def test_a_client_that_falls_behind_is_closed_and_can_come_back(client: TestClient, admin, app) -> None:
    hub: Hub = app.state.ctx.hub
    with client.websocket_connect(WS) as ws:
        ws.receive_json()
        # One burst on the server's loop: the client's sender gets no chance to drain in between.
        client.portal.call(lambda: [hub.publish({"type": "burst", "n": n}) for n in range(hub.queue_size + 10)])
        with pytest.raises(WebSocketDisconnect) as closed:
            while True:
                ws.receive_json()
        assert closed.value.code == 1013
    assert hub.dropped == 1 and not hub.clients
    with client.websocket_connect(WS) as ws:
        assert ws.receive_json()["type"] == "snapshot"


def test_hub_drops_only_the_slow_subscriber() -> None:
    async def scenario() -> tuple[int, int, bool, bool]:
        hub = Hub(queue_size=4)
        hub.bind(asyncio.get_running_loop())
        fast, slow = hub.subscribe(), hub.subscribe()
        got = 0
        for n in range(20):
            hub.publish({"n": n})
            while not fast.queue.empty():
                fast.queue.get_nowait()
                got += 1
        return got, hub.dropped, slow.overflowed.is_set(), slow in hub.clients

    got, dropped, overflowed, still_there = asyncio.run(scenario())
    assert (got, dropped, overflowed, still_there) == (20, 1, True, False)


def test_messages_are_strict_json() -> None:
    assert encode({"a": [1.5, math.nan, {"b": math.inf}]}) == '{"a":[1.5,null,{"b":null}]}'
