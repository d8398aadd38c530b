"""Play a scenario: simulated HAT, real drivers, pilot engine and supervisor on one clock.

Stepped (speed 0) a simulated hour takes seconds and every run is the same; paced (speed > 0)
the loop runs on the wall clock like the pilot process does.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from appliance.board.description import BoardDescription, load_board
from appliance.j1772.duty import current_from_duty
from appliance.pilot.config import PilotConfig, StationConfig
from appliance.pilot.controller import PilotController
from appliance.pilot.engine import PilotEngine
from appliance.pilot.events import FaultChanged, StateChanged
from appliance.pilot.service import PilotService
from appliance.scenario.player import ScenarioPlayer
from appliance.scenario.schema import Scenario
from appliance.scenario.supervised import InProcessSupervisor
from appliance.simulator.clock import SimClock
from appliance.simulator.hat import SimulatedHat
from appliance.simulator.station_model import HardwareEvent
from appliance.wiring import per_line_phase


@dataclass
class Report:
    events: list[dict[str, Any]] = field(default_factory=list)
    samples: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"events": self.events, "samples": self.samples}

    def write(self, path: Path) -> None:
        Path(path).write_text(json.dumps(self.to_json(), indent=None, separators=(",", ":")) + "\n", encoding="utf-8")

    # -- queries the tests use ---------------------------------------------------------
    def of(self, kind: str, station: int | None = None, **match: Any) -> list[dict[str, Any]]:
        return [
            e for e in self.events
            if e["type"] == kind and (station is None or e["station"] == station)
            and all(e.get(k) == v for k, v in match.items())
        ]

    def first(self, kind: str, station: int | None = None, after: float = -1.0, **match: Any) -> dict[str, Any] | None:
        return next((e for e in self.of(kind, station, **match) if e["t"] > after), None)


def pilot_config_for(scenario: Scenario) -> PilotConfig:
    stations = []
    for sid in (1, 2):
        s = scenario.setup(sid)
        stations.append(StationConfig(id=sid, max_current_a=s.max_current_a, phase_rotation=s.phase_rotation,
                                      ventilation=s.ventilation, tethered=s.tethered))
    return PilotConfig(line_limit_a=scenario.site.line_limit_a, stations=stations)


class ScenarioRunner:
    def __init__(
        self,
        scenario: Scenario,
        speed: float = 0.0,
        seed: int = 1,
        noise_v: float = 0.05,
        board: BoardDescription | None = None,
        on_event: Callable[[dict[str, Any]], None] | None = None,
    ) -> None:
        self.on_event = on_event
        self.scenario = scenario
        self.board = board or load_board()
        self.clock = SimClock(speed)
        self.report = Report()
        self.hat = SimulatedHat(self.board, self.clock, voltage_v=scenario.site.voltage_v, noise_v=noise_v,
                                seed=seed, on_event=self._hardware_event)
        self.config = pilot_config_for(scenario)
        self.engine = PilotEngine(self.config, weld_voltage_v=self.board.contactor.weld_voltage_v)
        self.controller = PilotController(self.hat.drivers(), self.engine, self.board, self.clock)
        self.service = PilotService(self.engine, self.clock.now, simulated=True)
        self.supervisor = InProcessSupervisor(scenario, self.service)
        self.player = ScenarioPlayer(scenario.event, self.hat, self.service, self.supervisor)
        self.period = self.config.timing.loop_period_s
        self._tick = 0
        self._next_policy, self._next_sample = 0.0, 1.0

    # ------------------------------------------------------------------ run
    def run(self, until: float) -> Report:
        """Run to `until` simulated seconds; calling it again continues from there."""
        if self._tick == 0:
            self.controller.start()
        while True:
            t = self._tick * self.period
            if t > until + 1e-9:
                break
            self.player.play(self.clock, t)
            if not self.player.stalled(t):  # a stalled loop neither ticks nor kicks; the HAT runs on
                self.controller.tick()
                self._engine_events()
            now = self.clock.now()
            if now >= self._next_policy:
                self.supervisor.update(now)
                self._next_policy += 1.0
            if now >= self._next_sample:
                self._sample(self._next_sample)
                self._next_sample += 1.0
            self._tick += 1
        return self.report

    # ------------------------------------------------------------------ recording
    def _record(self, event: dict[str, Any]) -> None:
        self.report.events.append(event)
        if self.on_event is not None:
            self.on_event(event)

    def _hardware_event(self, ev: HardwareEvent) -> None:
        if ev.kind == "duty":
            duty = ev.duty_pct if ev.duty_pct is not None else 0.0
            self._record({"t": round(ev.t, 4), "station": ev.station, "type": "duty",
                                       "duty_pct": round(duty, 2), "offered_a": round(current_from_duty(duty), 2)})
        else:
            self._record({"t": round(ev.t, 4), "station": ev.station, "type": "contactor", "closed": ev.closed})

    def _engine_events(self) -> None:
        for ev in self.engine.drain_events():
            if isinstance(ev, StateChanged):
                self._record({"t": round(ev.t, 4), "station": ev.station, "type": "state",
                                           "from": ev.old.value, "to": ev.new.value})
            elif isinstance(ev, FaultChanged):
                self._record({"t": round(ev.t, 4), "station": ev.station, "type": "fault",
                                           "code": ev.code.value, "active": ev.active, "message": ev.message})

    def _sample(self, t: float) -> None:
        line = [0.0, 0.0, 0.0]
        stations = {}
        for sid, st in self.engine.stations.items():
            sim = self.hat.stations[sid]
            currents = sim.phase_currents()
            line = [a + b for a, b in zip(line, per_line_phase(st.cfg.phase_rotation, currents), strict=False)]
            stations[str(sid)] = {
                "state": st.state.value, "offered_a": round(st.offered_a, 2),
                "current_a": [round(c, 2) for c in currents], "contactor": sim.contacts,
                "mode": self.supervisor.mode(sid), "reason": self.supervisor.reason(sid),
                "energy_kwh": round(sim.car.energy_wh / 1000, 4) if sim.car else 0.0,
            }
        self.report.samples.append({"t": round(t, 3), "line_limit_a": self.engine.line_limit_a,
                                    "line_a": [round(x, 2) for x in line], "stations": stations})
