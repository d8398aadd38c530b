"""The pilot's command handler: protocol messages in, replies and events out.

Transport-free, so the socket server and the in-process scenario runner share it and every
command takes the same validation path. Bad input of any kind gets an error reply.
"""

from __future__ import annotations

import json
import math
import threading
import uuid
from typing import Any

from pydantic import ValidationError

from appliance import __version__
from appliance import protocol as p
from appliance.j1772.faults import POLICY
from appliance.pilot.engine import CommandRejected, PilotEngine
from appliance.pilot.events import Event, FaultChanged, OutputChanged, StateChanged
from appliance.pilot.station import StationMachine


def _num(x: float | None) -> float | None:
    return None if x is None or not math.isfinite(x) else round(x, 3)


def station_snapshot(st: StationMachine) -> p.StationSnapshot:
    m = st.last_meter
    return p.StationSnapshot(
        station=st.id, state=st.state.value, pilot=st.pilot.value, duty_pct=_num(st.duty_pct),
        offered_a=round(st.offered_a, 2), requested_a=round(st.request_a, 2), allowed=st.request_allowed,
        contactor=st.contactor, cable_a=st.cable_a, max_current_a=st.cfg.max_current_a,
        phase_rotation=list(st.cfg.phase_rotation), line_phases=list(st.phases.line_phases),
        faults=[p.FaultInfo(code=c.value, message=f.message, since=round(f.since, 3),
                            blocking=POLICY[c].blocks_charging) for c, f in st.faults.active.items()],
        voltage_v=[round(v, 1) for v in m.voltage_v] if m else [0.0, 0.0, 0.0],
        current_a=[round(i, 2) for i in m.current_a] if m else [0.0, 0.0, 0.0],
        power_w=[round(w, 1) for w in m.power_w] if m else [0.0, 0.0, 0.0],
        energy_wh=round(m.energy_wh, 2) if m else 0.0,
        frequency_hz=round(m.frequency_hz, 2) if m else None,
        self_test=(p.SelfTestResult(t=round(st.last_self_test[0], 3), passed=st.last_self_test[1],
                                    reason=st.last_self_test[2]) if st.last_self_test else None),
    )


