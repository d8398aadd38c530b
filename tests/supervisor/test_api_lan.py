"""LAN security of the web app: the Host allowlist against DNS rebinding, the first-run setup
code, the login limits and the security headers, through the real app."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from starlette.testclient import WebSocketDenialResponse

from appliance.supervisor.api.app import WebOptions, create_app
from appliance.supervisor.api.guard import AllowedHosts, interface_addresses, normalize_host
from appliance.supervisor.app_context import AppContext
from appliance.system import setup_code
from tests.supervisor.conftest import API, PASSWORD, TEST_OPTIONS, setup_body

FOREIGN = ["evil.example", "evil.example:8080", "127.0.0.1.evil.example", "localhost.evil.example",
           "evse.local.evil.example", "", "[::2]:80", "10.255.255.254", "attacker@127.0.0.1"]


@pytest.mark.parametrize("host", FOREIGN)
def test_a_foreign_host_header_is_421_on_every_route(client: TestClient, host: str) -> None:
    for method, path, body in [("GET", f"{API}/status", None), ("POST", f"{API}/auth/setup", {"password": "x" * 12}),
                               ("POST", f"{API}/auth/login", {"password": "x" * 12}), ("GET", "/docs", None),
                               ("GET", "/openapi.json", None), ("GET", "/", None)]:
        answer = client.request(method, path, json=body, headers={"Host": host})
        assert answer.status_code == 421, (method, path, answer.text)
        assert "does not answer to" in answer.json()["detail"] and "--allowed-host" in answer.json()["detail"]
    assert client.get(f"{API}/auth/me").json()["password_set"] is False  # the setup above never ran


def test_a_foreign_host_cannot_open_the_websocket(client: TestClient, bearer) -> None:
    token = bearer("read")
    with pytest.raises(WebSocketDenialResponse) as refused:
        with client.websocket_connect(f"{API}/ws", headers={**token, "Host": "evil.example"}):
            pass
    assert refused.value.status_code == 421
    with client.websocket_connect(f"{API}/ws", headers=token) as ws:
        assert ws.receive_json()["type"] == "snapshot"


def _own_address() -> str:
    return next((a for a in sorted(interface_addresses()) if not a.startswith(("127.", "::1"))), "127.0.0.1")


@pytest.mark.parametrize("host", ["localhost", "localhost:8080", "127.0.0.1", "127.0.0.1:8080", "[::1]", "[::1]:8080",
                                  "LOCALHOST", "localhost.", "testserver", "testserver:443", "evse.example.org"])
def test_its_own_names_and_the_configured_ones_are_answered(ctx: AppContext, tmp_path: Path, host: str) -> None:
    app = create_app(ctx, web_dir=tmp_path / "none", options=WebOptions(allowed_hosts=("testserver", "EVSE.example.org")))
    with TestClient(app) as client:
        assert client.get(f"{API}/auth/me", headers={"Host": host}).status_code == 200


def test_the_hostname_and_interface_addresses_are_answered(client: TestClient) -> None:
    name = socket.gethostname().split(".")[0].lower()
    address = _own_address()
    shown = f"[{address}]" if ":" in address else address
    for host in (name, f"{name}.local", f"{name}.local:80", shown, f"{shown}:8080"):
        assert client.get(f"{API}/auth/me", headers={"Host": host}).status_code == 200, host


def test_testserver_is_refused_unless_configured(ctx: AppContext, tmp_path: Path) -> None:
    """No special case in the product: TestClient's default Host is refused like any other name."""
    with TestClient(create_app(ctx, web_dir=tmp_path / "none")) as client:
        answer = client.get(f"{API}/auth/me")
        assert answer.status_code == 421, answer.text
        assert client.get(f"{API}/auth/me", headers={"Host": "127.0.0.1:8080"}).status_code == 200


def test_a_new_address_is_found_without_a_restart() -> None:
    own = {"192.0.2.10"}
    now = [0.0]
    hosts = AllowedHosts((), own=lambda: set(own), clock=lambda: now[0])
    assert hosts.allows("192.0.2.10") and not hosts.allows("192.0.2.11")
    own.add("192.0.2.11")  # DHCP gave the appliance another address
    now[0] += 3.0
    assert hosts.allows("192.0.2.11:8080")
    own.discard("192.0.2.10")
    now[0] += 31.0
    assert not hosts.allows("192.0.2.10")


