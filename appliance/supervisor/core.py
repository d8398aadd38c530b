"""The supervisor's brain: pilot events in, one decision per second, pilot commands out.

Synchronous and free of I/O so the same code runs in production (driven by the asyncio
runtime over the pilot socket) and in scenario runs (driven on the simulator's clock with
the pilot's command handler in-process).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any, Protocol

from appliance import protocol as p
from appliance.errors import InvalidInput
from appliance.j1772.duty import MIN_CURRENT_A
from appliance.supervisor.allocation import per_line_phase
from appliance.supervisor.external_limit import ExternalLimit
from appliance.supervisor.live import GridReading, LiveStation
from appliance.supervisor.policy import Decision, Policy, StationCap
from appliance.supervisor.sequencer import CommandSequencer
from appliance.supervisor.sessions import ChargingSession, SessionTracker
from appliance.supervisor.settings import SiteSettings, StationSettings

_UNSENT = object()  # the pilot has not been told about an energy manager's limit on this connection
_SETTINGS_FIELDS = {"station", "max_current_a", "phase_rotation"}  # the view shows the owner's settings for these


class Recorder(Protocol):
    """Where the core's history goes (SQLite in production, nothing in quick scenario runs)."""

    def telemetry(self, now: float, live: LiveStation) -> None: ...

    def event(
        self, now: float, kind: str, station: int | None, message: str, data: dict[str, Any] | None = None
    ) -> None: ...

    def fault(self, now: float, station: int, code: str, active: bool, message: str) -> None: ...

    def session_opened(self, session: ChargingSession) -> None: ...

    def session_updated(self, session: ChargingSession) -> None: ...

    def session_closed(self, session: ChargingSession) -> None: ...


class NullRecorder(Recorder):
    """Records nothing: quick scenario runs."""

    def telemetry(self, now: float, live: LiveStation) -> None:
        return None

    def event(
        self, now: float, kind: str, station: int | None, message: str, data: dict[str, Any] | None = None
    ) -> None:
        return None

    def fault(self, now: float, station: int, code: str, active: bool, message: str) -> None:
        return None

    def session_opened(self, session: ChargingSession) -> None:
        return None

    def session_updated(self, session: ChargingSession) -> None:
        return None

    def session_closed(self, session: ChargingSession) -> None:
        return None