class PilotService:
    """The pilot's side of the protocol without a transport, so the socket server and the in-process
    scenario runner validate and answer every command the same way."""

    def __init__(self, engine: PilotEngine, now: Any, simulated: bool, lock: threading.Lock | None = None) -> None:
        self.engine = engine
        self.now = now  # callable returning the clock's time
        self.simulated = simulated
        self.lock = lock or threading.Lock()
        self.boot_id = uuid.uuid4().hex  # tells a supervisor that log sequence numbers started again

    # ------------------------------------------------------------------ commands
    def handle_line(self, line: bytes | str) -> dict[str, Any]:
        """One line from the socket -> one reply. Never raises on bad input."""
        if len(line) > p.MAX_LINE_BYTES:
            return p.error(None, p.ErrorCode.BAD_REQUEST, f"line longer than {p.MAX_LINE_BYTES} bytes")
        try:
            raw = json.loads(line)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            return p.error(None, p.ErrorCode.BAD_JSON, f"not JSON: {exc}")
        return self.handle(raw)

    def handle(self, raw: Any) -> dict[str, Any]:
        """One command (decoded JSON) -> its reply on the wire."""
        command_id = raw.get("id") if isinstance(raw, dict) else None
        if not isinstance(command_id, (int, str)) or isinstance(command_id, bool):
            command_id = None
        if not isinstance(raw, dict):
            return p.error(None, p.ErrorCode.BAD_REQUEST, "a command is a JSON object")
        if raw.get("cmd") not in p.COMMAND_NAMES:
            return p.error(command_id, p.ErrorCode.UNKNOWN_COMMAND,
                           f"unknown cmd {raw.get('cmd')!r}; known: {', '.join(p.COMMAND_NAMES)}")
        unsupported = _unsupported_version(raw)
        if unsupported:
            return p.error(command_id, p.ErrorCode.UNSUPPORTED_VERSION, unsupported)
        try:
            cmd = p.COMMAND.validate_python(raw)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(x) for x in first["loc"][1:]) or "command"
            return p.error(command_id, p.ErrorCode.BAD_REQUEST, f"{where}: {first['msg']}")
        with self.lock:
            now = self.now()
            try:
                return self._execute(cmd, now).wire()
            except CommandRejected as exc:
                return p.error(command_id, p.ErrorCode.REJECTED, str(exc))

    def _execute(self, cmd: p.Command, now: float) -> p.Reply:
        e = self.engine
        if not isinstance(cmd, p.FetchLogs):
            e.heartbeat(now)  # any well-formed command shows the supervisor is alive
        match cmd:
            case p.Hello():
                return p.HelloReply(id=cmd.id, version=__version__, simulated=self.simulated, boot_id=self.boot_id,
                                    line_limit_a=e.line_limit_a,
                                    stations=[p.StationInfo.model_validate(s.model_dump()) for s in e.config.stations])
            case p.Heartbeat():
                return p.HeartbeatReply(id=cmd.id, t=round(now, 3))
            case p.SetCurrent():
                st = e.set_current(now, cmd.station, cmd.current_a, cmd.allowed)
                return p.SetReply(id=cmd.id, station=st.id, requested_a=st.request_a, allowed=st.request_allowed)
            case p.SetLineLimit():
                e.set_line_limit(now, cmd.line_limit_a)
                return p.LineLimitReply(id=cmd.id, line_limit_a=e.line_limit_a)
            case p.HoldLimit():
                e.hold_limit(now, cmd.limit_a, cmd.expires_in_s)
                return p.HeldLimitReply(id=cmd.id, limit_a=cmd.limit_a and list(cmd.limit_a),
                                        expires_in_s=cmd.expires_in_s if cmd.limit_a else None)
            case p.GetAll():
                return p.SnapshotReply(id=cmd.id, **dict(self.snapshot()))
            case p.ClearFault():
                cleared = e.clear_fault(now, cmd.station, cmd.code, cmd.service)
                return p.ClearFaultReply(id=cmd.id, cleared=[c.value for c in cleared])
            case p.FetchLogs():
                entries = e.log.since(cmd.since, cmd.limit)
                return p.LogsReply(id=cmd.id, last_seq=e.log.last_seq, entries=[
                    p.LogEntry(seq=x.seq, t=round(x.t, 3), level=x.level, station=x.station, message=x.message)
                    for x in entries
                ])
            case p.SelfTest():
                e.self_test(now, cmd.station)
                return p.SelfTestReply(id=cmd.id, station=cmd.station, started=True)
        raise AssertionError(f"unhandled command {cmd!r}")

    # ------------------------------------------------------------------ pushed messages
    def snapshot(self) -> p.Snapshot:
        e = self.engine
        held = e.held_limit
        return p.Snapshot(
            t=round(e.now, 3),
            line_limit_a=e.line_limit_a,
            supervisor_lost=e.supervisor_lost(e.now),
            held_limit_a=None if held is None else list(held.amps),
            held_expires_in_s=None if held is None or math.isinf(held.until) else round(held.until - e.now, 1),
            temperature_c=_num(e.temperature_c),
            stations={sid: station_snapshot(st) for sid, st in e.stations.items()},
        )

    def telemetry(self) -> dict[str, Any]:
        return p.TelemetryEvent(**dict(self.snapshot())).wire()

    def event_messages(self, events: list[Event]) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for ev in events:
            if isinstance(ev, FaultChanged):
                out.append(p.FaultEvent(t=round(ev.t, 3), station=ev.station, code=ev.code.value, active=ev.active,
                                        message=ev.message).wire())
            elif isinstance(ev, (StateChanged, OutputChanged)):
                snap = station_snapshot(self.engine.stations[ev.station])
                cause = p.StateCause(from_=ev.old.value, to=ev.new.value) if isinstance(ev, StateChanged) else None
                out.append(p.StateEvent(t=round(ev.t, 3), cause=cause, **dict(snap)).wire())
        return out


def _unsupported_version(raw: dict[str, Any]) -> str | None:
    """Why the command's protocol version cannot be spoken here, or None. A command without `v` is
    taken as the current version; a `hello` may list every version its client speaks."""
    offered = (
        raw.get("versions")
        if raw.get("cmd") == "hello" and raw.get("versions") is not None
        else [raw.get("v", p.PROTOCOL_VERSION)]
    )
    if not isinstance(offered, list) or any(isinstance(v, bool) or not isinstance(v, int) for v in offered):
        return None  # malformed: the schema says what is wrong with it
    if any(v in p.SUPPORTED_VERSIONS for v in offered):
        return None
    spoken = ", ".join(str(v) for v in offered) or "none"
    return (f"protocol version {spoken} is not spoken here; this pilot speaks version "
            f"{', '.join(str(v) for v in p.SUPPORTED_VERSIONS)}: update the supervisor and the pilot together")
