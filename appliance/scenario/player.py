"""Applies a scenario's events to the simulated HAT (cars, faults) and to the supervisor side."""

from __future__ import annotations

import math
from typing import Protocol

from appliance.pilot.service import PilotService
from appliance.protocol import SetLineLimit
from appliance.scenario.schema import Event
from appliance.simulator.clock import SimClock
from appliance.simulator.hat import SimulatedHat


class SupervisorSide(Protocol):
    """What a scenario can do to whoever allocates current (stand-in or real supervisor)."""

    def kill(self, now: float, seconds: float) -> None: ...

    def set_mode(self, station: int, mode: str, departure: float | None, energy_kwh: float | None) -> None: ...

    def set_priority(self, station: int, priority: int) -> None: ...


class ScenarioPlayer:
    def __init__(
        self, events: list[Event], hat: SimulatedHat, service: PilotService, supervisor: SupervisorSide
    ) -> None:
        self.pending = sorted(events, key=lambda e: e.at)
        self.hat = hat
        self.service = service
        self.supervisor = supervisor
        self.stalled_until = -math.inf  # loop_stall: the control loop runs no tick before this

    def stalled(self, t: float) -> bool:
        """True while a loop_stall holds the control loop (no tick, no watchdog kick)."""
        return t < self.stalled_until

    def play(self, clock: SimClock, t: float) -> None:
        """Apply every event due by `t`, each at its own time, then bring the simulated HAT to `t`.
        The one loop for stepped runs and the paced pilot process (a paced clock never goes back)."""
        while (ev := self.pop_due(t)) is not None:
            self._advance(clock, ev.at)
            self.apply(ev, clock.now())
        self._advance(clock, t)

    def _advance(self, clock: SimClock, t: float) -> None:
        clock.advance_to(max(t, clock.now()))
        self.hat.advance(clock.now())

    def pop_due(self, t: float) -> Event | None:
        if self.pending and self.pending[0].at <= t:
            return self.pending.pop(0)
        return None

    def apply(self, ev: Event, t: float) -> None:
        hat = self.hat
        st = hat.stations[ev.station] if ev.station is not None else None
        match ev.do:
            case "plug":
                st.plug(t, ev.car)
            case "unplug":
                st.unplug(t)
            case "request":
                st.with_car(t, lambda car: setattr(car, "wants_power", True))
            case "stop":
                st.with_car(t, lambda car: setattr(car, "wants_power", False))
            case "vent":
                st.with_car(t, lambda car: setattr(car, "vent", True))
            case "draw":
                st.with_car(t, lambda car: setattr(car, "draw_limit_a", ev.limit_a))
            case "switch_phases":
                st.with_car(t, lambda car: setattr(car, "phases", ev.phases))
            case "sleep":
                st.with_car(t, lambda car: setattr(car, "asleep", True))
            case "pp_open":
                st.with_car(t, lambda car: setattr(car, "pp_open", True))
            case "rcd_fault":
                st.rcd_trip(t, ev.kind)
            case "weld":
                st.weld_armed = True
            case "meter_loss":
                hat.meter_loss(ev.station)
            case "adc_glitch":
                hat.adc_glitch(ev.station, ev.channel, ev.volts, ev.ticks)
            case "adc_channel_stuck":
                hat.adc_channel_stuck(ev.station, ev.channel)
            case "contactor_drop":
                st.drop_coil_supply(t, ev.seconds)
            case "loop_stall":
                self.stalled_until = max(self.stalled_until, t + ev.seconds)
            case "adc_stuck":
                hat.adc_stuck()
            case "spi_error":
                hat.spi_error(t + (ev.seconds or 1.0))
            case "supervisor_kill":
                self.supervisor.kill(t, ev.seconds)
            case "set_mode":
                self.supervisor.set_mode(ev.station, ev.mode, ev.departure, ev.energy_kwh)
            case "set_priority":
                self.supervisor.set_priority(ev.station, ev.priority)
            case "set_limit":
                self.service.handle(SetLineLimit(line_limit_a=ev.line_limit_a).wire())
        hat.advance(t)
