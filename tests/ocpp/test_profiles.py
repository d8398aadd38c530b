"""Charging profiles: stacks, purposes, kinds, validity, units, and the composite schedule."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from appliance.supervisor.ocpp.composite import Electrical, composite_schedule
from appliance.supervisor.ocpp.profiles import Profile, ProfileError, ProfileStore

T0 = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
NOW = T0.timestamp()
EL = Electrical(voltage_v=230.0, phases=3, rating_a=32.0)


def raw(pid: int, purpose: str, periods: list[tuple[int, float]], kind: str = "Absolute", stack: int = 0,
        unit: str = "A", start: str | None = "2026-06-01T12:00:00Z", **extra: Any) -> dict[str, Any]:
    schedule: dict[str, Any] = {"charging_rate_unit": unit, "charging_schedule_period": [
        {"start_period": s, "limit": limit} for s, limit in periods]}
    if start is not None:
        schedule["start_schedule"] = start
    for key in ("duration",):
        if key in extra:
            schedule[key] = extra.pop(key)
    return {"charging_profile_id": pid, "stack_level": stack, "charging_profile_purpose": purpose,
            "charging_profile_kind": kind, "charging_schedule": schedule, **extra}


def store(*profiles: tuple[int, dict[str, Any]], in_tx: bool = False) -> ProfileStore:
    s = ProfileStore()
    for connector, profile in profiles:
        s.install(Profile.parse(connector, profile), NOW, in_tx, None)
    return s


def amps(s: ProfileStore, connector: int, t: float, tx_start: float | None = None) -> float | None:
    limit = s.limit(connector, t, tx_start)
    return None if limit is None else round(limit.amps(230.0, 3), 2)


def test_periods_follow_the_schedule_and_end_with_its_duration() -> None:
    s = store((1, raw(1, "TxDefaultProfile", [(0, 16.0), (600, 8.0)], duration=1800)))
    assert amps(s, 1, NOW - 1) is None
    assert amps(s, 1, NOW) == 16.0 and amps(s, 1, NOW + 599) == 16.0 and amps(s, 1, NOW + 600) == 8.0
    assert amps(s, 1, NOW + 1800) is None
    assert amps(s, 2, NOW) is None  # another connector's profile


def test_higher_stack_level_wins_where_it_has_a_period() -> None:
    s = store((1, raw(1, "TxDefaultProfile", [(0, 20.0)])),
              (1, raw(2, "TxDefaultProfile", [(0, 10.0)], stack=3, duration=300)))
    assert amps(s, 1, NOW + 10) == 10.0
    assert amps(s, 1, NOW + 400) == 20.0  # the upper one ended: the lower one holds again


def test_tx_profile_overrides_tx_default_and_connector_zero_default_applies_to_all() -> None:
    s = store((0, raw(1, "TxDefaultProfile", [(0, 12.0)])), (1, raw(2, "TxProfile", [(0, 7.0)], kind="Relative",
                                                                   start=None)), in_tx=True)
    assert amps(s, 2, NOW) == 12.0
    assert amps(s, 1, NOW + 5, tx_start=NOW) == 7.0
    assert amps(s, 1, NOW + 5, tx_start=None) == 12.0  # without a transaction a TxProfile says nothing
    s.end_transaction(1)
    assert amps(s, 1, NOW + 5, tx_start=NOW) == 12.0


def test_relative_recurring_and_validity() -> None:
    relative = store((1, raw(1, "TxDefaultProfile", [(0, 6.0), (3600, 16.0)], kind="Relative", start=None)))
    assert amps(relative, 1, NOW + 100, tx_start=NOW) == 6.0
    assert amps(relative, 1, NOW + 3700, tx_start=NOW) == 16.0
    daily = store((0, raw(1, "ChargePointMaxProfile", [(0, 10.0), (6 * 3600, 32.0)], kind="Recurring",
                          recurrency_kind="Daily")))
    assert amps(daily, 0, NOW + 86400 + 60) == 10.0 and amps(daily, 0, NOW + 86400 + 7 * 3600) == 32.0
    valid = store((1, raw(1, "TxDefaultProfile", [(0, 9.0)], valid_from="2026-06-01T13:00:00Z",
                          valid_to="2026-06-01T14:00:00Z")))
    assert amps(valid, 1, NOW + 1800) is None and amps(valid, 1, NOW + 3600) == 9.0
    assert amps(valid, 1, NOW + 7200) is None


def test_watts_become_amps_with_the_phases() -> None:
    s = store((1, raw(1, "TxDefaultProfile", [(0, 6900.0)], unit="W")))
    limit = s.limit(1, NOW, None)
    assert limit is not None and limit.amps(230.0, 3) == pytest.approx(10.0) and limit.amps(230.0, 1) == 30.0


def test_same_stack_and_purpose_replaces_and_clear_matches() -> None:
    s = store((1, raw(1, "TxDefaultProfile", [(0, 16.0)])), (1, raw(2, "TxDefaultProfile", [(0, 0.0)])))
    assert len(s.profiles) == 1 and amps(s, 1, NOW) == 0.0
    s.install(Profile.parse(0, raw(3, "ChargePointMaxProfile", [(0, 20.0)])), NOW, False, None)
    assert s.clear(None, None, "ChargePointMaxProfile", None) == 1 and s.clear(99, None, None, None) == 0
    assert s.clear(2, None, None, None) == 1 and s.profiles == []


@pytest.mark.parametrize("connector, profile", [
    (1, raw(1, "TxDefaultProfile", [(0, 1001.0)])),
    (1, raw(1, "TxDefaultProfile", [(10, 6.0)])),
    (1, raw(1, "TxDefaultProfile", [(0, 6.0)], stack=11)),
    (1, raw(1, "TxDefaultProfile", [(0, 6.0)], kind="Recurring")),
    (1, raw(1, "ChargePointMaxProfile", [(0, 6.0)])),
    (0, raw(1, "TxProfile", [(0, 6.0)])),
    (3, raw(1, "TxDefaultProfile", [(0, 6.0)])),
    (1, raw(1, "TxDefaultProfile", [(0, 6.0)], duration=0)),
])
def test_absurd_profiles_are_refused(connector: int, profile: dict[str, Any]) -> None:
    with pytest.raises(ProfileError):
        Profile.parse(connector, profile)


def test_tx_profile_needs_the_running_transaction() -> None:
    profile = Profile.parse(1, raw(1, "TxProfile", [(0, 6.0)], transaction_id=5))
    with pytest.raises(ProfileError):
        ProfileStore().install(profile, NOW, False, None)
    with pytest.raises(ProfileError):
        ProfileStore().install(profile, NOW, True, 6)
    ProfileStore().install(profile, NOW, True, 5)


def test_composite_schedule_merges_the_stack_and_the_charge_point_maximum() -> None:
    s = store((0, raw(1, "ChargePointMaxProfile", [(0, 20.0), (1800, 12.0)])),
              (1, raw(2, "TxDefaultProfile", [(0, 16.0), (600, 25.0)], duration=3600)))
    assert composite_schedule(s, 1, NOW, 7200, "A", None, EL) == [(0, 16.0), (600, 20.0), (1800, 12.0)]
    assert composite_schedule(s, 1, NOW, 900, "W", None, EL) == [(0, 11040.0), (600, 13800.0)]
    assert composite_schedule(s, 0, NOW, 7200, "A", None, EL) == [(0, 20.0), (1800, 12.0)]
    assert composite_schedule(ProfileStore(), 1, NOW, 60, "A", None, EL) is None


def test_profiles_survive_a_restart_but_tx_profiles_and_expired_ones_do_not() -> None:
    s = store((0, raw(1, "ChargePointMaxProfile", [(0, 20.0)])),
              (1, raw(2, "TxDefaultProfile", [(0, 6.0)], valid_to="2026-06-01T12:30:00Z")),
              (2, raw(3, "TxProfile", [(0, 6.0)])), in_tx=True)
    back = ProfileStore.from_json(s.to_json(), NOW + 60)
    assert [p.id for p, _ in back.profiles] == [1, 2]
    assert [p.id for p, _ in ProfileStore.from_json(s.to_json(), NOW + 3600).profiles] == [1]
