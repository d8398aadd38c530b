"""One decision per second: each station's mode, then load sharing across the line.

Binds the supervisor's live picture and the user's settings to the pure decision logic in
`allocation/`: modes say whether and how much a station may charge, the allocator shares
the line among the stations that may.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import partial

from appliance.j1772.duty import MIN_CURRENT_A as MIN_A
from appliance.supervisor.allocation import (
    Allocator,
    LowCost,
    Mode,
    ModeDecision,
    ModeLogic,
    PriceSlot,
    PriceTable,
    Site,
    StationDemand,
    hhmm,
    per_line_phase,
    share_surplus,
    solar_surplus_a,
)
from appliance.supervisor.live import GridReading, LiveStation
from appliance.supervisor.settings import SiteSettings
from appliance.wiring import conductors_up_to, triple

GRID_READING_MAX_AGE_S = 30.0


@dataclass(frozen=True)
class StationCap:
    """A cap on one station from outside the site's settings (OCPP's TxDefaultProfile/TxProfile)."""

    amps: float
    source: str = "the central system"

    def explain(self, target_a: float, reason: str) -> str:
        """The allocator's reason, with the cap named where it holds the station back."""
        if self.amps < MIN_A:
            return f"paused by {self.source}"
        if target_a >= self.amps - 0.05:
            return f"{reason}; limited by {self.source} to {self.amps:g} A"
        return reason


@dataclass(frozen=True)
class Decision:
    target_a: float
    reason: str
    plan: tuple[PriceSlot, ...] = ()


local_hhmm = partial(hhmm, local=True)


