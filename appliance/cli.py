"""`evse`: one command for the appliance (`python -m appliance` is the same)."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import signal
import sys
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

from appliance import __version__

if TYPE_CHECKING:
    from appliance.supervisor.api.app import WebOptions
    from appliance.supervisor.server import ServerOptions

OCPP_HELP = "connect to an OCPP 1.6J central system: ws[s]://HOST:PORT/PATH/<charge point id>"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="evse", description="Two-station EV charging appliance")
    parser.add_argument("--version", action="version", version=f"evse {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    pilot = sub.add_parser("pilot", help="run the real-time pilot process (the only code that touches the HAT)")
    pilot.add_argument("--sim", action="store_true", help="run on the simulated HAT")
    pilot.add_argument("--config", type=Path, help="pilot configuration (TOML): line limit, station ratings")
    pilot.add_argument("--socket", help="supervisor socket path (default: $EVSE_PILOT_SOCKET or a per-user path)")
    pilot.add_argument("--pwm", choices=("pigpio", "sysfs"), default="pigpio",
                       help="pilot PWM backend on real hardware (sysfs for Pi 5 and Debian kernels)")
    pilot.add_argument("--realtime", action="store_true", help="SCHED_FIFO, mlockall (needs privileges)")
    pilot.add_argument("--cpu", type=int, help="pin the process to this CPU")
    pilot.add_argument("--scenario", type=Path, help="with --sim: play this scenario's car events in real time")

    sup = sub.add_parser("supervisor", help="run the supervisor: load sharing, storage, REST API, web UI")
    sup.add_argument("--socket", help="pilot socket path (default: $EVSE_PILOT_SOCKET or a per-user path)")
    sup.add_argument("--data-dir", help="data directory (default: $EVSE_DATA_DIR or a per-user directory)")
    sup.add_argument("--host", default="127.0.0.1")
    sup.add_argument("--port", type=int, default=8080)
    _web_flags(sup)
    sup.add_argument("--mqtt-url", type=_mqtt_url, help=MQTT_HELP)
    sup.add_argument("--ocpp-url", type=_ocpp_url, help=OCPP_HELP)

    sim = sub.add_parser("sim", help="run on the simulated HAT: a scenario, or the real-time demo")
    sim.add_argument("--scenario", type=Path, help="scenario file (TOML); default: the built-in demo in real time")
    sim.add_argument("--speed", type=float, default=None, help="1 = real time, 0 = as fast as possible")
    sim.add_argument("--until", type=float, default=None, help="simulated seconds to run")
    sim.add_argument("--report", type=Path, help="write the JSON report here")
    sim.add_argument("--seed", type=int, default=1, help="noise seed")
    sim.add_argument("--noise", type=float, default=0.05, help="pilot measurement noise sigma in volts")
    sim.add_argument("--host", default="127.0.0.1")
    sim.add_argument("--port", type=int, default=8080)
    sim.add_argument("--data-dir", help="data directory (default: $EVSE_DATA_DIR or a per-user directory)")
    _web_flags(sim)
    sim.add_argument("--mqtt-url", type=_mqtt_url, help=MQTT_HELP + " (real-time demo only)")
    sim.add_argument("--ocpp-url", type=_ocpp_url, help=OCPP_HELP + " (the real-time demo, not a scenario run)")
    return parser


def _web_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--allowed-host", action="append", default=[], metavar="NAME",
                        help="also answer to this host name or address (repeatable; also $EVSE_ALLOWED_HOSTS, "
                             "space- or comma-separated); its own names and addresses are always allowed")
    parser.add_argument("--https-port", type=int, metavar="PORT",
                        help="also serve HTTPS here, with this charger's own certificate (default: off)")
    parser.add_argument("--http", choices=("lan", "local"), default=os.environ.get("EVSE_HTTP") or "lan",
                        help="with HTTPS on: plain HTTP for the LAN too (lan), or only for this machine (local; "
                             "browsers on the LAN are sent to HTTPS); also $EVSE_HTTP")
    parser.add_argument("--forwarded-allow-ips", metavar="ADDRESSES",
                        help="trust X-Forwarded-For/-Proto from these proxy addresses (comma-separated); "
                             "default: from nobody")


def _web_options(args: argparse.Namespace) -> WebOptions:
    from appliance.supervisor.api.app import WebOptions

    extra = os.environ.get("EVSE_ALLOWED_HOSTS", "").replace(",", " ").split()
    return WebOptions(allowed_hosts=tuple(extra + list(args.allowed_host)), http=args.http)


def _server_options(args: argparse.Namespace) -> ServerOptions:
    from appliance.supervisor.server import ServerOptions

    return ServerOptions(forwarded_allow_ips=args.forwarded_allow_ips)


MQTT_HELP = "publish to this MQTT broker, mqtt[s]://[USER:PASS@]HOST[:PORT] (replaces the saved broker)"


def _mqtt_url(value: str) -> str:
    """Checked before anything starts, so a typo is a usage error rather than a failing link."""
    from appliance.supervisor.mqtt.settings import parse_url

    try:
        parse_url(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return value


def _ocpp_url(value: str) -> str:
    from appliance.supervisor.ocpp.settings import check_url

    try:
        return check_url(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "pilot":
            return _pilot(args)
        if args.command == "supervisor":
            return _supervisor(args)
        return _sim(args)
    except KeyboardInterrupt:
        return 130
    except (ValueError, OSError) as exc:
        print(f"evse: {exc}", file=sys.stderr)
        return 2


def _supervisor(args: argparse.Namespace) -> int:
    from appliance import paths
    from appliance.supervisor.main import build, serve

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    serve(build(paths.pilot_socket(args.socket), paths.data_dir(args.data_dir), mqtt_url=args.mqtt_url,
                ocpp_url=args.ocpp_url), args.host, args.port, _web_options(args), _server_options(args),
          args.https_port)
    return 0


def _sim(args: argparse.Namespace) -> int:
    from appliance.scenario.loader import load_scenario
    from appliance.scenario.runner import ScenarioRunner

    if args.scenario is None:
        return _demo(args)
    if args.mqtt_url is not None:
        raise ValueError("--mqtt-url needs the real-time demo: a scenario run has no supervisor to publish")
    if args.ocpp_url is not None:
        raise ValueError("--ocpp-url runs with the real-time demo, not with --scenario")
    scenario = load_scenario(args.scenario)
    speed = 0.0 if args.speed is None else args.speed
    until = args.until if args.until is not None else max([e.at for e in scenario.event] + [0.0]) + 60.0
    if speed < 0 or until < 0:
        raise ValueError("--speed and --until must not be negative")
    echo = _print_event if speed > 0 else None
    runner = ScenarioRunner(scenario, speed=speed, seed=args.seed, noise_v=args.noise, on_event=echo)
    try:
        report = runner.run(until)
    finally:
        if args.report is not None:
            runner.report.write(args.report)
    faults = [e for e in report.events if e["type"] == "fault" and e["active"]]
    print(f"evse: ran {until:g} s simulated: {len(report.events)} events, {len(report.samples)} samples, "
          f"{len(faults)} faults raised" + (f"; report in {args.report}" if args.report else ""))
    return 0


def _print_event(event: dict[str, Any]) -> None:
    print(json.dumps(event), flush=True)


def _demo(args: argparse.Namespace) -> int:
    """The whole appliance on the simulated HAT: a pilot process playing the demo's cars, and the
    supervisor with its UI and API, talking over the real socket."""
    import subprocess
    import tempfile
    import time

    from appliance import paths
    from appliance.scenario.loader import parse_scenario
    from appliance.scenario.supervised import site_settings
    from appliance.supervisor.main import build, serve

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    text = resources.files("appliance.scenario").joinpath("demo.toml").read_text(encoding="utf-8")
    scenario = parse_scenario(text, "demo.toml")
    data_dir = paths.data_dir(args.data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    socket_path = Path(tempfile.mkdtemp(prefix="evse-")) / "pilot.sock"
    scenario_file = socket_path.parent / "demo.toml"
    scenario_file.write_text(text, encoding="utf-8")
    pilot = subprocess.Popen([sys.executable, "-m", "appliance", "pilot", "--sim", "--socket", str(socket_path),
                              "--scenario", str(scenario_file)], preexec_fn=_die_with_parent)
    start = time.time()
    prices = [(start + p.start, start + p.end, p.price) for p in scenario.site.prices]
    print(f"evse: simulated HAT, pilot process and supervisor; open http://{args.host}:{args.port}/ "
          f"(data in {data_dir})", flush=True)
    try:
        serve(build(socket_path, data_dir, simulated=True, settings=site_settings(scenario), prices=prices,
                    mqtt_url=args.mqtt_url, ocpp_url=args.ocpp_url), args.host, args.port, _web_options(args),
              _server_options(args), args.https_port)
    finally:
        pilot.terminate()
        pilot.wait(timeout=10)
    return 0


def _pilot(args: argparse.Namespace) -> int:
    from appliance import paths
    from appliance.board.description import load_board
    from appliance.clock import Clock, MonotonicClock
    from appliance.pilot.config import load_pilot_config
    from appliance.pilot.controller import PilotController
    from appliance.pilot.engine import PilotEngine
    from appliance.pilot.process import PilotProcess
    from appliance.pilot.realtime import make_realtime
    from appliance.pilot.service import PilotService
    from appliance.simulator.clock import SimClock

    board = load_board()
    config = load_pilot_config(args.config)
    engine = PilotEngine(config, weld_voltage_v=board.contactor.weld_voltage_v)
    sim_clock = SimClock(speed=1.0)
    clock: Clock = sim_clock if args.sim else MonotonicClock()
    service = PilotService(engine, clock.now, simulated=args.sim)
    before_tick = None
    if args.sim:
        from appliance.scenario.loader import load_scenario
        from appliance.scenario.player import ScenarioPlayer
        from appliance.simulator.hat import SimulatedHat

        hat = SimulatedHat(board, sim_clock)
        drivers = hat.drivers()
        events = load_scenario(args.scenario).event if args.scenario is not None else []
        player = ScenarioPlayer(events, hat, service, _NoSupervisor())

        def before_tick(now: float) -> None:
            player.play(sim_clock, now)
            if player.stalled(now):  # loop_stall: the control thread really stops, kicks and all
                sim_clock.advance_to(player.stalled_until)
                hat.advance(sim_clock.now())
    else:
        from appliance.drivers.hat import build_hardware_drivers

        drivers = build_hardware_drivers(board, backend=args.pwm)
    if args.realtime or args.cpu is not None:
        for problem in make_realtime(cpu=args.cpu):
            print(f"evse pilot: real-time setting not applied: {problem}", file=sys.stderr)
    controller = PilotController(drivers, engine, board, clock)
    process = PilotProcess(controller, service, clock, paths.pilot_socket(args.socket), before_tick=before_tick)

    async def run() -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, process.stop)
        print(f"evse pilot: serving {process.socket_path} ({'simulated HAT' if args.sim else 'HAT'})", flush=True)
        await process.serve()

    asyncio.run(run())
    return 0


def _die_with_parent() -> None:
    """In the demo's pilot child: the kernel sends SIGTERM when `evse sim` goes, however it goes."""
    import ctypes
    import ctypes.util

    pr_set_pdeathsig = 1
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    libc.prctl(pr_set_pdeathsig, signal.SIGTERM)


class _NoSupervisor:
    """In the pilot process, supervisor-side scenario actions belong to the supervisor."""

    def kill(self, now: float, seconds: float) -> None: ...

    def set_mode(self, station: int, mode: str, departure: float | None, energy_kwh: float | None) -> None: ...

    def set_priority(self, station: int, priority: int) -> None: ...
