"""SmartCharging: the charging profiles the central system installed, per connector, and the
limit they give at any moment (OCPP 1.6 §3.13).

Profiles arrive as the library hands them over (snake_case dicts) and are kept so, which is
also how they are stored across restarts. Within a purpose the highest stack level that has a
period at that moment wins; a TxProfile overrides a TxDefaultProfile; a TxDefaultProfile on
connector 0 applies to every connector without its own; ChargePointMaxProfile (connector 0
only) caps the whole charge point. Watts become amps with the station's phases and voltage.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from appliance.supervisor.ocpp.config import MAX_PERIODS, MAX_PROFILES, MAX_STACK_LEVEL

CP_MAX = "ChargePointMaxProfile"
TX_DEFAULT = "TxDefaultProfile"
TX = "TxProfile"
PERIOD_S = {"Daily": 86400.0, "Weekly": 7 * 86400.0}
MAX_AMPS = 1000.0
MAX_WATTS = 1_000_000.0
CONNECTORS = (0, 1, 2)


class ProfileError(ValueError):
    """A profile the charge point will not install: the reason, for the log."""


def epoch(value: Any) -> float | None:
    """An OCPP dateTime (ISO 8601) as epoch seconds; None stays None."""
    if value is None:
        return None
    text = str(value).replace("Z", "+00:00")
    parsed = datetime.fromisoformat(text)
    if parsed.tzinfo is None:
        raise ProfileError(f"dateTime without a time zone: {value}")
    return parsed.timestamp()


@dataclass(frozen=True)
class Period:
    start_s: float
    limit: float
    phases: int | None


@dataclass(frozen=True)
class Profile:
    connector: int
    id: int
    stack_level: int
    purpose: str
    kind: str
    recurrency: str | None
    valid_from: float | None
    valid_to: float | None
    transaction_id: int | None
    start: float | None
    duration_s: float | None
    unit: str
    periods: tuple[Period, ...]
    raw: dict[str, Any]

    @classmethod
    def parse(cls, connector: int, raw: dict[str, Any]) -> Profile:
        """Checks what the schema cannot: raises ProfileError for a profile the charge point refuses."""
        schedule = raw["charging_schedule"]
        periods = tuple(Period(float(p["start_period"]), float(p["limit"]), p.get("number_phases"))
                        for p in schedule["charging_schedule_period"])
        profile = cls(connector=connector, id=int(raw["charging_profile_id"]), stack_level=int(raw["stack_level"]),
                      purpose=raw["charging_profile_purpose"], kind=raw["charging_profile_kind"],
                      recurrency=raw.get("recurrency_kind"), valid_from=epoch(raw.get("valid_from")),
                      valid_to=epoch(raw.get("valid_to")), transaction_id=raw.get("transaction_id"),
                      start=epoch(schedule.get("start_schedule")), duration_s=schedule.get("duration"),
                      unit=schedule["charging_rate_unit"], periods=periods, raw=raw)
        profile._check()
        return profile

    def _check(self) -> None:
        if self.connector not in CONNECTORS:
            raise ProfileError(f"no connector {self.connector}")
        if self.purpose == CP_MAX and self.connector != 0:
            raise ProfileError("a ChargePointMaxProfile belongs to connector 0")
        if self.purpose == TX and self.connector == 0:
            raise ProfileError("a TxProfile needs a connector")
        if not 0 <= self.stack_level <= MAX_STACK_LEVEL:
            raise ProfileError(f"stack level {self.stack_level} is not within 0..{MAX_STACK_LEVEL}")
        if not self.periods or len(self.periods) > MAX_PERIODS:
            raise ProfileError(f"a schedule has 1..{MAX_PERIODS} periods, not {len(self.periods)}")
        starts = [p.start_s for p in self.periods]
        if starts[0] != 0 or any(b <= a for a, b in zip(starts, starts[1:], strict=False)):
            raise ProfileError("periods must start at 0 and follow in order")
        ceiling = MAX_AMPS if self.unit == "A" else MAX_WATTS
        if any(not math.isfinite(p.limit) or not 0 <= p.limit <= ceiling for p in self.periods):
            raise ProfileError(f"a limit must be within 0..{ceiling:g} {self.unit}")
        if any(p.phases is not None and p.phases not in (1, 2, 3) for p in self.periods):
            raise ProfileError("numberPhases is 1, 2 or 3")
        if self.kind == "Recurring" and (self.recurrency not in PERIOD_S or self.start is None):
            raise ProfileError("a Recurring profile needs recurrencyKind and startSchedule")
        if self.duration_s is not None and self.duration_s <= 0:
            raise ProfileError("duration must be positive")
        if self.valid_from is not None and self.valid_to is not None and self.valid_to <= self.valid_from:
            raise ProfileError("validTo must be after validFrom")

    def limit_at(self, t: float, tx_start: float | None, installed: float) -> Period | None:
        """The period in force at `t`, or None where this profile says nothing."""
        if (self.valid_from is not None and t < self.valid_from) or (self.valid_to is not None and t >= self.valid_to):
            return None
        start = self.schedule_start(t, tx_start, installed)
        if start is None or t < start:
            return None
        offset = t - start
        if self.duration_s is not None and offset >= self.duration_s:
            return None
        return [p for p in self.periods if p.start_s <= offset][-1]

    def schedule_start(self, t: float, tx_start: float | None, installed: float) -> float | None:
        if self.kind == "Relative":
            return tx_start
        start = self.start if self.start is not None else installed
        if self.kind == "Recurring" and t >= start:
            period = PERIOD_S[self.recurrency or "Daily"]
            start += math.floor((t - start) / period) * period
        return start

    def changes(self, t0: float, t1: float, tx_start: float | None, installed: float) -> set[float]:
        """The moments in [t0, t1) where this profile's limit may change."""
        edges = {e for e in (self.valid_from, self.valid_to) if e is not None}
        start = self.schedule_start(t0, tx_start, installed)
        repeat = PERIOD_S[self.recurrency or "Daily"] if self.kind == "Recurring" else None
        while start is not None and start < t1:
            edges |= {start + p.start_s for p in self.periods}
            if self.duration_s is not None:
                edges.add(start + self.duration_s)
            start = start + repeat if repeat else None
        return {e for e in edges if t0 < e < t1}