class Policy:
    """Binds the live picture and the user's settings to the pure decision logic (modes, then load
    sharing), keeping what must last between cycles: each station's mode state and charging start."""

    def __init__(self, format_time: Callable[[float], str] = local_hhmm) -> None:
        self.allocator = Allocator()
        self.format_time = format_time
        self.modes: dict[int, ModeLogic] = {}
        self.charging_since: dict[int, float] = {}

    def decide(self, now: float, settings: SiteSettings, live: dict[int, LiveStation],
               prices: Sequence[tuple[float, float, float]], grid: GridReading | None,
               line_limit_a: float, delivered_kwh: Mapping[int, float],
               stations_cap_a: tuple[float, float, float] | None = None,
               station_caps: Mapping[int, StationCap] | None = None) -> dict[int, Decision]:
        """One decision per station. `stations_cap_a`: an energy manager's limit per line phase on
        what the stations draw together, beside the line limit and the house's load. `station_caps`:
        a central system's cap on single stations (OCPP TxDefaultProfile/TxProfile); 0 A pauses."""
        station_caps = station_caps or {}
        table = PriceTable([PriceSlot(start, end, price) for start, end, price in prices])
        fresh_grid = grid if grid is not None and now - grid.t <= GRID_READING_MAX_AGE_S else None
        for sid in live:
            self.modes.setdefault(sid, ModeLogic(format_time=self.format_time))
        shares = self._solar_shares(fresh_grid, live, settings)
        mode_decisions: dict[int, ModeDecision] = {}
        demands = []
        for sid, st in sorted(live.items()):
            cfg = settings.station(sid)
            logic = self.modes[sid]
            low_cost = LowCost(threshold=settings.price_threshold, departure=cfg.departure,
                               energy_kwh=_missing(cfg.energy_kwh, delivered_kwh.get(sid, 0.0)),
                               power_w=cfg.max_current_a * settings.voltage_v * st.car_phases())
            decision = logic.decide(now, cfg.mode, prices=table, low_cost=low_cost, surplus_a=shares.get(sid))
            mode_decisions[sid] = decision
            if st.charging:
                self.charging_since.setdefault(sid, now)
            elif not st.plugged:
                self.charging_since.pop(sid, None)
            demand = self._demand(st, settings, decision.allowed)
            if decision.cap_a is not None:
                demand = replace(demand, max_a=min(demand.max_a, decision.cap_a))
            if sid in station_caps:
                demand = replace(demand, max_a=min(demand.max_a, station_caps[sid].amps))
            demands.append(demand)
        allocations = self.allocator.allocate(
            now, Site(line_limit_a, self._external(fresh_grid, live, settings), stations_cap_a), demands
        )
        out = {}
        for sid, st in live.items():
            mode, alloc = mode_decisions[sid], allocations[sid]
            reason = self._reason(st, mode, alloc.reason)
            if sid in station_caps and st.plugged and not st.blocking_faults and mode.allowed:
                reason = station_caps[sid].explain(alloc.target_a, reason)
            out[sid] = Decision(alloc.target_a, reason, mode.plan)
        return out

    def _demand(self, st: LiveStation, settings: SiteSettings, allowed: bool) -> StationDemand:
        """The station as the allocator sees it, before its mode's cap: the solar split needs it so too."""
        cfg = settings.station(st.station)
        return StationDemand(
            station=st.station,
            active=st.plugged and not st.blocking_faults and allowed,
            max_a=min([cfg.max_current_a, st.max_current_a] + ([st.cable_a] if st.cable_a is not None else [])),
            priority=cfg.priority,
            phase_rotation=cfg.phase_rotation,
            car_phases=_car_phases(st, cfg.phase_rotation),
            measured_a=triple(st.current_a) if st.contactor else None,
            offered_a=st.offered_a,
            charging_since=self.charging_since.get(st.station),
        )

    def _solar_shares(self, grid: GridReading | None, live: dict[int, LiveStation],
                      settings: SiteSettings) -> dict[int, float]:
        """Each solar-mode station's share of one surplus: by priority, then equally.

        Those charging from it share it among themselves; a waiting one is told what it would
        get beside them, so that its start hysteresis runs on its own share.
        """
        solar = [
            sid
            for sid, st in sorted(live.items())
            if settings.station(sid).mode in (Mode.SOLAR, Mode.MIN_SOLAR) and st.plugged and not st.blocking_faults
        ]
        drawn = [0.0, 0.0, 0.0]
        for sid in solar:
            for i, amps in enumerate(per_line_phase(settings.station(sid).phase_rotation, live[sid].current_a)):
                drawn[i] += amps
        surplus = solar_surplus_a(None if grid is None else grid.power_w, drawn, settings.voltage_v)
        if surplus is None:
            return {}
        claims = sorted((self._demand(live[sid], settings, True) for sid in solar),
                        key=lambda claim: not self.modes[claim.station].solar_on)
        charging = share_surplus(surplus, [claim for claim in claims if self.modes[claim.station].solar_on])
        beside = share_surplus(surplus, claims)
        return {claim.station: charging.get(claim.station, beside[claim.station]) for claim in claims}

    @staticmethod
    def _reason(st: LiveStation, mode: ModeDecision, allocator_reason: str) -> str:
        if st.blocking_faults:
            fault = st.blocking_faults[0]
            return f"fault: {fault.code} — {fault.message}"
        if not st.plugged:
            return "no car connected"
        if not mode.allowed:
            return mode.reason
        return allocator_reason

    @staticmethod
    def _external(
        grid: GridReading | None, live: dict[int, LiveStation], settings: SiteSettings
    ) -> tuple[float, float, float]:
        """House load per line phase: grid import minus what the stations draw."""
        if grid is None:
            return (0.0, 0.0, 0.0)
        own = [0.0, 0.0, 0.0]
        for sid, st in live.items():
            for i, amps in enumerate(per_line_phase(settings.station(sid).phase_rotation, st.current_a)):
                own[i] += amps
        voltage = settings.voltage_v
        return triple(max(0.0, watts / voltage - own[i]) for i, watts in enumerate(grid.power_w))


def _car_phases(st: LiveStation, rotation: tuple[int, int, int]) -> int:
    """The car's conductors as the pilot counts them, so that the targets pass its per-phase check."""
    return conductors_up_to(rotation, st.line_phases)


def _missing(wanted_kwh: float | None, delivered_kwh: float) -> float | None:
    """Energy still to deliver before departure in this session."""
    return None if wanted_kwh is None else max(0.0, wanted_kwh - delivered_kwh)
