"""Who owns the line limit: the site's setting is the installation's, the pilot's operating limit
may be lower (an energy manager's, 0 A included) and stands until the user changes the site."""

from __future__ import annotations

from typing import Any

from appliance.protocol import SetCurrent, SetLineLimit
from appliance.supervisor.core import SupervisorCore
from appliance.supervisor.settings import SiteSettings
from tests.pilot_messages import hello
from tests.pilot_messages import telemetry as pilot_telemetry


def charging(current_a: float) -> dict[str, Any]:
    return {"state": "C", "pilot": "X2", "offered_a": current_a, "requested_a": current_a, "allowed": True,
            "contactor": True, "current_a": [current_a] * 3}


def connected(limit_a: float, site_limit_a: float = 32.0) -> SupervisorCore:
    core = SupervisorCore(SiteSettings(line_limit_a=site_limit_a))
    core.on_connected(hello(limit_a), 0.0)
    return core


def telemetry(core: SupervisorCore, limit_a: float, now: float, **stations: dict[str, Any]) -> None:
    core.on_pilot_message(pilot_telemetry(limit_a, now, **stations), now)


def limit_commands(commands: list[SetCurrent | SetLineLimit]) -> list[float]:
    return [c.line_limit_a for c in commands if isinstance(c, SetLineLimit)]


def test_a_pilot_limit_of_0_a_pauses_everyone_and_is_not_pushed_back() -> None:
    core = connected(32.0)
    telemetry(core, 0.0, 1.0, s1=charging(32.0))
    commands = core.cycle(1.0)
    assert limit_commands(commands) == []
    assert core.line_limit_a == 0.0
    assert core.decisions[1].target_a == 0.0 and core.decisions[1].reason == "paused: line limit 0 A"
    assert SetCurrent(station=1, current_a=0.0, allowed=False) in commands


def test_a_lowered_pilot_limit_stands_against_the_site_setting() -> None:
    core = connected(20.0)
    telemetry(core, 20.0, 1.0, s1=charging(20.0))
    assert limit_commands(core.cycle(1.0)) == [] and core.line_limit_a == 20.0
    assert core.decisions[1].target_a == 20.0


def test_the_pilot_never_runs_above_the_site_limit() -> None:
    core = connected(32.0, site_limit_a=25.0)
    assert core.cycle(1.0) == [SetLineLimit(line_limit_a=25.0)]  # nothing else until it did
    telemetry(core, 25.0, 2.0)
    assert limit_commands(core.cycle(2.0)) == []


def test_a_site_limit_the_user_changes_goes_to_the_pilot_up_or_down_once() -> None:
    core = connected(20.0)
    core.update_site(SiteSettings(line_limit_a=30.0))
    assert core.cycle(1.0) == [SetLineLimit(line_limit_a=30.0)]
    assert limit_commands(core.cycle(2.0)) == []  # the pilot may refuse (its fuse is lower): said once
    core.update_site(SiteSettings(line_limit_a=30.0, voltage_v=240.0))
    assert limit_commands(core.cycle(3.0)) == []  # another setting changed, not the limit


def test_a_change_made_without_the_pilot_waits_for_it() -> None:
    core = SupervisorCore(SiteSettings())
    core.update_site(SiteSettings(line_limit_a=30.0))
    assert limit_commands(core.cycle(1.0)) == []
    core.on_connected(hello(10.0), 2.0)
    assert limit_commands(core.cycle(2.0)) == [30.0]


def test_restored_settings_leave_a_lowered_pilot_limit_alone() -> None:
    core = SupervisorCore(SiteSettings())
    core.restore_site(SiteSettings(line_limit_a=30.0))
    core.on_connected(hello(10.0), 0.0)
    assert limit_commands(core.cycle(1.0)) == [] and core.line_limit_a == 10.0


def test_an_unknown_pilot_limit_is_the_site_limit() -> None:
    core = SupervisorCore(SiteSettings(line_limit_a=25.0))
    assert core.pilot_line_limit_a is None and core.line_limit_a == 25.0
