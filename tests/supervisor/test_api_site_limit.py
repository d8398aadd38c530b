"""An energy manager's site limit over REST: set, read, clear, who may, what is refused, expiry
and a restart."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from appliance.supervisor.api.app import create_app
from appliance.supervisor.app_context import AppContext
from appliance.supervisor.core import SupervisorCore
from appliance.supervisor.settings import SiteSettings
from tests.supervisor.conftest import API, PASSWORD, TEST_OPTIONS

LIMIT = f"{API}/site/limit"
NOW = 1_800_000_000.0


@pytest.fixture
def clock(ctx: AppContext) -> list[float]:
    """The app's time, settable: clock[0] = t."""
    now = [NOW]
    ctx.clock = lambda: now[0]
    return now


def test_set_read_and_clear(client: TestClient, admin: dict[str, str], ctx: AppContext, clock: list[float]) -> None:
    assert client.get(LIMIT).json() is None
    answer = client.put(LIMIT, json={"current_a": [20, 20, 16], "power_w": 9000, "expires_in_s": 600}, headers=admin)
    assert answer.status_code == 200, answer.text
    expected = {"source": "rest", "current_a": [20.0, 20.0, 16.0], "power_w": 9000.0, "set_at": NOW,
                "expires_at": NOW + 600}
    assert answer.json() == expected
    assert client.get(LIMIT).json() == expected
    assert client.get(f"{API}/status").json()["external_limit"] == {**expected, "cap_a": None}  # no cycle ran yet
    assert ctx.core.external_limit is not None and ctx.core.external_limit.current_a == (20.0, 20.0, 16.0)

    one_value = client.put(LIMIT, json={"current_a": 16}, headers=admin).json()  # replaces the first; no expiry
    assert one_value["current_a"] == [16.0, 16.0, 16.0] and one_value["power_w"] is None
    assert one_value["expires_at"] is None

    cleared = client.delete(LIMIT, headers=admin)
    assert cleared.status_code == 204 and client.get(LIMIT).json() is None
    assert ctx.core.external_limit is None and client.get(f"{API}/status").json()["external_limit"] is None
    assert client.delete(LIMIT, headers=admin).status_code == 204  # clearing nothing is no error


def test_an_absolute_expiry_and_the_limit_lapsing(
    client: TestClient, admin: dict[str, str], clock: list[float]
) -> None:
    answer = client.put(LIMIT, json={"power_w": 0, "expires_at": NOW + 60}, headers=admin)
    assert answer.status_code == 200 and answer.json()["expires_at"] == NOW + 60
    clock[0] = NOW + 59.9
    assert client.get(LIMIT).json()["power_w"] == 0.0
    clock[0] = NOW + 60
    assert client.get(LIMIT).json() is None


def test_control_scope_needed_and_audited(client: TestClient, anonymous: TestClient, admin: dict[str, str],
                                          bearer: Callable[[str], dict[str, str]], ctx: AppContext) -> None:
    body = {"current_a": 16, "expires_in_s": 600}
    reader, controller = bearer("read"), bearer("control")
    assert anonymous.put(LIMIT, json=body).status_code == 401
    assert anonymous.delete(LIMIT).status_code == 401
    assert anonymous.get(LIMIT).status_code == 401
    refused = anonymous.put(LIMIT, json=body, headers=reader)
    assert refused.status_code == 403 and "'control' scope" in refused.json()["detail"]
    assert anonymous.delete(LIMIT, headers=reader).status_code == 403
    assert anonymous.get(LIMIT, headers=reader).json() is None  # reading needs only 'read'
    assert client.put(LIMIT, json=body).status_code == 403  # a browser session without its CSRF token
    assert ctx.core.external_limit is None

    assert anonymous.put(LIMIT, json=body, headers=controller).status_code == 200
    assert anonymous.delete(LIMIT, headers=controller).status_code == 204
    entries = [(e.actor, e.action, e.target) for e in ctx.storage.audit.list().items[:2]]
    assert entries == [("token:control device 2", "site.limit.clear", "site/limit"),
                       ("token:control device 2", "site.limit.set", "site/limit")]
    assert ctx.storage.audit.list().items[1].details["current_a"] == [16.0, 16.0, 16.0]


