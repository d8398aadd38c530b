"""State topics: plain values as Home Assistant and evcc read them, from the core's views.

Only what changed is published, and everything at least every `FULL_EVERY_S` (a broker or a
client that missed a message catches up); all retained, so a new subscriber sees it at once.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from appliance.supervisor.mqtt.discovery import PHASES
from appliance.supervisor.mqtt.topics import Topics

FULL_EVERY_S = 10.0


def _on_off(value: bool) -> str:
    return "ON" if value else "OFF"


def _number(value: float, digits: int = 2) -> str:
    return f"{round(value, digits):g}"


def station_values(view: dict[str, Any]) -> dict[str, str]:
    """Last topic level -> payload for one station (`SupervisorCore.station_view`)."""
    faults = [f["code"] for f in view["faults"]]
    session = view["session"]
    values = {
        "vehicle_state": view["state"], "power": _number(view["power_total_w"], 1),
        "energy": _number(view["energy_wh"] / 1000, 3),
        "session_energy": _number(session["energy_kwh"] if session else 0.0, 3),
        "offered_current": _number(view["offered_a"], 1), "reason": view["reason"][:255],
        "faults": ", ".join(faults) if faults else "none", "problem": _on_off(bool(faults)),
        "plugged": _on_off(view["state"] in ("B", "C", "D")), "charging": _on_off(view["charging"]),
        "mode": view["mode"], "enabled": "false" if view["mode"] == "off" else "true",
        "max_current": _number(view["max_current_a"], 1), "priority": str(view["priority"]),
    }
    for i in PHASES:
        values[f"current_l{i}"] = _number(view["current_a"][i - 1])
        values[f"voltage_l{i}"] = _number(view["voltage_v"][i - 1], 1)
    return values


def site_values(snapshot: dict[str, Any]) -> dict[str, str]:
    """Last topic level -> payload for the site (`SupervisorCore.snapshot`)."""
    limit = snapshot["external_limit"]
    values = {f"line_l{i}": _number(amps) for i, amps in zip(PHASES, snapshot["line_a"], strict=False)}
    values["operating_limit"] = _number(snapshot["operating_limit_a"], 1)
    values["limit"] = json.dumps({
        "active": limit is not None,
        "current_a": None if limit is None or limit["current_a"] is None else min(limit["current_a"]),
        "per_phase_a": None if limit is None else limit["current_a"],
        "cap_a": None if limit is None else limit["cap_a"],
        "power_w": None if limit is None else limit["power_w"],
        "expires_at": None if limit is None else limit["expires_at"],
        "source": None if limit is None else limit["source"]})
    return values


class StatePublisher:
    """Publishes the values that changed since the last call, or all of them when forced."""

    def __init__(self, topics: Topics, snapshot: Callable[[], dict[str, Any]],
                 publish: Callable[[str, str], None], clock: Callable[[], float]) -> None:
        self.topics = topics
        self.snapshot = snapshot
        self.publish = publish
        self.clock = clock
        self._sent: dict[str, str] = {}
        self._full_at = float("-inf")

    def forget(self) -> None:
        """After a (re)connect: the next call sends everything."""
        self._sent.clear()

    def update(self) -> None:
        now = self.clock()
        if now - self._full_at >= FULL_EVERY_S:
            self._sent.clear()
            self._full_at = now
        for topic, payload in self._values().items():
            if self._sent.get(topic) != payload:
                self._sent[topic] = payload
                self.publish(topic, payload)

    def _values(self) -> dict[str, str]:
        snap = self.snapshot()
        values = {self.topics.site(key): payload for key, payload in site_values(snap).items()}
        for view in snap["stations"]:
            values.update({self.topics.station(view["id"], key): payload
                           for key, payload in station_values(view).items()})
        return values
