"""Auth over HTTP: first-run setup, login with cookie and CSRF, tokens and scopes, backoff,
read-only mode, and the audit log naming who did what."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

from fastapi.testclient import TestClient

from tests.supervisor.conftest import API, PASSWORD, setup_body


def test_first_run_setup_then_login_cookie_and_csrf(client: TestClient, anonymous: TestClient, ctx) -> None:
    me = client.get(f"{API}/auth/me").json()
    assert me["authenticated"] is False and me["password_set"] is False
    assert client.post(f"{API}/auth/login", json={"password": PASSWORD}).status_code == 409  # nothing to log in to
    assert client.post(f"{API}/auth/setup", json=setup_body(ctx.data_dir, "short")).status_code == 422

    setup = client.post(f"{API}/auth/setup", json=setup_body(ctx.data_dir))
    assert setup.status_code == 200
    again = anonymous.post(f"{API}/auth/setup", json={"password": "an attacker's password"})
    assert again.status_code == 409 and "set already" in again.json()["detail"]

    login = anonymous.post(f"{API}/auth/login", json={"password": PASSWORD})
    assert login.status_code == 200
    cookie = login.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "secure" not in cookie  # plain http here
    csrf = login.json()["csrf_token"]
    me = anonymous.get(f"{API}/auth/me").json()
    assert me["authenticated"] and me["kind"] == "user" and me["scope"] == "admin" and me["csrf_token"] == csrf

    missing = anonymous.patch(f"{API}/stations/1", json={"mode": "off"})
    assert missing.status_code == 403 and "X-CSRF-Token" in missing.json()["detail"]
    wrong = anonymous.patch(f"{API}/stations/1", json={"mode": "off"}, headers={"X-CSRF-Token": csrf[:-1] + "x"})
    assert wrong.status_code == 403
    ok = anonymous.patch(f"{API}/stations/1", json={"mode": "off"}, headers={"X-CSRF-Token": csrf})
    assert ok.status_code == 200 and ok.json()["mode"] == "off"

    assert anonymous.post(f"{API}/auth/logout").status_code == 403  # logout needs the CSRF token too
    assert anonymous.post(f"{API}/auth/logout", headers={"X-CSRF-Token": csrf}).status_code == 204
    assert anonymous.get(f"{API}/status").status_code == 401


def test_cookie_is_secure_over_https(app, client: TestClient, admin: dict[str, str]) -> None:
    with TestClient(app, base_url="https://testserver") as https:
        answer = https.post(f"{API}/auth/login", json={"password": PASSWORD})
        assert "secure" in answer.headers["set-cookie"].lower()


def test_unauthenticated_control_is_401_and_reads_too_by_default(anonymous: TestClient, admin) -> None:
    for method, path, body in [("PATCH", "/stations/1", {"mode": "off"}), ("PUT", "/site", {"line_limit_a": 20}),
                               ("PUT", "/prices", {"slots": [{"start": 0, "end": 3600, "price": 0.3}]}),
                               ("POST", "/meter", {"grid_w": 100}), ("POST", "/stations/1/clear-fault", {}),
                               ("POST", "/tokens", {"name": "x", "scope": "admin"}), ("DELETE", "/tokens/abc", None),
                               ("POST", "/system/update", None)]:
        answer = anonymous.request(method, f"{API}{path}", json=body)
        assert answer.status_code == 401, (method, path, answer.text)
        assert answer.headers["www-authenticate"] == "Bearer"
    for path in ("/status", "/stations", "/sessions", "/telemetry", "/events", "/site", "/prices", "/logs", "/system"):
        assert anonymous.get(f"{API}{path}").status_code == 401, path


def test_token_scopes(anonymous: TestClient, bearer) -> None:
    read, control, admin_token = bearer("read"), bearer("control"), bearer("admin")
    assert anonymous.get(f"{API}/stations/1", headers=read).status_code == 200
    denied = anonymous.patch(f"{API}/stations/1", json={"priority": 5}, headers=read)
    assert denied.status_code == 403 and "'control' scope" in denied.json()["detail"]
    assert anonymous.patch(f"{API}/stations/1", json={"priority": 5}, headers=control).json()["priority"] == 5
    assert anonymous.put(f"{API}/site", json={"line_limit_a": 25}, headers=control).status_code == 403
    assert anonymous.put(f"{API}/site", json={"line_limit_a": 25}, headers=admin_token).status_code == 200
    assert anonymous.get(f"{API}/tokens", headers=control).status_code == 403
    service = anonymous.post(f"{API}/stations/1/clear-fault", json={"service": True}, headers=control)
    assert service.status_code == 403 and "admin" in service.json()["detail"]
    for bad in ("Bearer nonsense", "Bearer evse_000000000000_" + "0" * 64, "Basic abc", "Bearer "):
        answer = anonymous.get(f"{API}/status", headers={"Authorization": bad})
        assert answer.status_code == 401, bad


def test_tokens_are_shown_once_listed_without_secret_and_stored_hashed(
        client: TestClient, anonymous: TestClient, admin: dict[str, str], tmp_path: Path) -> None:
    created = client.post(f"{API}/tokens", json={"name": "wallbox display", "scope": "read"}, headers=admin)
    assert created.status_code == 201
    token = created.json()["token"]
    assert token.startswith(f"evse_{created.json()['id']}_")
    twin = client.post(f"{API}/tokens", json={"name": "wallbox display", "scope": "read"}, headers=admin)
    assert twin.status_code == 409
    listed = client.get(f"{API}/tokens").json()
    assert [t["name"] for t in listed] == ["wallbox display"] and "token" not in listed[0]
    assert token not in client.get(f"{API}/tokens").text

    auth = {"Authorization": f"Bearer {token}"}
    assert anonymous.get(f"{API}/status", headers=auth).status_code == 200
    assert client.get(f"{API}/tokens").json()[0]["last_used"] is not None

    with sqlite3.connect(tmp_path / "evse.db") as db:
        stored = db.execute("SELECT token_hash FROM api_tokens").fetchone()[0]
    assert stored == hashlib.sha256(token.encode()).hexdigest()
    secret = token.rsplit("_", 1)[1].encode()
    assert all(secret not in p.read_bytes() for p in tmp_path.glob("evse.db*"))

    assert client.delete(f"{API}/tokens/{created.json()['id']}", headers=admin).status_code == 204
    assert anonymous.get(f"{API}/status", headers=auth).status_code == 401
    assert client.delete(f"{API}/tokens/nope", headers=admin).status_code == 404
    assert client.get(f"{API}/tokens").json() == []


def test_login_backoff_answers_429_with_retry_after(client: TestClient, anonymous: TestClient, admin) -> None:
    statuses = [anonymous.post(f"{API}/auth/login", json={"password": "wrong password!"}).status_code
                for _ in range(4)]
    assert statuses[:3] == [401, 401, 401] and statuses[3] == 429
    blocked = anonymous.post(f"{API}/auth/login", json={"password": PASSWORD})
    assert blocked.status_code == 429 and int(blocked.headers["retry-after"]) >= 1  # even the right one, for now


def test_password_change(client: TestClient, anonymous: TestClient, admin: dict[str, str]) -> None:
    wrong = client.post(f"{API}/auth/password", json={"current": "not it at all", "new": "a new password"},
                        headers=admin)
    assert wrong.status_code == 403
    short = client.post(f"{API}/auth/password", json={"current": PASSWORD, "new": "tiny"}, headers=admin)
    assert short.status_code == 422 and "characters" in short.json()["detail"]
    assert client.post(f"{API}/auth/password", json={"current": PASSWORD, "new": "a new password"},
                       headers=admin).status_code == 204
    assert anonymous.post(f"{API}/auth/login", json={"password": "a new password"}).status_code == 200


def test_read_only_without_login(client: TestClient, anonymous: TestClient, admin: dict[str, str]) -> None:
    assert anonymous.get(f"{API}/status").status_code == 401
    assert client.put(f"{API}/site", json={"read_only_without_login": True}, headers=admin).status_code == 200
    assert anonymous.get(f"{API}/status").status_code == 200
    assert anonymous.get(f"{API}/auth/me").json()["scope"] == "read"
    assert anonymous.patch(f"{API}/stations/1", json={"mode": "off"}).status_code == 401
    assert anonymous.get(f"{API}/tokens").status_code == 401  # admin reads still need a login
    assert anonymous.get(f"{API}/audit").status_code == 401
    with anonymous.websocket_connect(f"{API}/ws") as ws:
        assert ws.receive_json()["type"] == "snapshot"


def test_every_control_action_is_audited_with_its_actor(client: TestClient, anonymous: TestClient, admin,
                                                        bearer) -> None:
    control = bearer("control")
    client.patch(f"{API}/stations/2", json={"mode": "solar"}, headers=admin)
    anonymous.patch(f"{API}/stations/1", json={"priority": 3}, headers=control)
    client.put(f"{API}/prices", json={"slots": [{"start": 0, "end": 3600, "price": 0.2}]}, headers=admin)
    anonymous.post(f"{API}/auth/login", json={"password": "wrong password!"})
    entries = client.get(f"{API}/audit").json()["items"]
    seen = [(e["actor"], e["action"], e["target"]) for e in reversed(entries)]
    assert ("admin", "auth.setup", "admin") in seen
    assert ("admin", "station.update", "station/2") in seen
    assert ("token:control device 1", "station.update", "station/1") in seen
    assert ("admin", "prices.replace", "prices") in seen
    assert any(actor == "admin" and action == "token.create" for actor, action, _ in seen)
    assert any(action == "auth.login_failed" for _, action, _ in seen)
    patch = next(e for e in entries if e["target"] == "station/2")
    assert patch["details"] == {"mode": "solar"}