@pytest.mark.parametrize(("body", "field", "message"), [
    ({"current_a": -1}, "current_a", "greater than or equal to 0"),
    ({"current_a": [20, 20]}, "current_a", "Field required"),
    ({"current_a": [20, 20, 16, 16]}, "current_a", "at most 3 items"),
    ({"current_a": [20, "x", 16]}, "current_a", "valid number"),
    ({"current_a": 1001}, "current_a", "less than or equal to 1000"),
    ({"power_w": -5}, "power_w", "greater than or equal to 0"),
    ({"power_w": 9000, "expires_in_s": 0}, "expires_in_s", "greater than 0"),
    ({"power_w": 9000, "expires_in_s": 31 * 86400 + 1}, "expires_in_s", "less than or equal to 2678400"),
    ({"power_w": 9000, "expires_at": NOW - 1}, "expires_at", "in the next 31 days"),
    ({"power_w": 9000, "expires_at": NOW + 32 * 86400}, "expires_at", "in the next 31 days"),
    ({"power_w": 9000, "until": 5}, "until", "Extra inputs are not permitted"),
])
def test_bad_input_is_a_422_naming_the_field(client: TestClient, admin: dict[str, str], clock: list[float],
                                            body: dict, field: str, message: str) -> None:
    answer = client.put(LIMIT, json=body, headers=admin)
    assert answer.status_code == 422
    errors = answer.json()["detail"]
    assert any(e["loc"][:2] == ["body", field] and message in e["msg"] for e in errors), errors
    assert client.get(LIMIT).json() is None


@pytest.mark.parametrize(("raw", "message"), [
    (b'{"expires_in_s": 60}', "give current_a, power_w or both"),
    (b'{"power_w": 1, "expires_in_s": 60, "expires_at": 1800000060}', "expires_in_s or expires_at, not both"),
    (b'{"current_a": NaN}', "finite number"),
    (b'{"power_w": Infinity}', "finite number"),
])
def test_incomplete_or_non_finite_input_is_a_422(client: TestClient, admin: dict[str, str], clock: list[float],
                                                 raw: bytes, message: str) -> None:
    answer = client.put(LIMIT, content=raw, headers={**admin, "content-type": "application/json"})
    assert answer.status_code == 422
    assert any(message in e["msg"] for e in answer.json()["detail"]), answer.text


def restarted(ctx: AppContext, tmp_path: Path) -> AppContext:
    """The same storage under a new core and app: what a supervisor restart finds."""
    fresh = AppContext(core=SupervisorCore(SiteSettings()), storage=ctx.storage, data_dir=tmp_path, version="test",
                       simulated=True, clock=ctx.clock)
    with TestClient(create_app(fresh, web_dir=tmp_path / "none", options=TEST_OPTIONS)) as again:
        assert again.post(f"{API}/auth/login", json={"password": PASSWORD}).status_code == 200
    return fresh


def test_the_limit_survives_a_restart_until_it_expires(client: TestClient, admin: dict[str, str], ctx: AppContext,
                                                       clock: list[float], tmp_path: Path) -> None:
    client.put(LIMIT, json={"current_a": 10, "expires_in_s": 600}, headers=admin)
    clock[0] = NOW + 300
    after_restart = restarted(ctx, tmp_path).core.external_limit
    assert after_restart is not None and after_restart.current_a == (10.0, 10.0, 10.0)
    assert after_restart.expires_at == NOW + 600
    clock[0] = NOW + 600
    assert restarted(ctx, tmp_path).core.external_limit is None  # expired while the supervisor was away
    clock[0] = NOW
    assert restarted(ctx, tmp_path).core.external_limit is None  # and forgotten, not kept in storage


def test_a_cleared_limit_stays_cleared_after_a_restart(client: TestClient, admin: dict[str, str], ctx: AppContext,
                                                       clock: list[float], tmp_path: Path) -> None:
    client.put(LIMIT, json={"current_a": 10}, headers=admin)
    client.delete(LIMIT, headers=admin)
    assert restarted(ctx, tmp_path).core.external_limit is None
