"""Supervisor fixtures: a real core and real storage on a temporary directory, and the web app
built on them (no pilot unless a test starts one)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from appliance import __version__
from appliance.supervisor.api.app import WebOptions, create_app
from appliance.supervisor.app_context import AppContext
from appliance.supervisor.core import SupervisorCore
from appliance.supervisor.settings import SiteSettings
from appliance.supervisor.storage import Storage
from appliance.system import setup_code

PASSWORD = "correct horse battery"
API = "/api/v1"
# TestClient sends Host: testserver; the app must be told to answer to it, as an owner would add a name.
TEST_OPTIONS = WebOptions(allowed_hosts=("testserver",))


@pytest.fixture
def storage(tmp_path: Path) -> Iterator[Storage]:
    with Storage(tmp_path / "evse.db") as s:
        yield s


@pytest.fixture
def core() -> SupervisorCore:
    return SupervisorCore(SiteSettings())


@pytest.fixture
def ctx(core: SupervisorCore, storage: Storage, tmp_path: Path) -> AppContext:
    return AppContext(core=core, storage=storage, data_dir=tmp_path, version=__version__, simulated=True)


@pytest.fixture
def app(ctx: AppContext, tmp_path: Path) -> FastAPI:
    return create_app(ctx, web_dir=tmp_path / "no-web-ui", options=TEST_OPTIONS)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as c:
        yield c


def setup_body(data_dir: Path, password: str = PASSWORD) -> dict[str, str]:
    """First-run setup as the owner does it from the LAN (TestClient's peer is not loopback): with
    the one-time code the app wrote into its data directory."""
    return {"password": password, "setup_code": (data_dir / setup_code.FILE_NAME).read_text().strip()}


@pytest.fixture
def admin(client: TestClient, ctx: AppContext) -> dict[str, str]:
    """Runs first-run setup on `client` (which keeps the session cookie); the CSRF header to send."""
    answer = client.post(f"{API}/auth/setup", json=setup_body(ctx.data_dir))
    assert answer.status_code == 200, answer.text
    return {"X-CSRF-Token": answer.json()["csrf_token"]}


@pytest.fixture
def bearer(client: TestClient, admin: dict[str, str]) -> Callable[[str], dict[str, str]]:
    """bearer("read") -> the Authorization header of a new token with that scope."""
    made = iter(range(1, 1000))

    def make(scope: str) -> dict[str, str]:
        name = f"{scope} device {next(made)}"
        answer = client.post(f"{API}/tokens", json={"name": name, "scope": scope}, headers=admin)
        assert answer.status_code == 201, answer.text
        return {"Authorization": f"Bearer {answer.json()['token']}"}

    return make


@pytest.fixture
def anonymous(app: FastAPI) -> TestClient:
    """A second client without the session cookie."""
    return TestClient(app)
