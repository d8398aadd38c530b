"""Credentials that end must stop working everywhere: a password change ends the other browser
sessions, the first-boot password reset ends every session and token, and open WebSockets
are closed once the credential they were opened with is gone."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from appliance.supervisor.api.app import create_app
from appliance.supervisor.api.deps import SESSION_COOKIE
from appliance.supervisor.app_context import AppContext
from appliance.system.firstboot import HANDOVER_NAME
from appliance.system.passwords import hash_password
from tests.supervisor.conftest import API, PASSWORD, TEST_OPTIONS, setup_body

WS = f"{API}/ws"
NEW_PASSWORD = "a new and better one"
POLICY_VIOLATION = 1008


def _login(app: FastAPI) -> tuple[TestClient, dict[str, str]]:
    other = TestClient(app)
    answer = other.post(f"{API}/auth/login", json={"password": PASSWORD})
    assert answer.status_code == 200, answer.text
    return other, {"X-CSRF-Token": answer.json()["csrf_token"]}


def _closed_with(ws: Any, within_s: float = 10.0) -> int:
    """Reads the socket until the server closes it (snapshots keep coming every second until
    then, so a socket left open fails at the deadline); the close code."""
    deadline = time.monotonic() + within_s
    with pytest.raises(WebSocketDisconnect) as closed:
        while time.monotonic() < deadline:
            ws.receive_json()
    return closed.value.code


def test_password_change_ends_the_other_sessions_and_keeps_this_one(client: TestClient, admin, app) -> None:
    other, other_csrf = _login(app)
    assert other.patch(f"{API}/stations/1", json={"mode": "off"}, headers=other_csrf).status_code == 200

    changed = client.post(f"{API}/auth/password", json={"current": PASSWORD, "new": NEW_PASSWORD}, headers=admin)
    assert changed.status_code == 204, changed.text

    refused = other.patch(f"{API}/stations/1", json={"mode": "on"}, headers=other_csrf)
    assert refused.status_code == 401, refused.text
    assert other.get(f"{API}/auth/me").json()["authenticated"] is False
    kept = client.patch(f"{API}/stations/1", json={"mode": "on"}, headers=admin)
    assert kept.status_code == 200 and kept.json()["mode"] == "on"


def test_password_change_with_a_token_ends_every_browser_session(client: TestClient, admin, bearer, app) -> None:
    token = bearer("admin")
    with TestClient(app) as device:
        changed = device.post(f"{API}/auth/password", json={"current": PASSWORD, "new": NEW_PASSWORD}, headers=token)
        assert changed.status_code == 204, changed.text
        assert device.get(f"{API}/status", headers=token).status_code == 200  # a device's token is not a session
    assert client.get(f"{API}/auth/me").json()["authenticated"] is False


def test_first_boot_password_reset_ends_every_session_and_token(ctx: AppContext, tmp_path: Path) -> None:
    with TestClient(create_app(ctx, web_dir=tmp_path / "no-web-ui", options=TEST_OPTIONS)) as attacker:
        csrf = {"X-CSRF-Token": attacker.post(f"{API}/auth/setup", json=setup_body(tmp_path)).json()["csrf_token"]}
        token = attacker.post(f"{API}/tokens", json={"name": "backdoor", "scope": "admin"}, headers=csrf).json()
        cookies = dict(attacker.cookies)
    # The owner puts evse.toml with a new password on the card; evse-firstboot hands it over.
    (ctx.data_dir / HANDOVER_NAME).write_text(json.dumps({"admin_password_hash": hash_password(NEW_PASSWORD)}))

    with TestClient(create_app(ctx, web_dir=tmp_path / "no-web-ui", options=TEST_OPTIONS)) as after:
        assert not (ctx.data_dir / HANDOVER_NAME).exists()
        bearer = {"Authorization": f"Bearer {token['token']}"}
        assert after.get(f"{API}/status", headers=bearer).status_code == 401
        after.cookies.update(cookies)
        assert after.get(f"{API}/auth/me").json()["authenticated"] is False
        assert after.patch(f"{API}/stations/1", json={"mode": "off"}, headers=csrf).status_code == 401
        after.cookies.clear()
        assert after.post(f"{API}/auth/login", json={"password": PASSWORD}).status_code == 401
        owner = after.post(f"{API}/auth/login", json={"password": NEW_PASSWORD})
        assert owner.status_code == 200
        assert after.get(f"{API}/tokens", headers={"X-CSRF-Token": owner.json()["csrf_token"]}).json() == []
    assert "auth.reset" in [e.action for e in ctx.storage.audit.list().items]


def test_websocket_closes_when_its_token_is_revoked(client: TestClient, admin, bearer) -> None:
    token = bearer("read")
    token_id = token["Authorization"].split("_")[1]
    with client.websocket_connect(WS, headers=token) as ws:
        assert ws.receive_json()["type"] == "snapshot"
        assert client.delete(f"{API}/tokens/{token_id}", headers=admin).status_code == 204
        assert _closed_with(ws) == POLICY_VIOLATION


def test_websocket_closes_when_its_session_logs_out(client: TestClient, admin) -> None:
    with client.websocket_connect(WS) as ws:
        assert ws.receive_json()["type"] == "snapshot"
        assert client.post(f"{API}/auth/logout", headers=admin).status_code == 204
        assert _closed_with(ws) == POLICY_VIOLATION


def test_password_change_closes_the_other_sessions_websockets_only(client: TestClient, admin, app) -> None:
    other, _ = _login(app)
    mine = client.cookies[SESSION_COOKIE]
    # Both sockets on `client`: the live feed runs in its event loop (the other client has none).
    client.cookies.clear()
    client.cookies.set(SESSION_COOKIE, other.cookies[SESSION_COOKIE])
    with client.websocket_connect(WS) as theirs:
        client.cookies.clear()
        client.cookies.set(SESSION_COOKIE, mine)
        with client.websocket_connect(WS) as own:
            assert own.receive_json()["type"] == "snapshot" and theirs.receive_json()["type"] == "snapshot"
            client.post(f"{API}/auth/password", json={"current": PASSWORD, "new": NEW_PASSWORD}, headers=admin)
            assert _closed_with(theirs) == POLICY_VIOLATION
            for _ in range(3):  # seconds of snapshots after the other one was closed
                assert own.receive_json()["type"] == "snapshot"
