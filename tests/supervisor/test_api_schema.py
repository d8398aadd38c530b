"""Schemathesis against /openapi.json, in-process, with an admin token: whatever the schema
allows (and what it does not), the API answers without a server error. The only 5xx allowed
are the deliberate 503s of pilot commands, since no pilot runs here."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode

from appliance import __version__
from appliance.supervisor.api.app import create_app
from appliance.supervisor.app_context import AppContext
from appliance.supervisor.core import SupervisorCore
from appliance.supervisor.settings import SiteSettings
from appliance.supervisor.storage import Storage
from appliance.system.update import UpdateManager
from tests.supervisor.conftest import API, TEST_OPTIONS, setup_body

PILOT_COMMANDS = ("/clear-fault", "/self-test")
EXAMPLES = 15


@pytest.fixture(scope="module")
def schema_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[FastAPI, dict[str, str]]]:
    data: Path = tmp_path_factory.mktemp("schema")
    with Storage(data / "evse.db") as storage:
        updater = UpdateManager(data / "root", keys=[Ed25519PrivateKey.generate().public_key()],
                                restart=lambda: None, health=lambda version: True)
        ctx = AppContext(core=SupervisorCore(SiteSettings()), storage=storage, data_dir=data, version=__version__,
                         simulated=True, updater=updater)
        app = create_app(ctx, web_dir=data / "no-web-ui", options=TEST_OPTIONS)
        setup = TestClient(app)
        csrf = setup.post(f"{API}/auth/setup", json=setup_body(data)).json()["csrf_token"]
        token = setup.post(f"{API}/tokens", json={"name": "schemathesis", "scope": "admin"},
                           headers={"X-CSRF-Token": csrf}).json()["token"]
        yield app, {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE], ids=["valid", "invalid"])
def test_no_server_errors(schema_app: tuple[FastAPI, dict[str, str]], mode: GenerationMode) -> None:
    app, auth = schema_app
    operations = [result.ok() for result in schemathesis.openapi.from_asgi("/openapi.json", app).get_all_operations()]
    assert len(operations) > 25
    for operation in operations:
        @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy(generation_mode=mode))
        def answers_without_server_error(case: schemathesis.Case) -> None:
            response = case.call(headers=auth)
            if response.status_code == 503 and case.path.endswith(PILOT_COMMANDS):
                assert "pilot" in response.json()["detail"]
                return
            assert response.status_code < 500, \
                f"{case.method} {case.formatted_path}: {response.status_code} {response.text[:300]}"

        answers_without_server_error()