class SupervisorCore:
    """The supervisor's state and decisions without I/O: pilot events and settings in, pilot commands
    out, so the same code runs under the asyncio runtime and inside scenario runs."""

    def __init__(self, settings: SiteSettings, recorder: Recorder | None = None) -> None:
        self.settings = settings
        self.recorder = recorder or NullRecorder()
        self.live = {s.id: LiveStation(station=s.id, max_current_a=s.rating_a) for s in settings.stations}
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
        self.station_caps: dict[int, StationCap] = {}  # a central system's cap per station (OCPP)
        self._held: tuple[tuple[float, float, float], float | None] | None | object = _UNSENT  # told to the pilot
        self.pilot_connected = False
        self.listeners: list[Callable[[p.Event], None]] = []

    # ------------------------------------------------------------------ pilot side
    def on_connected(self, hello: p.HelloReply, now: float) -> None:
        self.pilot_connected = True
        self._held = _UNSENT  # a pilot that (re)started holds nothing: tell it again
        self.pilot_line_limit_a = hello.line_limit_a
        for cfg in hello.stations:
            if cfg.id in self.live:
                self.live[cfg.id].max_current_a = cfg.max_current_a
        self.recorder.event(now, "system", None, "connected to the pilot process")

    def on_disconnected(self, now: float) -> None:
        if self.pilot_connected:
            self.recorder.event(now, "system", None, "lost the pilot process; it keeps the cars safe on its own")
        self.pilot_connected = False

    def on_pilot_message(self, msg: p.Event, now: float) -> None:
        match msg:
            case p.TelemetryEvent():
                self.pilot_line_limit_a = msg.line_limit_a
                for snap in msg.stations.values():
                    self._update_live(snap, now)
            case p.StateEvent():
                self._update_live(msg, now)
                if msg.cause is not None and msg.station in self.live:
                    self.recorder.event(now, "state", msg.station, f"vehicle state {msg.cause.from_} -> {msg.cause.to}",
                                        msg.cause.model_dump(by_alias=True))
            case p.FaultEvent():
                self.recorder.fault(now, msg.station, msg.code, msg.active, msg.message)
        self._notify(msg)

    def _update_live(self, snap: p.StationSnapshot, now: float) -> None:
        live = self.live.get(snap.station)
        if live is None:
            return
        live.update(snap, now)
        opened, closed = self.sessions.update(live, now, self.settings.station(snap.station).mode)
        if opened is not None:
            self.recorder.session_opened(opened)
        if closed is not None:
            self.recorder.session_closed(closed)

    # ------------------------------------------------------------------ once a second
    def cycle(self, now: float) -> list[p.BaseCommand[Any]]:
        """Decide and return the pilot commands to send now (in order).

        A new line limit goes alone: the pilot shrinks the stations to it at once, and the next
        cycle allocates from what it kept rather than from the offers before.
        """
        limit_command = self._line_limit_command()
        commands: list[p.BaseCommand[Any]] = [limit_command] if limit_command is not None else [*self._allocate(now)]
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

    def _line_limit_command(self) -> p.SetLineLimit | None:
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
        return p.SetLineLimit(line_limit_a=wanted)

    def _allocate(self, now: float) -> list[p.SetCurrent | p.HoldLimit]:
        caps = self._external_caps(now)
        hold = self._hold_command(now, caps)
        delivered = {sid: session.energy_kwh for sid, session in self.sessions.open.items()}
        decisions = self.policy.decide(now, self.settings, self.live, self.prices, self.grid, self.line_limit_a,
                                       delivered, caps, self.station_caps)
        if self.external_limit is not None and self.external_cap_a is not None \
                and self.external_cap_a < self.line_limit_a:
            decisions = {sid: self._limited(sid, d, self.external_limit, self.external_cap_a)
                         for sid, d in decisions.items()}
        for sid, decision in decisions.items():
            if decision.reason != self.decisions[sid].reason:
                self.recorder.event(now, "decision", sid, decision.reason)
        self.decisions = decisions
        sets = self.sequencer.commands(now, {sid: d.target_a for sid, d in decisions.items()}, self.live,
                                       self.line_limit_a)
        return ([hold] if hold is not None else []) + sets

    def _external_caps(self, now: float) -> tuple[float, float, float] | None:
        """An energy manager's limit per line phase on the stations while it lasts (None without
        one), over the line phases the plugged cars load: a watts limit spreads over those, and
        `external_cap_a` is the lowest cap among them."""
        limit = self.external_limit
        if limit is not None and not limit.active(now):
            self.recorder.event(now, "limit", None, f"the energy manager's limit ({limit.source.upper()}) expired; "
                                                    "the site's own limit holds again")
            self.external_limit = limit = None
        phases = {ph for live in self.live.values() if live.plugged for ph in live.counted_line_phases}
        if limit is None:
            self.external_cap_a = None
            return None
        self.external_cap_a = limit.cap_a(self.settings.voltage_v, phases)
        return limit.per_phase_a(self.settings.voltage_v, phases)

    def _hold_command(self, now: float, caps: tuple[float, float, float] | None) -> p.HoldLimit | None:
        """`hold_limit` when the pilot must hold another energy manager's limit (or none), so the
        limit binds also while this supervisor is gone, and lapses at its expiry on the pilot's own."""
        limit = self.external_limit
        wanted = None if limit is None or caps is None else (
            (round(caps[0], 1), round(caps[1], 1), round(caps[2], 1)), limit.expires_at)
        if wanted == self._held or not self.pilot_connected:
            return None
        self._held = wanted
        if wanted is None:
            return p.HoldLimit(limit_a=None)
        amps, expires_at = wanted
        return p.HoldLimit(limit_a=amps, expires_in_s=None if expires_at is None else max(0.1, expires_at - now))

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
            text = (
                f"energy manager ({limit.source.upper()}) limits the site to {limit.describe(self.policy.format_time)}"
            )
            self.recorder.event(now, "limit", None, text, limit.model_dump(mode="json"))
        elif self.external_limit is not None:
            self.recorder.event(now, "limit", None,
                                f"energy manager ({self.external_limit.source.upper()}) lifted its limit")
        self.external_limit = limit

    def set_station_cap(self, station_id: int, cap: StationCap | None, now: float) -> None:
        """A central system's cap on one station, or None to lift it; the next cycle applies it."""
        before = self.station_caps.get(station_id)
        if cap == before or station_id not in self.live:
            return
        if cap is None:
            del self.station_caps[station_id]
            self.recorder.event(now, "limit", station_id, f"{before.source if before else 'the central system'} "
                                                          "lifted its cap")
        else:
            self.station_caps[station_id] = cap
            self.recorder.event(now, "limit", station_id, f"{cap.source} caps the station at {cap.amps:g} A")

    def update_station(self, station_id: int, **changes: Any) -> StationSettings:
        current = self.settings.station(station_id)
        updated = StationSettings.model_validate({**current.model_dump(), **changes})
        if updated.max_current_a > updated.rating_a:
            raise InvalidInput(
                f"max_current_a {updated.max_current_a:g} A exceeds the station rating of {updated.rating_a:g} A"
            )
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
        """A station for the API and the UI: the pilot's snapshot, the owner's settings, the decision."""
        live, cfg = self.live[sid], self.settings.station(sid)
        session = self.sessions.open.get(sid)
        decision = self.decisions.get(sid)
        return {
            **live.model_dump(mode="json", include=set(p.StationSnapshot.model_fields) - _SETTINGS_FIELDS),
            "id": sid,
            "name": cfg.display_name(),
            "mode": cfg.mode,
            "priority": cfg.priority,
            "max_current_a": cfg.max_current_a,
            "rating_a": cfg.rating_a,
            "phase_rotation": list(cfg.phase_rotation),
            "departure": cfg.departure,
            "energy_kwh": cfg.energy_kwh,
            "power_total_w": round(live.power_total_w, 1),
            "charging": live.charging,
            "target_a": decision.target_a if decision else 0.0,
            "reason": decision.reason if decision else "",
            "plan": [{"start": slot.start, "end": slot.end, "price": slot.price} for slot in decision.plan]
            if decision
            else [],
            "session": None
            if session is None
            else {
                "start": session.start,
                "energy_kwh": round(session.energy_kwh, 3),
                "peak_power_w": round(session.peak_power_w, 1),
                "cost": round(session.cost, 4),
                "mode": session.mode,
            },
        }

    def snapshot(self) -> dict[str, Any]:
        return {
            "pilot_connected": self.pilot_connected,
            "line_limit_a": self.settings.line_limit_a,
            # lower when an energy manager or the pilot says so; 0 = no charging
            "operating_limit_a": self.line_limit_a,
            "line_a": self.line_currents(),
            "external_limit": None
            if self.external_limit is None
            else {**self.external_limit.model_dump(mode="json"), "cap_a": self.external_cap_a},
            "stations": [self.station_view(sid) for sid in sorted(self.live)],
        }

    def line_currents(self) -> list[float]:
        per_station = [per_line_phase(self.settings.station(sid).phase_rotation, live.current_a)
                       for sid, live in self.live.items()]
        return [round(sum(phase), 2) for phase in zip(*per_station, strict=False)]

    def _notify(self, message: p.Event) -> None:
        for listener in list(self.listeners):
            listener(message)
