"""LAN security of the web app: the Host allowlist against DNS rebinding, the first-run setup
code, the login limits and the security headers, through the real app."""

from __future__ import annotations

import asyncio
import re
import socket
import ssl
import threading
import time
from pathlib import Path

import httpx2 as httpx
import pytest
from fastapi.testclient import TestClient
from starlette.testclient import WebSocketDenialResponse

from appliance.supervisor.api.app import WebOptions, create_app
from appliance.supervisor.api.guard import AllowedHosts, interface_addresses, normalize_host
from appliance.supervisor.app_context import AppContext
from appliance.supervisor.auth import service
from appliance.supervisor.auth.backoff import GLOBAL_PER_MINUTE, LoginLimits
from appliance.supervisor.server import HEADER_TIMEOUT_S, KEEP_ALIVE_S, ServerOptions
from appliance.system import setup_code, tls
from tests.supervisor.conftest import API, PASSWORD, TEST_OPTIONS, setup_body
from tests.supervisor.live_server import port, serving

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
    with (pytest.raises(WebSocketDenialResponse) as refused,
          client.websocket_connect(f"{API}/ws", headers={**token, "Host": "evil.example"})):
        pass
    assert refused.value.status_code == 421
    with client.websocket_connect(f"{API}/ws", headers=token) as ws:
        assert ws.receive_json()["type"] == "snapshot"


def _own_address() -> str:
    return next((a for a in sorted(interface_addresses()) if not a.startswith(("127.", "::1"))), "127.0.0.1")


@pytest.mark.parametrize("host", ["localhost", "localhost:8080", "127.0.0.1", "127.0.0.1:8080", "[::1]", "[::1]:8080",
                                  "LOCALHOST", "localhost.", "testserver", "testserver:443", "evse.example.org"])
def test_its_own_names_and_the_configured_ones_are_answered(ctx: AppContext, tmp_path: Path, host: str) -> None:
    options = WebOptions(allowed_hosts=("testserver", "EVSE.example.org"))
    app = create_app(ctx, web_dir=tmp_path / "none", options=options)
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


# ---------------------------------------------------------------------------------- login limits
@pytest.fixture
def owner(app) -> None:
    """The password set, without a TestClient (its lifespan would run beside the real server's)."""
    app.state.ctx.auth.setup(PASSWORD)


def test_a_rotating_x_forwarded_for_neither_evades_the_backoff_nor_reaches_the_audit(app, ctx: AppContext,
                                                                                     owner) -> None:
    with serving(app) as server:
        base = f"http://127.0.0.1:{port(server)}{API}"
        statuses = []
        with httpx.Client() as http:
            for n in range(6):
                answer = http.post(f"{base}/auth/login", json={"password": "wrong password!"},
                                   headers={"X-Forwarded-For": f"198.51.100.{n}", "X-Real-IP": f"198.51.100.{n}",
                                            "Forwarded": f"for=198.51.100.{n}"})
                statuses.append(answer.status_code)
    assert statuses[:3] == [401, 401, 401] and set(statuses[3:]) == {429}, statuses
    failed = [e for e in ctx.storage.audit.list().items if e.action == "auth.login_failed"]
    assert [e.actor for e in failed] == ["client 127.0.0.1"] * 3
    assert "198.51.100" not in str([(e.actor, e.details) for e in ctx.storage.audit.list().items])


def test_a_configured_proxy_is_trusted(app, ctx: AppContext, owner) -> None:
    with serving(app, ServerOptions(forwarded_allow_ips="127.0.0.1")) as server, httpx.Client() as http:
        answer = http.post(f"http://127.0.0.1:{port(server)}{API}/auth/login", json={"password": "wrong password!"},
                           headers={"X-Forwarded-For": "198.51.100.7"})
    assert answer.status_code == 401
    assert ctx.storage.audit.list().items[0].actor == "client 198.51.100.7"


