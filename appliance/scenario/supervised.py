"""The production supervisor core on the simulator's clock, speaking to the pilot in-process.

Everything a scenario run allocates goes through the same core, policy and sequencer as on
the appliance, and through the pilot's own command handler and its checks.
"""

from __future__ import annotations

import bisect
import math
from typing import TypeVar

from appliance import protocol as p
from appliance.pilot.service import PilotService
from appliance.scenario.schema import Scenario
from appliance.supervisor.core import SupervisorCore
from appliance.supervisor.live import GridReading
from appliance.supervisor.settings import SiteSettings, StationSettings
from appliance.wiring import triple

R = TypeVar("R", bound=p.Reply)


def site_settings(scenario: Scenario) -> SiteSettings:
    stations = []
    for sid in (1, 2):
        s = scenario.setup(sid)
        stations.append(StationSettings(id=sid, mode=s.mode, priority=s.priority, max_current_a=s.max_current_a,
                                        rating_a=s.max_current_a, phase_rotation=s.phase_rotation))
    return SiteSettings(line_limit_a=scenario.site.line_limit_a, voltage_v=scenario.site.voltage_v,
                        price_threshold=scenario.site.price_threshold, stations=stations)


class InProcessSupervisor:
    def __init__(self, scenario: Scenario, service: PilotService) -> None:
        self.service = service
        self.core = SupervisorCore(site_settings(scenario))
        self.core.set_prices([(p.start, p.end, p.price) for p in scenario.site.prices])
        self.solar = sorted(scenario.site.solar_w)
        self.silent_until = -math.inf
        self.connected = False
        self.rejections: list[str] = []

    # -- what a scenario can do to the supervisor -------------------------------------------
    def kill(self, now: float, seconds: float) -> None:
        self.silent_until = now + seconds
        self.connected = False
        self.core.on_disconnected(now)

    def set_mode(self, station: int, mode: str, departure: float | None, energy_kwh: float | None) -> None:
        self.core.update_station(station, mode=mode, departure=departure, energy_kwh=energy_kwh)

    def set_priority(self, station: int, priority: int) -> None:
        self.core.update_station(station, priority=priority)

    # -- once a simulated second -------------------------------------------------------------
    def update(self, now: float) -> None:
        if now < self.silent_until:
            return
        if not self.connected:
            hello = self._call(p.Hello(client="scenario"))
            if hello is None:
                return
            self.core.on_connected(hello, now)
            self.connected = True
        self.core.on_pilot_message(p.TelemetryEvent.model_validate(self.service.telemetry()), now)
        if self.solar:
            self.core.set_grid(self._grid(now))
        for command in self.core.cycle(now):
            self._call(command)
        self._call(p.Heartbeat())

    def mode(self, station: int) -> str:
        return self.core.settings.station(station).mode

    def reason(self, station: int) -> str:
        return self.core.decisions[station].reason

    def _grid(self, now: float) -> GridReading:
        """The site's grid meter: the stations' draw on each line phase minus the solar output."""
        solar = _interpolate(self.solar, now)
        line = self.core.line_currents()
        voltage = self.core.settings.voltage_v
        return GridReading(now, triple(amps * voltage - solar / 3 for amps in line))

    def _call(self, command: p.BaseCommand[R]) -> R | None:
        """Through the pilot's own handler on the wire form, as over the socket; a refusal is
        kept for the report (a scenario's supervisor has no one to tell) and answered as None."""
        answer = self.service.handle(command.wire())
        if not answer["ok"]:
            self.rejections.append(answer["error"]["message"])
            return None
        return command.reply_type.model_validate(answer)  # type: ignore[return-value]


def _interpolate(points: list[tuple[float, float]], t: float) -> float:
    times = [p[0] for p in points]
    i = bisect.bisect_right(times, t)
    if i == 0:
        return points[0][1]
    if i == len(points):
        return points[-1][1]
    (t0, w0), (t1, w1) = points[i - 1], points[i]
    return w0 + (w1 - w0) * (t - t0) / (t1 - t0)