@dataclass(frozen=True)
class Limit:
    """What the profiles allow: amps per phase, or watts in all."""

    value: float
    unit: str
    phases: int | None

    def amps(self, voltage_v: float, phases: int) -> float:
        if self.unit == "A":
            return self.value
        return self.value / (voltage_v * (self.phases or phases))


class ProfileStore:
    """Every installed profile, with the time it was installed (an Absolute profile without a
    startSchedule runs from then)."""

    def __init__(self) -> None:
        self.profiles: list[tuple[Profile, float]] = []

    def install(self, profile: Profile, now: float, in_transaction: bool, transaction_id: int | None) -> None:
        """SetChargingProfile: replaces one with the same id, or the same stack level and purpose
        on the connector. Raises ProfileError when the charge point refuses it. `transaction_id`:
        the running transaction's id where the central system has assigned it already."""
        if profile.purpose == TX and (not in_transaction or None not in (profile.transaction_id, transaction_id)
                                      and profile.transaction_id != transaction_id):
            raise ProfileError("a TxProfile needs the connector's running transaction")
        kept = [(p, t) for p, t in self.profiles if p.id != profile.id and not (
            p.connector == profile.connector and p.stack_level == profile.stack_level and p.purpose == profile.purpose)]
        if len(kept) >= MAX_PROFILES:
            raise ProfileError(f"at most {MAX_PROFILES} profiles")
        self.profiles = kept + [(profile, now)]

    def clear(self, profile_id: int | None, connector: int | None, purpose: str | None,
              stack_level: int | None) -> int:
        """ClearChargingProfile: how many went (an id matches alone; the other criteria together)."""
        def matches(p: Profile) -> bool:
            if profile_id is not None:
                return p.id == profile_id
            return ((connector is None or p.connector == connector) and (purpose is None or p.purpose == purpose)
                    and (stack_level is None or p.stack_level == stack_level))
        before = len(self.profiles)
        self.profiles = [(p, t) for p, t in self.profiles if not matches(p)]
        return before - len(self.profiles)

    def end_transaction(self, connector: int) -> None:
        """A TxProfile lives as long as its transaction."""
        self.profiles = [(p, t) for p, t in self.profiles if not (p.purpose == TX and p.connector == connector)]

    def limit(self, connector: int, t: float, tx_start: float | None) -> Limit | None:
        """The limit on `connector` at `t` (connector 0: the ChargePointMaxProfile), None for none."""
        if connector == 0:
            return self._stack(CP_MAX, 0, t, tx_start)
        if tx_start is not None:
            tx = self._stack(TX, connector, t, tx_start)
            if tx is not None:
                return tx
        return self._stack(TX_DEFAULT, connector, t, tx_start) or self._stack(TX_DEFAULT, 0, t, tx_start)

    def _stack(self, purpose: str, connector: int, t: float, tx_start: float | None) -> Limit | None:
        candidates = sorted(((p, at) for p, at in self.profiles if p.purpose == purpose and p.connector == connector),
                            key=lambda item: -item[0].stack_level)
        for profile, installed in candidates:
            period = profile.limit_at(t, tx_start, installed)
            if period is not None:
                return Limit(period.limit, profile.unit, period.phases)
        return None

    def next_change(self, connector: int, t: float, horizon_s: float, tx_start: float | None) -> float | None:
        """The first moment after `t` (within the horizon) where a profile on `connector` may change."""
        edges = self.changes(connector, t, t + horizon_s, tx_start)
        return min(edges) if edges else None

    def changes(self, connector: int, t0: float, t1: float, tx_start: float | None) -> set[float]:
        edges: set[float] = set()
        for profile, installed in self.profiles:
            if profile.connector in (0, connector):
                edges |= profile.changes(t0, t1, tx_start, installed)
        return edges

    def to_json(self) -> list[dict[str, Any]]:
        return [{"connector": p.connector, "installed": t, "profile": p.raw} for p, t in self.profiles]

    @classmethod
    def from_json(cls, saved: list[dict[str, Any]], now: float) -> ProfileStore:
        """Saved profiles back; ones that no longer parse, or TxProfiles (their transaction is
        gone with the restart's), are dropped."""
        store = cls()
        for item in saved:
            try:
                profile = Profile.parse(int(item["connector"]), item["profile"])
            except (KeyError, TypeError, ValueError):
                continue
            if profile.purpose != TX and (profile.valid_to is None or profile.valid_to > now):
                store.profiles.append((profile, float(item.get("installed", now))))
        return store
