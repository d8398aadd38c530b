"""A site of two appliances on one 32 A supply, coordinated by one central system through
ChargePointMaxProfile: 16 A each. Four cars that would take 32 A each; the supply's line
currents never exceed 32 A for longer than the EV's 5 s response window."""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path

import pytest
from ocpp.v16 import call

from tests.ocpp.conftest import appliance
from tests.ocpp.csms import CentralSystem, until
from tests.ocpp.profiles_helpers import absolute_profile
from tests.ocpp.supply import watch_supply

pytestmark = pytest.mark.realtime
SITE_LIMIT_A = 32.0
SHARE_A = 16.0
WINDOW_S = 5.0
WATCH_S = 30.0
CARS = "\n".join(
    f'[[event]]\nat = {at}\nstation = {s}\ndo = "plug"\n'
    'car = { max_current_a = 32, phases = 3, battery_kwh = 60, soc = 0.2, response_s = 2.0, cable_a = 32 }\n'
    f'[[event]]\nat = {at + 1}\nstation = {s}\ndo = "request"\n'
    for s, at in ((1, 6.0), (2, 8.0)))


def test_two_appliances_share_one_supply(csms: CentralSystem, tmp_path: Path) -> None:
    with ExitStack() as stack:
        sites = [stack.enter_context(appliance(tmp_path / cp, CARS, csms.url(cp))) for cp in ("site-a", "site-b")]
        for cp in ("site-a", "site-b"):
            csms.wait_for("BootNotification", cp, timeout=20)
            until(lambda cp=cp: csms.connected(cp), 5, f"{cp} connected")
            result = csms.call(cp, call.SetChargingProfile(connector_id=0, cs_charging_profiles=absolute_profile(
                1, "ChargePointMaxProfile", SHARE_A, start_offset_s=-60)))
            assert result.status == "Accepted"
        for app in sites:
            limit = app.ctx.core.external_limit
            assert limit is not None and limit.source == "ocpp" and limit.current_a == (SHARE_A,) * 3

        longest, peak = watch_supply(
            lambda: [sum(phase) for phase in zip(*(app.ctx.core.line_currents() for app in sites), strict=True)],
            SITE_LIMIT_A, WATCH_S, every_s=0.2)
        assert longest <= WINDOW_S, f"the supply was over {SITE_LIMIT_A} A for {longest:.1f} s"
        assert peak >= 0.75 * SITE_LIMIT_A, f"the cars hardly charged (peak {peak:.1f} A)"  # not vacuous
        for app in sites:
            assert all(app.ctx.core.live[s].charging for s in (1, 2))
            assert "limited by the energy manager (OCPP)" in app.reason(1)

        composite = csms.call("site-a", call.GetCompositeSchedule(connector_id=0, duration=3600))
        assert composite.status == "Accepted"
        assert composite.charging_schedule["charging_schedule_period"][0]["limit"] == SHARE_A
