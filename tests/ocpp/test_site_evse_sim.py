"""The site test with two `evse sim` processes, as a user runs them: each plays the demo (a
32 A car, then a 16 A one) and connects with `--ocpp-url` to one central system, which gives
each a ChargePointMaxProfile of 16 A on a 32 A supply. The supply's line currents (both
appliances' `GET /status`) never exceed 32 A for longer than 5 s."""

from __future__ import annotations

import http.cookiejar
import json
import os
import subprocess
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import pytest
from ocpp.v16 import call

from tests.ocpp.csms import CentralSystem, until
from tests.ocpp.profiles_helpers import absolute_profile
from tests.ocpp.supply import watch_supply
from tests.supervisor.conftest import PASSWORD
from tests.ui.conftest import ROOT, _free_port, _stop_group, _wait_until_serving, server_command

pytestmark = pytest.mark.realtime
SITE_LIMIT_A = 32.0
SHARE_A = 16.0
WINDOW_S = 5.0
WATCH_S = 50.0  # the demo's second car arrives at 40 s


class Sim:
    """One `evse sim` and a logged-in client of its API."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))

    def call(self, method: str, path: str, body: Any = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(f"{self.base}/api/v1{path}", data=data, method=method,
                                         headers={"Content-Type": "application/json"})
        with self.opener.open(request, timeout=5) as answer:
            return json.load(answer)

    def line(self) -> list[float]:
        return [float(a) for a in self.call("GET", "/status")["line_a"]]


@contextmanager
def evse_sim(tmp: Path, url: str) -> Iterator[Sim]:
    tmp.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("EVSE_DATA_DIR", None)
    log = tmp / "sim.log"
    with log.open("wb") as out:
        process = subprocess.Popen(server_command(port, tmp / "data") + ["--ocpp-url", url], cwd=ROOT, stdout=out,
                                   stderr=subprocess.STDOUT, env=env, start_new_session=True)
    try:
        sim = Sim(f"http://127.0.0.1:{port}")
        _wait_until_serving(sim.base, process, log)
        sim.call("POST", "/auth/setup", {"password": PASSWORD})
        yield sim
    finally:
        _stop_group(process)


def test_two_evse_sims_share_one_supply(csms: CentralSystem, tmp_path: Path) -> None:
    with ExitStack() as stack:
        sims = {cp: stack.enter_context(evse_sim(tmp_path / cp, csms.url(cp))) for cp in ("sim-a", "sim-b")}
        for cp in sims:
            csms.wait_for("BootNotification", cp, timeout=30)
            until(lambda cp=cp: csms.connected(cp), 5, f"{cp} connected")
            result = csms.call(cp, call.SetChargingProfile(connector_id=0, cs_charging_profiles=absolute_profile(
                1, "ChargePointMaxProfile", SHARE_A, start_offset_s=-60)))
            assert result.status == "Accepted"
        for sim in sims.values():
            view = sim.call("GET", "/ocpp")
            assert view["link"]["state"] == "connected" and view["registration"] == "Accepted"
            assert sim.call("GET", "/site/limit")["current_a"] == [SHARE_A] * 3

        longest, peak = watch_supply(
            lambda: [sum(phase) for phase in zip(*(sim.line() for sim in sims.values()), strict=True)],
            SITE_LIMIT_A, WATCH_S, every_s=0.5)
        assert longest <= WINDOW_S, f"the supply was over {SITE_LIMIT_A} A for {longest:.1f} s"
        assert peak >= 0.75 * SITE_LIMIT_A, f"the cars hardly charged (peak {peak:.1f} A)"
        assert csms.messages("StartTransaction", "sim-a") and csms.messages("StartTransaction", "sim-b")