def test_parallel_guesses_hash_one_at_a_time_and_hit_the_global_limit(app, owner, monkeypatch) -> None:
    running = peak = hashes = 0
    guard = threading.Lock()
    real = service.verify_password

    def counted(stored: str, password: str) -> bool:
        nonlocal running, peak, hashes
        with guard:
            running += 1
            hashes += 1
            peak = max(peak, running)
        try:
            time.sleep(0.01)
            return real(stored, password)
        finally:
            with guard:
                running -= 1

    monkeypatch.setattr(service, "verify_password", counted)

    async def guess(n: int) -> httpx.Response:
        transport = httpx.ASGITransport(app=app, client=(f"10.1.{n // 250}.{n % 250 + 1}", 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            return await http.post(f"{API}/auth/login", json={"password": f"guess number {n}"})

    async def burst() -> list[httpx.Response]:
        return await asyncio.gather(*(guess(n) for n in range(40)))

    answers = asyncio.run(burst())
    codes = [a.status_code for a in answers]
    assert peak == 1, peak
    assert codes.count(401) == GLOBAL_PER_MINUTE == hashes and codes.count(429) == 40 - GLOBAL_PER_MINUTE
    assert all(int(a.headers["retry-after"]) >= 1 for a in answers if a.status_code == 429)
    # every client, new or not, now waits; the owner too, for at most a minute
    late = asyncio.run(guess(999))
    assert late.status_code == 429 and 1 <= int(late.headers["retry-after"]) <= 60
    assert hashes == GLOBAL_PER_MINUTE


def test_the_global_limit_forgets_after_a_minute_and_success_takes_the_attempt_back() -> None:
    now = [0.0]
    limits = LoginLimits(lambda: now[0], per_minute=3)
    for n in range(3):
        assert limits.retry_after(f"c{n}") == 0
        limits.attempt(f"c{n}")
    assert limits.retry_after("someone else") == 60
    limits.succeeded("c2")
    assert limits.retry_after("someone else") == 0
    limits.attempt("c3")
    now[0] = 59.5
    assert limits.retry_after("c9") == pytest.approx(0.5)
    now[0] = 60.0
    assert limits.retry_after("c9") == 0


# ---------------------------------------------------------------------------------- security headers
def _assert_security_headers(answer: httpx.Response) -> None:
    csp = answer.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp and "'unsafe-eval'" not in csp
    assert answer.headers["x-content-type-options"] == "nosniff"
    assert answer.headers["referrer-policy"] == "no-referrer"
    assert answer.headers["x-frame-options"] == "DENY"


def test_security_headers_on_every_answer(ctx: AppContext, tmp_path: Path, monkeypatch) -> None:
    web = tmp_path / "web"
    web.mkdir()
    (web / "index.html").write_text("<!doctype html><title>EVSE</title>")
    app = create_app(ctx, web_dir=web, options=TEST_OPTIONS)

    def broken() -> None:
        raise RuntimeError("a bug")

    app.add_api_route("/api/v1/broken", broken)
    app.router.routes.insert(0, app.router.routes.pop())  # before the UI's mount at /
    with TestClient(app, raise_server_exceptions=False) as client:
        answers = [client.get("/"), client.get("/index.html"), client.get(f"{API}/status"),
                   client.get(f"{API}/nope"), client.post(f"{API}/auth/login", json={}),
                   client.get(f"{API}/status", headers={"Host": "evil.example"}), client.get("/openapi.json"),
                   client.get(f"{API}/broken")]
        assert [a.status_code for a in answers] == [200, 200, 401, 404, 422, 421, 200, 500]
        for answer in answers:
            _assert_security_headers(answer)
        assert "style-src 'self';" in answers[0].headers["content-security-policy"] + ";"
        assert "'unsafe-inline'" not in answers[0].headers["content-security-policy"]


# ---------------------------------------------------------------------------------- idle and half-sent requests
def _closed_within(sock: socket.socket, deadline: float) -> float | None:
    """When the server closed `sock` (monotonic time), or None if it was still open at `deadline`."""
    sock.settimeout(max(0.01, deadline - time.monotonic()))
    try:
        while sock.recv(4096):
            pass
    except TimeoutError:
        return None
    except ConnectionResetError:
        pass
    return time.monotonic()


def test_idle_and_half_sent_connections_are_closed_and_the_server_stays_reachable(
        app, capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture) -> None:
    with serving(app) as server:
        assert (server.config.timeout_keep_alive, server.config.limit_concurrency) == (KEEP_ALIVE_S, 1000)
        address = ("127.0.0.1", port(server))
        idle = []
        opened = time.monotonic()
        for n in range(300):
            sock = socket.create_connection(address, timeout=5)
            if n % 3 == 1:
                sock.sendall(b"GET /api/v1/auth/me HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # never finished
            elif n % 3 == 2:
                sock.sendall(b"GE")
            idle.append(sock)
        answer = httpx.get(f"http://127.0.0.1:{port(server)}{API}/auth/me", timeout=5)
        assert answer.status_code == 200, answer.text  # reachable with 300 idle sockets open

        closed = [_closed_within(s, opened + HEADER_TIMEOUT_S + 3) for s in idle]
        assert None not in closed, f"{closed.count(None)} of 300 sockets still open"
        assert min(closed) - opened >= HEADER_TIMEOUT_S - 1  # not before the deadline
        for sock in idle:
            sock.close()

        kept = socket.create_connection(address, timeout=5)
        kept.sendall(b"GET /api/v1/auth/me HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        assert kept.recv(4096).startswith(b"HTTP/1.1 200")
        started = time.monotonic()
        end = _closed_within(kept, started + KEEP_ALIVE_S + 3)
        assert end is not None and end - started >= KEEP_ALIVE_S - 1  # the idle keep-alive goes after 5 s
        kept.close()
        assert httpx.get(f"http://127.0.0.1:{port(server)}{API}/auth/me", timeout=5).status_code == 200
    logged = capfd.readouterr().err + caplog.text
    assert "Traceback" not in logged and "ERROR" not in logged, logged[-3000:]


# ---------------------------------------------------------------------------------- /docs offline
def test_docs_use_only_same_origin_assets_and_they_are_served(client: TestClient) -> None:
    page = client.get("/docs")
    assert page.status_code == 200 and "text/html" in page.headers["content-type"]
    referenced = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert len(referenced) >= 4 and "<script>" not in page.text  # no inline script for the CSP to allow
    for url in referenced:
        assert url.startswith("/") and not url.startswith("//"), url
        assert client.get(url).status_code == 200, url
    assert "http" not in page.text.replace('"', " ").split("<body>")[1]
    bundle = client.get("/docs/assets/swagger-ui-bundle.js")
    assert len(bundle.content) > 500_000 and "javascript" in bundle.headers["content-type"]
    assert '"/openapi.json"' in client.get("/docs/init.js").text
    assert "'unsafe-inline'" in page.headers["content-security-policy"].split("style-src")[1]
    assert "script-src 'self';" in page.headers["content-security-policy"]


# ---------------------------------------------------------------------------------- HTTPS
def test_https_with_the_devices_own_certificate(ctx: AppContext, tmp_path: Path) -> None:
    certificate = tls.ensure_certificate(ctx.data_dir, "evse")
    assert (ctx.data_dir / tls.KEY_NAME).stat().st_mode & 0o777 == 0o600
    assert tls.ensure_certificate(ctx.data_dir, "evse") == certificate  # made once, kept
    options = WebOptions(tls_fingerprint=certificate.fingerprint, https_port=0)
    app = create_app(ctx, web_dir=tmp_path / "none", options=options)
    app.state.ctx.auth.setup(PASSWORD)
    verify = ssl.create_default_context(cafile=str(certificate.cert))
    with serving(app, tls=tls.server_context(certificate)) as server, httpx.Client(verify=verify) as http:
        base = f"https://127.0.0.1:{port(server, 1)}"
        login = http.post(f"{base}{API}/auth/login", json={"password": PASSWORD})
        assert login.status_code == 200 and "secure" in login.headers["set-cookie"].lower()
        system = http.get(f"{base}{API}/system").json()
        assert http.get(f"https://localhost:{port(server, 1)}{API}/auth/me").status_code == 200  # its SAN
        with socket.create_connection(("127.0.0.1", port(server, 1))) as raw, \
                verify.wrap_socket(raw, server_hostname="127.0.0.1") as wrapped:
            served = wrapped.getpeercert(binary_form=True)
        plain = httpx.post(f"http://127.0.0.1:{port(server)}{API}/auth/login", json={"password": PASSWORD})
        assert plain.status_code == 200 and "secure" not in plain.headers["set-cookie"].lower()
    assert system["tls_fingerprint"] == certificate.fingerprint == tls.fingerprint(served)
    assert re.fullmatch(r"([0-9A-F]{2}:){31}[0-9A-F]{2}", certificate.fingerprint)


def test_plain_http_only_for_this_machine_when_asked(ctx: AppContext, tmp_path: Path) -> None:
    options = WebOptions(allowed_hosts=("testserver", "evse.local"), https_port=443, http="local",
                         tls_fingerprint="AB")
    app = create_app(ctx, web_dir=tmp_path / "none", options=options)
    with TestClient(app, client=("192.0.2.5", 1), follow_redirects=False) as lan:
        moved = lan.get(f"{API}/status?x=1", headers={"Host": "evse.local"})
        assert moved.status_code == 308 and moved.headers["location"] == f"https://evse.local{API}/status?x=1"
        refused = lan.post(f"{API}/auth/login", json={"password": PASSWORD})
        assert refused.status_code == 403 and "use HTTPS" in refused.json()["detail"]
    with TestClient(app, client=("127.0.0.1", 1)) as local:
        assert local.get(f"{API}/auth/me").status_code == 200
    with TestClient(app, base_url="https://testserver", client=("192.0.2.5", 1)) as over_tls:
        assert over_tls.get(f"{API}/auth/me").status_code == 200
