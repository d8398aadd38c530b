"""Pilot messages for supervisor tests, built from the protocol's own models."""

from __future__ import annotations

from typing import Any

from appliance import protocol as p


def hello(line_limit_a: float = 32.0, stations: list[dict[str, Any]] | None = None) -> p.HelloReply:
    infos = stations or [{"id": 1, "max_current_a": 32.0}, {"id": 2, "max_current_a": 32.0}]
    return p.HelloReply(version="test", simulated=True, boot_id="boot", line_limit_a=line_limit_a,
                        stations=[p.StationInfo(phase_rotation=[1, 2, 3], **s) for s in infos])


def event(kind: str, t: float = 0.0, **fields: Any) -> p.Event:
    """A pilot event as the supervisor reads it off the socket."""
    return p.EVENT.validate_python({"event": kind, "t": t, **fields})


def telemetry(line_limit_a: float = 32.0, t: float = 0.0, **stations: dict[str, Any]) -> p.Event:
    """A telemetry frame; stations given as s1=..., s2=... (snapshot fields)."""
    return event("telemetry", t, line_limit_a=line_limit_a, supervisor_lost=False, temperature_c=None,
                 stations={sid.removeprefix("s"): {"station": int(sid.removeprefix("s")), **snap}
                           for sid, snap in stations.items()})
