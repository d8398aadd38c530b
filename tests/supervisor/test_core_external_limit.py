"""An energy manager's limit in the core: it caps the allocation per line phase, a watts limit
spreads over the phases the cars use, 0 A pauses, and when it lapses the site's limit holds."""

from __future__ import annotations

from typing import Any

from appliance.protocol import SetCurrent
from appliance.supervisor.core import NullRecorder, SupervisorCore
from appliance.supervisor.external_limit import ExternalLimit
from appliance.supervisor.live import GridReading
from appliance.supervisor.settings import SiteSettings, StationSettings
from tests.pilot_messages import hello
from tests.supervisor.test_core_limits import charging, telemetry


class Events(NullRecorder):
    def __init__(self) -> None:
        self.seen: list[tuple[float, str, str]] = []

    def event(
        self, now: float, kind: str, station: int | None, message: str, data: dict[str, Any] | None = None
    ) -> None:
        self.seen.append((now, kind, message))

    def of(self, kind: str) -> list[tuple[float, str]]:
        return [(t, message) for t, k, message in self.seen if k == kind]


def site(*rotations: tuple[int, int, int]) -> tuple[SupervisorCore, Events]:
    events = Events()
    stations = [StationSettings(id=sid, phase_rotation=rotation) for sid, rotation in enumerate(rotations, 1)]
    core = SupervisorCore(SiteSettings(stations=stations), events)
    core.on_connected(hello(32.0), 0.0)
    core.policy.format_time = lambda t: f"t={t:g}"
    return core, events


def two_cars(now: float, amps: float = 16.0) -> tuple[SupervisorCore, Events]:
    core, events = site((1, 2, 3), (1, 2, 3))
    telemetry(core, 32.0, now, s1=charging(amps), s2=charging(amps))
    return core, events


def one_phase(amps: float, line_phase: int = 1) -> dict[str, Any]:
    """A 1-phase car on its station's L1, which the station's rotation puts on `line_phase`."""
    return {**charging(amps), "current_a": [amps, 0.0, 0.0], "line_phases": [line_phase]}


def rest(set_at: float = 1.0, expires_at: float | None = 60.0, **values: Any) -> ExternalLimit:
    return ExternalLimit(source="rest", set_at=set_at, expires_at=expires_at, **values)


def targets(core: SupervisorCore) -> list[float]:
    return [core.decisions[sid].target_a for sid in (1, 2)]


def test_16_a_caps_two_cars_until_it_expires() -> None:
    core, events = two_cars(1.0)
    core.set_external_limit(rest(current_a=(16.0, 16.0, 16.0)), 1.0)
    commands = core.cycle(1.0)
    assert targets(core) == [8.0, 8.0]
    assert [c for c in commands if isinstance(c, SetCurrent)] == [
        SetCurrent(station=1, current_a=8.0, allowed=True),
        SetCurrent(station=2, current_a=8.0, allowed=True)]
    assert core.decisions[1].reason.endswith("; limited by the energy manager (REST) to 16 A until t=60")
    view = core.snapshot()["external_limit"]
    assert view["source"] == "rest" and view["current_a"] == [16.0, 16.0, 16.0] and view["cap_a"] == 16.0
    assert view["expires_at"] == 60.0 and core.snapshot()["operating_limit_a"] == 32.0  # the pilot's stays
    assert events.of("limit") == [(1.0, "energy manager (REST) limits the site to 16 A until t=60")]

    telemetry(core, 32.0, 59.0, s1=charging(8.0), s2=charging(8.0))
    core.cycle(59.0)
    assert targets(core) == [8.0, 8.0]
    core.cycle(60.0)
    assert targets(core) == [16.0, 16.0]
    assert core.external_limit is None and core.snapshot()["external_limit"] is None
    assert "energy manager" not in core.decisions[1].reason
    assert events.of("limit")[-1] == (
        60.0,
        "the energy manager's limit (REST) expired; the site's own limit holds again",
    )


def test_0_a_pauses_both_and_says_why() -> None:
    core, _ = two_cars(1.0)
    core.set_external_limit(rest(current_a=(0.0, 0.0, 0.0)), 1.0)
    commands = core.cycle(1.0)
    assert targets(core) == [0.0, 0.0]
    assert SetCurrent(station=1, current_a=0.0, allowed=False) in commands
    assert core.decisions[2].reason == "paused: limited by the energy manager (REST) to 0 A until t=60"


def test_a_cut_that_leaves_room_for_one_keeps_one_charging() -> None:
    core, _ = two_cars(1.0)
    core.set_external_limit(rest(current_a=(10.0, 10.0, 10.0)), 1.0)
    core.cycle(1.0)
    assert sorted(targets(core)) == [0.0, 10.0]


