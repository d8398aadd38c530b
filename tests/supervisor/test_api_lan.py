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
from tests.supervisor.conftest import API

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
