"""The supervisor's brain: pilot events in, one decision per second, pilot commands out.

Synchronous and free of I/O so the same code runs in production (driven by the asyncio
runtime over the pilot socket) and in scenario runs (driven on the simulator's clock with
the pilot's command handler in-process).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Callable, Protocol

from appliance.j1772.duty import MIN_CURRENT_A
from appliance.pilot.protocol import LINE_CHECK
from appliance.supervisor.allocation import line_phases, per_line_phase
from appliance.supervisor.external_limit import ExternalLimit
from appliance.supervisor.live import LiveStation
from appliance.supervisor.policy import Decision, Policy
from appliance.supervisor.sequencer import CommandSequencer
from appliance.supervisor.sessions import Session, SessionTracker
from appliance.supervisor.settings import SiteSettings, StationSettings


class Recorder(Protocol):
    """Where the core's history goes (SQLite in production, nothing in quick scenario runs)."""

    def telemetry(self, now: float, live: LiveStation) -> None: ...

    def event(self, now: float, kind: str, station: int | None, message: str, data: dict[str, Any] | None = None) -> None: ...

    def fault(self, now: float, station: int, code: str, active: bool, message: str) -> None: ...

    def session_opened(self, session: Session) -> None: ...

    def session_updated(self, session: Session) -> None: ...

    def session_closed(self, session: Session) -> None: ...


class NullRecorder(Recorder):
    """Records nothing: quick scenario runs."""


@dataclass
class GridReading:
    """External meter: grid power per line phase (W, positive = import) at time t."""

    t: float
    power_w: tuple[float, float, float]


