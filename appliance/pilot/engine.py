"""The pilot engine: both stations, the shared line, and the supervisor's commands.

Pure logic on readings and time. The controller feeds it from the HAT's drivers; the
scenario runner feeds it from the simulated HAT on simulated time. Commands from the
supervisor are validated here against every limit the pilot knows; the line limit holds on
each line phase, with every car counted on the phases its station's meter saw it draw on,
and under an energy manager's limit until it expires, with or without a supervisor.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from appliance.drivers.interfaces import MeterReading
from appliance.errors import InvalidInput
from appliance.j1772.duty import MIN_CURRENT_A
from appliance.j1772.faults import FaultCode
from appliance.pilot.config import PilotConfig
from appliance.pilot.events import Event
from appliance.pilot.logring import LogRing
from appliance.pilot.station import SharedConditions, StationInputs, StationMachine, StationOutputs

LINE_PHASES = (1, 2, 3)


class CommandRejected(InvalidInput):
    """A supervisor command that would break a limit; the message says which."""


@dataclass(frozen=True)
class HeldLimit:
    """An energy manager's per-line-phase limit, held by the pilot until it expires so that it also
    binds while the supervisor is gone."""

    amps: tuple[float, float, float]
    until: float


@dataclass
class BoardInputs:
    stations: dict[int, StationInputs]
    temperature_c: float
    sensing_error: str | None = None
    rail_error: str | None = None
    outputs_lost: str | None = None  # the controller forced the outputs safe since the last tick


class PilotEngine:
    """Every safety decision of the pilot, kept apart from hardware and time so that one code path
    is tested on the simulator, replayed in scenarios and run on the Pi: readings in, outputs out."""

    def __init__(self, config: PilotConfig, weld_voltage_v: float = 50.0, log: LogRing | None = None,
                 watchdog_timeout_s: float = 0.1) -> None:
        self.config = config
        self.timing = config.timing
        self.log = log or LogRing()
        self.line_limit_a = config.line_limit_a
        self.held_limit: HeldLimit | None = None
        self.watchdog_timeout_s = watchdog_timeout_s
        self._events: list[Event] = []
        self.stations: dict[int, StationMachine] = {
            s.id: StationMachine(s, self.timing, self._events.append, self.log, weld_voltage_v) for s in config.stations
        }
        self.last_heartbeat = -math.inf
        self.supervisor_seen = False
        self.now = 0.0
        self._last_step: float | None = None
        self._last_loss: tuple[str, int] | None = None
        self.temperature_c: float | None = None

    # ------------------------------------------------------------------ loop
    def step(self, now: float, inputs: BoardInputs) -> dict[int, StationOutputs]:
        self.now = now
        if self.last_heartbeat == -math.inf:
            self.last_heartbeat = now  # the supervisor gets the same 5 s after start-up as after silence
        if self._last_step is not None and now - self._last_step > self.watchdog_timeout_s:
            self.outputs_lost(now, f"control loop stalled for {(now - self._last_step) * 1000:.0f} ms: "
                                   "the hardware watchdog dropped the contactor")
        self._last_step = now
        if inputs.outputs_lost is not None:
            self.outputs_lost(now, inputs.outputs_lost)
        self.temperature_c = inputs.temperature_c
        lost = self.supervisor_lost(now)
        shared = SharedConditions(
            supervisor_lost=lost,
            sensing_error=inputs.sensing_error,
            rail_error=inputs.rail_error,
            temperature_c=inputs.temperature_c,
            derate_c=self.config.derate_temperature_c,
            pause_c=self.config.pause_temperature_c,
        )
        self.learn_phases(now, {sid: inp.meter for sid, inp in inputs.stations.items()})
        limits = self.phase_limits(now)
        grants = self._failsafe_grants(limits) if lost else {
            sid: min([st.request_a if st.request_allowed else 0.0] + [limits[p] for p in st.phases.line_phases])
            for sid, st in self.stations.items()
        }
        return {sid: st.step(now, inputs.stations[sid], shared, grants[sid]) for sid, st in self.stations.items()}

    def phase_limits(self, now: float) -> dict[int, float]:
        """The limit on each line phase now: the operating line limit, under a held limit until it expires."""
        held = self.held_limit
        if held is not None and now >= held.until:
            self.held_limit = held = None
            self.log.log(now, "info", "the energy manager's limit expired: the line limit alone holds again")
        if held is None:
            return dict.fromkeys(LINE_PHASES, self.line_limit_a)
        return {p: min(self.line_limit_a, held.amps[p - 1]) for p in LINE_PHASES}

    def _failsafe_grants(self, limits: dict[int, float]) -> dict[int, float]:
        """With the supervisor silent: its last allocation, at most the failsafe current, and a car
        that arrived without an allocation gets the failsafe current, all within the limit on
        every line phase."""
        cap = self.config.failsafe_for(min(limits.values()))

        def wanted(st: StationMachine) -> float:
            last = cap if st.plugged and not st.allocated_since_plug else st.request_a if st.request_allowed else 0.0
            return min(last, cap, st.cap_a())

        return _share_line(self.stations.values(), limits, wanted)

    def learn_phases(self, now: float, meters: Mapping[int, MeterReading | None]) -> None:
        """The cars' line phases from this tick's readings, before the line is shared: a car now
        drawing on a line phase it was not counted on is counted there, and a line phase it puts
        over the limit is shrunk at once."""
        for sid, st in self.stations.items():
            st.learn_phases(now, meters.get(sid))
        self._fit_line(now)

    def allocated_a(self, phase: int, but: StationMachine | None = None) -> float:
        """What the supervisor allocated on a line phase: the allowed requests of the stations whose
        car loads it (all three until the car has shown which)."""
        return sum(st.request_a for st in self.stations.values()
                   if st is not but and st.request_allowed and phase in st.phases.line_phases)

    def _fit_line(self, now: float) -> None:
        """Lower the allocations at once when a line phase carries more than the line limit (a lower
        limit, a car now drawing on another phase) until the supervisor reallocates: by precedence
        each station keeps what still fits on all its line phases, one left with less than 6 A
        pauses, so a line with room for one station never pauses both."""
        limits = self.phase_limits(now)
        over = [p for p in LINE_PHASES if self.allocated_a(p) > limits[p] + 1e-9]
        if not over:
            return
        kept = _share_line(self.stations.values(), limits, lambda st: st.request_a if st.request_allowed else 0.0)
        changes = []
        for st in self.stations.values():
            if not st.request_allowed or kept[st.id] >= st.request_a:
                continue
            changes.append(
                f"station {st.id} paused" if kept[st.id] == 0 else f"station {st.id} lowered to {kept[st.id]:g} A"
            )
            st.request_a, st.request_allowed = kept[st.id], kept[st.id] > 0
        self.log.log(now, "warning", f"line phase {', '.join(f'L{p}' for p in over)} over the "
                                     f"{min(limits[p] for p in over):g} A limit: " + ", ".join(changes))

    def outputs_lost(self, now: float, why: str) -> None:
        """The HAT's outputs went to their safe state without the engine (watchdog, forced safe state)."""
        if (why, int(now)) != self._last_loss:  # a persistent failure: once a second in the log
            self._last_loss = (why, int(now))
            self.log.log(now, "error", why)
        for st in self.stations.values():
            st.hardware_dropped(now, why)

    def supervisor_lost(self, now: float) -> bool:
        return now - self.last_heartbeat > self.timing.supervisor_timeout_s

    def drain_events(self) -> list[Event]:
        events, self._events[:] = list(self._events), []
        return events

    # ------------------------------------------------------------------ commands
    def heartbeat(self, now: float) -> None:
        if not self.supervisor_seen or self.supervisor_lost(now):
            self.log.log(now, "info", "supervisor connected")
        self.supervisor_seen = True
        self.last_heartbeat = now

    def station(self, station_id: object) -> StationMachine:
        if not isinstance(station_id, int) or isinstance(station_id, bool) or station_id not in self.stations:
            raise CommandRejected(f"unknown station {station_id!r}: this pilot runs stations {sorted(self.stations)}")
        return self.stations[station_id]

    def set_current(self, now: float, station_id: int, current_a: float, allowed: bool) -> StationMachine:
        """Accept the supervisor's allocation for a station, or say which limit it breaks."""
        st = self.station(station_id)
        if not math.isfinite(current_a) or current_a < 0:
            raise CommandRejected(f"current {current_a!r} A is not a current")
        if allowed and 0 < current_a < MIN_CURRENT_A:
            raise CommandRejected(
                f"{current_a:g} A is below the 6 A minimum a pilot can offer; send 0 or allowed=false to pause"
            )
        if current_a > st.cfg.max_current_a:
            raise CommandRejected(f"{current_a:g} A exceeds station {st.id}'s rating of {st.cfg.max_current_a:g} A")
        if st.cable_a is not None and current_a > st.cable_a:
            raise CommandRejected(f"{current_a:g} A exceeds the plugged cable's rating of {st.cable_a:g} A")
        if current_a > self.line_limit_a:
            raise CommandRejected(f"{current_a:g} A exceeds the line limit of {self.line_limit_a:g} A")
        limits = self.phase_limits(now)
        for phase in st.phases.line_phases if allowed else ():
            committed = self.allocated_a(phase, but=st)
            if committed + current_a > limits[phase] + 1e-9:
                which = "line limit" if limits[phase] >= self.line_limit_a else "energy manager's limit"
                raise CommandRejected(
                    f"{current_a:g} A on line phase L{phase} with {committed:g} A already allocated there to the other "
                    f"station exceeds the {which} of {limits[phase]:g} A per phase; lower the other station first"
                )
        st.request_a, st.request_allowed = float(current_a), bool(allowed)
        st.allocated_since_plug = st.plugged
        return st

    def set_line_limit(self, now: float, amps: float) -> None:
        """Lower or restore the operating line limit; never above the installation's fuse."""
        if not math.isfinite(amps) or amps < 0:
            raise CommandRejected(f"line limit {amps!r} A is not a current")
        if amps > self.config.line_limit_a:
            raise CommandRejected(f"{amps:g} A exceeds the installation's line limit of {self.config.line_limit_a:g} A")
        self.line_limit_a = amps
        self.log.log(now, "info", f"line limit set to {amps:g} A")
        self._fit_line(now)

    def hold_limit(self, now: float, amps: tuple[float, float, float] | None, expires_in_s: float | None) -> None:
        """Hold an energy manager's per-line-phase limit for `expires_in_s` (None: until lifted;
        amps None: lift it). The
        supervisor applies the limit itself; the pilot holds it so it also binds while the
        supervisor is gone, and lets it lapse on its own clock."""
        if amps is None:
            if self.held_limit is not None:
                self.log.log(now, "info", "the energy manager's limit was lifted")
            self.held_limit = None
            return
        held = HeldLimit(amps, math.inf if expires_in_s is None else now + expires_in_s)
        if self.held_limit is None or held.amps != self.held_limit.amps:
            until = "until lifted" if expires_in_s is None else f"for {expires_in_s:g} s"
            self.log.log(now, "info", f"energy manager's limit {'/'.join(f'{a:g}' for a in amps)} A {until}")
        self.held_limit = held
        self._fit_line(now)

    def clear_fault(self, now: float, station_id: int, code: str | None, service: bool) -> list[FaultCode]:
        st = self.station(station_id)
        wanted = None
        if code is not None:
            try:
                wanted = FaultCode(code)
            except ValueError:
                raise CommandRejected(f"unknown fault code {code!r}") from None
        return st.clear_fault(now, wanted, service)

    def self_test(self, now: float, station_id: int) -> None:
        if not self.station(station_id).start_self_test(now):
            raise CommandRejected(
                f"station {station_id} is charging or already testing; the self-test runs before every close anyway"
            )


def _share_line(stations: Iterable[StationMachine], limits: Mapping[int, float],
                wanted: Callable[[StationMachine], float]) -> dict[int, float]:
    """What each station keeps of what it wants when the line is short: by precedence, what still
    fits on all its line phases (to 0.1 A below), nothing when that is under 6 A, so a line with
    room for one station never leaves both without."""
    budget = dict(limits)
    kept = {}
    for st in _by_precedence(stations):
        phases = st.phases.line_phases
        amps = math.floor(min([wanted(st)] + [budget[p] for p in phases]) * 10 + 1e-9) / 10
        kept[st.id] = amps if amps >= MIN_CURRENT_A else 0.0
        for p in phases:
            budget[p] -= kept[st.id]
    return kept


def _by_precedence(stations: Iterable[StationMachine]) -> list[StationMachine]:
    """Who keeps current when the line is short: a charging station first, then the larger allocation."""
    return sorted(stations, key=lambda st: (not st.contactor, -(st.request_a if st.request_allowed else 0.0), st.id))
