"""A stand-in for `evse sim` while its wiring is unfinished: the real API app (create_app) on a
real core and storage, with a scripted pilot instead of the simulated HAT.

    python tests/ui/stub_server.py --port 8123 --data-dir /tmp/x

Station 1: car plugs at 3 s, charges 3-phase from 6 s; station 2: plugs at 12 s, charges on one
phase from 15 s. The core's decisions come from a trivial stand-in policy when the real one is
missing. Only the UI tests use this, and only until `evse sim` serves the UI.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
import types
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))


def _ensure_policy() -> None:
    try:
        import appliance.supervisor.policy  # noqa: F401
    except ModuleNotFoundError:
        module = types.ModuleType("appliance.supervisor.policy")

        @dataclass
        class Decision:
            target_a: float
            reason: str

        class Policy:
            def decide(self, now, settings, live, prices, grid, limit):  # noqa: ANN001
                out = {}
                plugged = [sid for sid, st in live.items() if st.plugged and settings.station(sid).mode != "off"]
                share = limit / max(1, len(plugged))
                for sid, st in live.items():
                    cfg = settings.station(sid)
                    if cfg.mode == "off":
                        out[sid] = Decision(0.0, "off: switched off by the user")
                    elif not st.plugged:
                        out[sid] = Decision(0.0, "waiting for a car")
                    else:
                        out[sid] = Decision(min(cfg.max_current_a, share), f"charging: {min(cfg.max_current_a, share):.0f} A share of the line")
                return out

        module.Decision, module.Policy = Decision, Policy
        sys.modules["appliance.supervisor.policy"] = module


class Recorder:
    def __init__(self, storage) -> None:  # noqa: ANN001
        self.storage = storage

    def telemetry(self, now, live) -> None:  # noqa: ANN001
        from appliance.supervisor.storage import TelemetrySample

        self.storage.telemetry.add(TelemetrySample(now, live.station, live.state, live.pilot, live.offered_a,
                                                   tuple(live.current_a), tuple(live.voltage_v), tuple(live.power_w),
                                                   live.energy_wh))
        if live.station == 2:
            self.storage.telemetry.flush()

    def event(self, now, kind, station, message, data=None) -> None:  # noqa: ANN001
        self.storage.events.add(now, kind, message, station, data)

    def fault(self, now, station, code, active, message) -> None:  # noqa: ANN001
        self.storage.faults.record(now, station, code, active, message)

    def session_opened(self, session) -> None:  # noqa: ANN001
        session.id = self.storage.sessions.open(session.station, session.start, session.mode)

    def session_updated(self, session) -> None:  # noqa: ANN001
        if session.id:
            self.storage.sessions.update(session.id, session.energy_kwh, session.peak_power_w, session.cost)

    def session_closed(self, session) -> None:  # noqa: ANN001
        if session.id:
            self.storage.sessions.update(session.id, session.energy_kwh, session.peak_power_w, session.cost)
            self.storage.sessions.close(session.id, session.end)


class ScriptedPilot:
    """Two cars: what the pilot would report, following the supervisor's `set` commands."""

    def __init__(self, start: float) -> None:
        self.start = start
        self.offered = {1: 0.0, 2: 0.0}
        self.energy = {1: 0.0, 2: 0.0}
        self.last = start

    def apply(self, command: dict) -> None:
        if command.get("cmd") == "set":
            self.offered[command["station"]] = command["current_a"] if command["allowed"] else 0.0

    def snapshot(self, now: float) -> dict:
        t = now - self.start
        dt, self.last = now - self.last, now
        out = {}
        for sid, (plug, charge, phases, car_max) in {1: (3, 6, 3, 32), 2: (12, 15, 1, 16)}.items():
            state = "A" if t < plug else "B" if t < charge or self.offered[sid] < 6 else "C"
            offered = self.offered[sid] if t >= plug else 0.0
            amps = min(offered, car_max) if state == "C" else 0.0
            current = [amps if i < phases else 0.0 for i in range(3)]
            voltage = [230.0 + sid, 229.0, 231.0] if state == "C" else [0.0, 0.0, 0.0]
            power = [c * 230.0 for c in current]
            self.energy[sid] += sum(power) * dt / 3600
            out[str(sid)] = {"station": sid, "state": state, "pilot": "X2" if offered >= 6 else "X1",
                             "offered_a": offered, "requested_a": offered, "allowed": offered >= 6,
                             "contactor": state == "C", "cable_a": 32.0 if t >= plug else None, "faults": [],
                             "voltage_v": voltage, "current_a": current, "power_w": power,
                             "energy_wh": self.energy[sid]}
        return out


async def run(port: int, data_dir: Path) -> None:
    _ensure_policy()
    import uvicorn

    from appliance import __version__
    from appliance.supervisor.api.app import create_app
    from appliance.supervisor.app_context import AppContext
    from appliance.supervisor.core import SupervisorCore
    from appliance.supervisor.settings import SiteSettings
    from appliance.supervisor.storage import Storage

    data_dir.mkdir(parents=True, exist_ok=True)
    storage = Storage(data_dir / "evse.sqlite")
    core = SupervisorCore(SiteSettings(price_threshold=0.2), Recorder(storage))
    now = time.time()
    hour = 3600 * (now // 3600)
    core.set_prices([(hour + i * 3600, hour + (i + 1) * 3600, p) for i, p in enumerate([0.31, 0.12, 0.25, 0.18, 0.3, 0.1])])
    storage.prices.replace(hour, hour + 6 * 3600, [(hour + i * 3600, hour + (i + 1) * 3600, p)
                                                    for i, p in enumerate([0.31, 0.12, 0.25, 0.18, 0.3, 0.1])])
    ctx = AppContext(core=core, storage=storage, data_dir=data_dir, version=__version__, simulated=True)
    app = create_app(ctx)
    pilot = ScriptedPilot(time.time())
    core.on_connected({"line_limit_a": 32, "stations": [{"id": 1, "max_current_a": 32}, {"id": 2, "max_current_a": 32}]},
                      time.time())

    async def loop() -> None:
        tick = 0
        while True:
            now = time.time()
            core.on_pilot_message({"event": "telemetry", "t": now, "line_limit_a": 32, "stations": pilot.snapshot(now)}, now)
            if tick % 2 == 0:
                for command in core.cycle(now):
                    pilot.apply(command)
            tick += 1
            await asyncio.sleep(0.5)

    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    task = asyncio.create_task(loop())
    try:
        await server.serve()
    finally:
        task.cancel()
        storage.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=8123)
    parser.add_argument("--data-dir", type=Path, required=True)
    args = parser.parse_args()
    asyncio.run(run(args.port, args.data_dir))


if __name__ == "__main__":
    main()
