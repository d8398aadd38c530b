"""Applies a scenario's events to the simulated HAT (cars, faults) and to the supervisor side."""

from __future__ import annotations

import math
from typing import Protocol, TypeVar

from appliance.errors import InvalidInput
from appliance.pilot.service import PilotService
from appliance.protocol import SetLineLimit
from appliance.scenario.schema import Event
from appliance.simulator.clock import SimClock
from appliance.simulator.hat import SimulatedHat
from appliance.simulator.station_model import SimStation

T = TypeVar("T")


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

        def station() -> SimStation:
            return _given(st, "station")
        match ev.do:
            case "plug":
                station().plug(t, _given(ev.car, "car"))
            case "unplug":
                station().unplug(t)
            case "request":
                station().with_car(t, lambda car: setattr(car, "wants_power", True))
            case "stop":
                station().with_car(t, lambda car: setattr(car, "wants_power", False))
            case "vent":
                station().with_car(t, lambda car: setattr(car, "vent", True))
            case "draw":
                station().with_car(t, lambda car: setattr(car, "draw_limit_a", ev.limit_a))
            case "switch_phases":
                station().with_car(t, lambda car: setattr(car, "phases", ev.phases))
            case "sleep":
                station().with_car(t, lambda car: setattr(car, "asleep", True))
            case "pp_open":
                station().with_car(t, lambda car: setattr(car, "pp_open", True))
            case "rcd_fault":
                station().rcd_trip(t, _given(ev.kind, "kind"))
            case "weld":
                station().weld_armed = True
            case "meter_loss":
                hat.meter_loss(_given(ev.station, "station"))
            case "adc_glitch":
                hat.adc_glitch(
                    _given(ev.station, "station"), _given(ev.channel, "channel"), _given(ev.volts, "volts"), ev.ticks
                )
            case "adc_channel_stuck":
                hat.adc_channel_stuck(_given(ev.station, "station"), _given(ev.channel, "channel"))
            case "contactor_drop":
                station().drop_coil_supply(t, _given(ev.seconds, "seconds"))
            case "loop_stall":
                self.stalled_until = max(self.stalled_until, t + _given(ev.seconds, "seconds"))
            case "adc_stuck":
                hat.adc_stuck()
            case "spi_error":
                hat.spi_error(t + (ev.seconds or 1.0))
            case "supervisor_kill":
                self.supervisor.kill(t, _given(ev.seconds, "seconds"))
            case "set_mode":
                self.supervisor.set_mode(
                    _given(ev.station, "station"), _given(ev.mode, "mode"), ev.departure, ev.energy_kwh
                )
            case "set_priority":
                self.supervisor.set_priority(_given(ev.station, "station"), _given(ev.priority, "priority"))
            case "set_limit":
                self.service.handle(SetLineLimit(line_limit_a=ev.line_limit_a).wire())
        hat.advance(t)


def _given(value: T | None, key: str) -> T:
    """A key the schema requires for this action (`schema.NEEDS`), so it is there once loaded."""
    if value is None:
        raise InvalidInput(f"the scenario event needs {key}")
    return value