@pytest.mark.parametrize(("value", "expected"), [
    ("Evse.Local:80", "evse.local"), ("[::1]:8080", "::1"), ("[0:0::1]", "::1"), ("127.0.0.1:", "127.0.0.1"),
    ("host.", "host"), ("a b", None), ("[::1", None), ("[::1]x", None), ("host:port", None), ("", None),
    ("user@host", None), ("fe80::1", "fe80::1"),
])
def test_host_header_normalization(value: str, expected: str | None) -> None:
    assert normalize_host(value) == expected


# ---------------------------------------------------------------------------------- setup code
def _code(data_dir: Path) -> str:
    return (data_dir / setup_code.FILE_NAME).read_text().strip()


def test_setup_from_the_lan_needs_the_one_time_code(client: TestClient, ctx: AppContext) -> None:
    path = ctx.data_dir / setup_code.FILE_NAME
    assert path.stat().st_mode & 0o777 == 0o600
    code = _code(ctx.data_dir)
    assert len(code) == 9 and code[4] == "-" and set(code.replace("-", "")) <= set(setup_code.ALPHABET)
    me = client.get(f"{API}/auth/me").json()
    assert me["password_set"] is False and me["setup_code_required"] is True

    missing = client.post(f"{API}/auth/setup", json={"password": PASSWORD})
    assert missing.status_code == 403 and "setup code" in missing.json()["detail"]
    assert "evse-firstboot.txt" in missing.json()["detail"]
    wrong = client.post(f"{API}/auth/setup", json={"password": PASSWORD, "setup_code": "ABCD-EFGH"})
    assert wrong.status_code == 403 and "wrong setup code" in wrong.json()["detail"]
    assert client.get(f"{API}/auth/me").json()["password_set"] is False

    typed = code.lower().replace("-", " ")  # as a person types it off a screen
    done = client.post(f"{API}/auth/setup", json={"password": PASSWORD, "setup_code": typed})
    assert done.status_code == 200, done.text
    assert not path.exists()  # used once
    refused = [e for e in ctx.storage.audit.list().items if e.action == "auth.setup_refused"]
    assert len(refused) == 2 and refused[0].actor == "client testclient"


def test_wrong_setup_codes_are_rate_limited(client: TestClient, ctx: AppContext) -> None:
    statuses = [client.post(f"{API}/auth/setup", json={"password": PASSWORD, "setup_code": f"AAAA-AAA{c}"}).status_code
                for c in "ABCDEFGH"]
    assert statuses[:3] == [403, 403, 403] and 429 in statuses
    blocked = client.post(f"{API}/auth/setup", json=setup_body(ctx.data_dir))
    assert blocked.status_code == 429 and int(blocked.headers["retry-after"]) >= 1  # even the right code waits


def test_setup_from_loopback_needs_no_code(app) -> None:
    with TestClient(app, client=("127.0.0.1", 50000)) as local:
        assert local.get(f"{API}/auth/me").json()["setup_code_required"] is False
        assert local.post(f"{API}/auth/setup", json={"password": PASSWORD}).status_code == 200
    with TestClient(app, client=("::1", 50000)) as local6:
        assert local6.post(f"{API}/auth/setup", json={"password": PASSWORD}).status_code == 409


def test_the_code_survives_a_restart_and_goes_once_a_password_exists(ctx: AppContext, tmp_path: Path) -> None:
    create_app(ctx, web_dir=tmp_path / "none", options=TEST_OPTIONS)
    first = _code(ctx.data_dir)
    app = create_app(ctx, web_dir=tmp_path / "none", options=TEST_OPTIONS)
    assert _code(ctx.data_dir) == first  # the code on the boot partition stays valid
    with TestClient(app) as client:
        assert client.post(f"{API}/auth/setup", json=setup_body(ctx.data_dir)).status_code == 200
    (ctx.data_dir / setup_code.FILE_NAME).write_text(first)  # left behind by a crash
    create_app(ctx, web_dir=tmp_path / "none", options=TEST_OPTIONS)
    assert not (ctx.data_dir / setup_code.FILE_NAME).exists()


def test_setup_code_helpers() -> None:
    code = setup_code.new_code()
    assert len(code) == setup_code.LENGTH and not set(code) & set("01OIL")
    assert setup_code.matches(code, setup_code.shown(code).lower())
    assert not setup_code.matches(code, None) and not setup_code.matches(code, code[:-1])