class SupervisorCore:
    def __init__(self, settings: SiteSettings, recorder: Recorder | None = None) -> None:
        self.settings = settings
        self.recorder = recorder or NullRecorder()
        self.live = {s.id: LiveStation(s.id, max_current_a=s.rating_a) for s in settings.stations}
        self.prices: list[tuple[float, float, float]] = []  # (start, end, price)
        self.grid: GridReading | None = None
        self.policy = Policy()
        self.sequencer = CommandSequencer()
        self.sessions = SessionTracker(self.price_at)
        self.decisions: dict[int, Decision] = {s.id: Decision(0.0, "starting") for s in settings.stations}
        self.pilot_line_limit_a: float | None = None  # the pilot's operating limit; None until it says
        self._line_limit_to_send: float | None = None  # a site limit the user changed, for the pilot
        self.external_limit: ExternalLimit | None = None  # an energy manager's, until it expires
        self.external_cap_a: float | None = None  # the per-phase amps it allowed at the last allocation
        self.pilot_connected = False
        self.listeners: list[Callable[[dict[str, Any]], None]] = []

    # ------------------------------------------------------------------ pilot side
    def on_connected(self, hello: dict[str, Any], now: float) -> None:
        self.pilot_connected = True
        self.pilot_line_limit_a = hello.get("line_limit_a")
        per_phase = hello.get("line_check") == LINE_CHECK
        self.policy.pilot_checks_per_phase(per_phase)
        if not per_phase:  # a pilot that checks the plain sum: what an earlier one counted no longer holds
            for live in self.live.values():
                live.line_phases = None
        for cfg in hello.get("stations", []):
            if cfg.get("id") in self.live:
                self.live[cfg["id"]].max_current_a = cfg.get("max_current_a", 32.0)
        self.recorder.event(now, "system", None, "connected to the pilot process")

    def on_disconnected(self, now: float) -> None:
        if self.pilot_connected:
            self.recorder.event(now, "system", None, "lost the pilot process; it keeps the cars safe on its own")
        self.pilot_connected = False

    def on_pilot_message(self, msg: dict[str, Any], now: float) -> None:
        kind = msg.get("event")
        if kind == "telemetry":
            self.pilot_line_limit_a = msg.get("line_limit_a", self.pilot_line_limit_a)
            for sid, snap in msg.get("stations", {}).items():
                self._update_live(int(sid), snap, now)
        elif kind == "state":
            sid = msg.get("station")
            if sid in self.live:
                self._update_live(sid, msg, now)
                cause = msg.get("cause")
                if cause:
                    self.recorder.event(now, "state", sid, f"vehicle state {cause['from']} -> {cause['to']}", cause)
        elif kind == "fault":
            sid = msg.get("station")
            self.recorder.fault(now, sid, msg.get("code", "?"), bool(msg.get("active")), msg.get("message", ""))
        self._notify(msg)

    def _update_live(self, sid: int, snap: dict[str, Any], now: float) -> None:
        if sid not in self.live:
            return
        live = self.live[sid]
        live.update(snap, now)
        opened, closed = self.sessions.update(live, now, self.settings.station(sid).mode)
        if opened is not None:
            self.recorder.session_opened(opened)
        if closed is not None:
            self.recorder.session_closed(closed)

    # ------------------------------------------------------------------ once a second
    def cycle(self, now: float) -> list[dict[str, Any]]:
        """Decide and return the pilot commands to send now (in order).

        A new line limit goes alone: the pilot shrinks the stations to it at once, and the next
        cycle allocates from what it kept rather than from the offers before.
        """
        limit_command = self._line_limit_command()
        commands = [limit_command] if limit_command is not None else self._allocate(now)
        for live in self.live.values():
            self.recorder.telemetry(now, live)
            session = self.sessions.open.get(live.station)
            if session is not None:
                self.recorder.session_updated(session)
        return commands

    @property
    def line_limit_a(self) -> float:
        """The limit the stations share now: the site's, or the pilot's operating limit when lower.

        The pilot's limit may be lowered under the supervisor (an energy manager; 0 A means no
        charging at all), so 0 is a limit like any other and only None means not known yet.
        """
        if self.pilot_line_limit_a is None:
            return self.settings.line_limit_a
        return min(self.settings.line_limit_a, self.pilot_line_limit_a)

    def _line_limit_command(self) -> dict[str, Any] | None:
        """`set_line_limit` when the pilot must hear of a limit: the one the user just set for the
        site (up or down), or the site's when the pilot runs above it. A lower operating limit
        the pilot got from elsewhere stands."""
        if not self.pilot_connected or self.pilot_line_limit_a is None:
            return None  # a change the user made meanwhile waits for the pilot
        wanted, self._line_limit_to_send = self._line_limit_to_send, None
        if wanted is None and self.pilot_line_limit_a > self.settings.line_limit_a:
            wanted = self.settings.line_limit_a
        if wanted is None or wanted == self.pilot_line_limit_a:
            return None
        return {"cmd": "set_line_limit", "line_limit_a": wanted}

    def _allocate(self, now: float) -> list[dict[str, Any]]:
        limit = self._allocation_limit(now)
        delivered = {sid: session.energy_kwh for sid, session in self.sessions.open.items()}
        decisions = self.policy.decide(now, self.settings, self.live, self.prices, self.grid, limit, delivered)
        if self.external_limit is not None and limit < self.line_limit_a:
            decisions = {sid: self._limited(sid, d, self.external_limit, limit) for sid, d in decisions.items()}
        for sid, decision in decisions.items():
            if decision.reason != self.decisions[sid].reason:
                self.recorder.event(now, "decision", sid, decision.reason)
        self.decisions = decisions
        return self.sequencer.commands(now, {sid: d.target_a for sid, d in decisions.items()}, self.live,
                                       self.line_limit_a)

    def _allocation_limit(self, now: float) -> float:
        """The per-phase limit the stations share: the line's, capped by an energy manager's limit
        while it lasts. The cap is taken over the line phases the plugged cars load, so a watts
        limit spreads over the phases in use and per-phase amps on an unused phase do not bind."""
        limit = self.external_limit
        if limit is not None and not limit.active(now):
            self.recorder.event(now, "limit", None, f"the energy manager's limit ({limit.source.upper()}) expired; "
                                                    "the site's own limit holds again")
            self.external_limit = limit = None
        if limit is None:
            self.external_cap_a = None
            return self.line_limit_a
        phases = {p for sid, live in self.live.items() if live.plugged
                  for p in line_phases(self.settings.station(sid).phase_rotation, live.car_phases())}
        self.external_cap_a = limit.cap_a(self.settings.voltage_v, phases)
        return min(self.line_limit_a, self.external_cap_a)

    def _limited(self, sid: int, decision: Decision, limit: ExternalLimit, cap_a: float) -> Decision:
        """The decision with the energy manager named where its limit holds the station back."""
        live, cfg = self.live[sid], self.settings.station(sid)
        ceiling = min([cfg.max_current_a, live.max_current_a] + ([live.cable_a] if live.cable_a is not None else []))
        if not live.plugged or live.blocking_faults or decision.target_a >= ceiling:
            return decision
        why = f"limited by the energy manager ({limit.source.upper()}) to {limit.describe(self.policy.format_time)}"
        if decision.target_a == 0 and cap_a < MIN_CURRENT_A:
            return replace(decision, reason=f"paused: {why}")
        return replace(decision, reason=f"{decision.reason}; {why}")

    # ------------------------------------------------------------------ inputs from the API
    def set_prices(self, slots: list[tuple[float, float, float]]) -> None:
        self.prices = sorted(slots)

    def price_at(self, t: float) -> float | None:
        return next((p for start, end, p in self.prices if start <= t < end), None)

    def set_grid(self, reading: GridReading) -> None:
        self.grid = reading

    def set_external_limit(self, limit: ExternalLimit | None, now: float) -> None:
        """An energy manager's limit from any channel, or None to lift it; the next cycle applies it."""
        if limit is not None:
            text = f"energy manager ({limit.source.upper()}) limits the site to {limit.describe(self.policy.format_time)}"
            self.recorder.event(now, "limit", None, text, limit.model_dump(mode="json"))
        elif self.external_limit is not None:
            self.recorder.event(now, "limit", None,
                                f"energy manager ({self.external_limit.source.upper()}) lifted its limit")
        self.external_limit = limit

    def update_station(self, station_id: int, **changes: Any) -> StationSettings:
        current = self.settings.station(station_id)
        updated = StationSettings.model_validate({**current.model_dump(), **changes})
        if updated.max_current_a > updated.rating_a:
            raise ValueError(f"max_current_a {updated.max_current_a:g} A exceeds the station rating of {updated.rating_a:g} A")
        self.settings.stations = [updated if s.id == station_id else s for s in self.settings.stations]
        return updated

    def update_site(self, settings: SiteSettings) -> None:
        """The user's change. A changed line limit becomes the pilot's operating limit, up or down:
        the installation is what the user says it is."""
        if settings.line_limit_a != self.settings.line_limit_a:
            self._line_limit_to_send = settings.line_limit_a
        self.settings = settings

    def restore_site(self, settings: SiteSettings) -> None:
        """Saved settings at start-up: no change by the user, so the pilot's operating limit stays
        (a lower one from an energy manager survives a supervisor restart)."""
        self.settings = settings

    # ------------------------------------------------------------------ views
    def station_view(self, sid: int) -> dict[str, Any]:
        live, cfg = self.live[sid], self.settings.station(sid)
        session = self.sessions.open.get(sid)
        decision = self.decisions.get(sid)
        return {
            "id": sid, "name": cfg.display_name(), "mode": cfg.mode, "priority": cfg.priority,
            "max_current_a": cfg.max_current_a, "rating_a": cfg.rating_a, "phase_rotation": list(cfg.phase_rotation),
            "departure": cfg.departure, "energy_kwh": cfg.energy_kwh,
            "state": live.state, "pilot": live.pilot, "offered_a": live.offered_a, "contactor": live.contactor,
            "cable_a": live.cable_a, "voltage_v": live.voltage_v, "current_a": live.current_a, "power_w": live.power_w,
            "power_total_w": round(live.power_total_w, 1), "faults": live.faults, "charging": live.charging,
            "target_a": decision.target_a if decision else 0.0, "reason": decision.reason if decision else "",
            "plan": [{"start": p.start, "end": p.end, "price": p.price} for p in decision.plan] if decision else [],
            "session": None if session is None else {
                "start": session.start, "energy_kwh": round(session.energy_kwh, 3),
                "peak_power_w": round(session.peak_power_w, 1), "cost": round(session.cost, 4), "mode": session.mode,
            },
        }

    def snapshot(self) -> dict[str, Any]:
        return {
            "pilot_connected": self.pilot_connected,
            "line_limit_a": self.settings.line_limit_a,
            "operating_limit_a": self.line_limit_a,  # lower when an energy manager or the pilot says so; 0 = no charging
            "line_a": self.line_currents(),
            "external_limit": None if self.external_limit is None else {
                **self.external_limit.model_dump(mode="json"), "cap_a": self.external_cap_a},
            "stations": [self.station_view(sid) for sid in sorted(self.live)],
        }

    def line_currents(self) -> list[float]:
        per_station = [per_line_phase(self.settings.station(sid).phase_rotation, live.current_a)
                       for sid, live in self.live.items()]
        return [round(sum(phase), 2) for phase in zip(*per_station)]

    def _notify(self, message: dict[str, Any]) -> None:
        for listener in list(self.listeners):
            listener(message)