def test_lifting_the_limit_gives_the_site_limit_back_at_the_next_cycle() -> None:
    core, events = two_cars(1.0)
    core.set_external_limit(rest(current_a=(12.0, 12.0, 12.0), expires_at=None), 1.0)
    core.cycle(1.0)
    assert targets(core) == [6.0, 6.0]
    assert core.decisions[1].reason.endswith("limited by the energy manager (REST) to 12 A")  # no expiry
    core.set_external_limit(None, 2.0)
    core.cycle(2.0)
    assert targets(core) == [16.0, 16.0]
    assert events.of("limit")[-1] == (2.0, "energy manager (REST) lifted its limit")


def test_a_limit_above_the_site_limit_changes_nothing() -> None:
    core, _ = two_cars(1.0)
    core.set_external_limit(rest(current_a=(40.0, 40.0, 40.0), power_w=50_000.0), 1.0)
    core.cycle(1.0)
    assert targets(core) == [16.0, 16.0] and "energy manager" not in core.decisions[1].reason


def test_watts_spread_over_the_three_phases_of_3_phase_cars() -> None:
    core, _ = two_cars(1.0)
    core.set_external_limit(rest(power_w=11_040.0), 1.0)  # 11 040 W / (3 x 230 V) = 16 A per phase
    core.cycle(1.0)
    assert targets(core) == [8.0, 8.0] and core.external_cap_a == 16.0
    assert core.decisions[1].reason.endswith("limited by the energy manager (REST) to 11.04 kW until t=60")


def test_watts_on_one_phase_when_both_cars_load_the_same_one() -> None:
    core, _ = site((1, 2, 3), (1, 2, 3))
    telemetry(core, 32.0, 1.0, s1=one_phase(16.0), s2=one_phase(16.0))
    core.set_external_limit(rest(power_w=5_520.0), 1.0)  # 5 520 W / 230 V = 24 A on L1
    core.cycle(1.0)
    assert core.external_cap_a == 24.0 and targets(core) == [12.0, 12.0]


def test_watts_over_two_phases_keep_the_total_within_the_limit() -> None:
    core, _ = site((1, 2, 3), (2, 3, 1))  # two 1-phase cars on L1 and L2
    telemetry(core, 32.0, 1.0, s1=one_phase(16.0), s2=one_phase(16.0, line_phase=2))
    core.set_external_limit(rest(power_w=5_520.0), 1.0)
    core.cycle(1.0)
    assert core.external_cap_a == 12.0  # 5 520 W / (2 x 230 V)
    assert 6.0 <= max(targets(core)) <= 12.0 and sum(targets(core)) * 230.0 <= 5_520.0


def test_per_phase_amps_bind_only_on_the_phases_the_cars_load() -> None:
    core, _ = site((1, 2, 3), (1, 2, 3))
    telemetry(core, 32.0, 1.0, s1=one_phase(32.0))
    core.set_external_limit(rest(current_a=(32.0, 32.0, 10.0)), 1.0)
    core.cycle(1.0)
    assert core.external_cap_a == 32.0 and targets(core)[0] == 32.0  # the car on L1 is not held by L3's 10 A
    telemetry(core, 32.0, 2.0, s2=charging(16.0))  # a 3-phase car arrives: L3 counts now
    core.cycle(2.0)
    one, three = targets(core)
    assert core.external_cap_a == 10.0 and three <= 10.0  # L3's 10 A holds the 3-phase car
    assert one + three <= 32.0 and one >= 16.0  # on L1 the 1-phase car keeps what L3 does not bind


def test_the_house_load_is_the_lines_business_not_the_energy_managers() -> None:
    """An energy manager's 16 A is for the stations: a house drawing 10 A per phase takes from the
    32 A line (22 A left), not from the 16 A."""
    core, _ = site((1, 2, 3), (1, 2, 3))
    telemetry(core, 32.0, 1.0, s1=charging(16.0))
    core.set_grid(GridReading(1.0, tuple(26.0 * 230.0 for _ in range(3))))  # 16 A car + 10 A house
    core.set_external_limit(rest(current_a=(16.0, 16.0, 16.0)), 1.0)
    core.cycle(1.0)
    assert targets(core)[0] == 16.0
    core.set_grid(GridReading(1.0, tuple(36.0 * 230.0 for _ in range(3))))  # the house now draws 20 A
    core.cycle(1.0)
    assert targets(core)[0] == 12.0  # 32 A line minus 20 A house: the line binds before the 16 A
