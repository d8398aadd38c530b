"""The stand-in supervisor for scenario runs: a fixed share of the line per charging station.

It speaks to the pilot only through the protocol's command handler, so every allocation
goes through the same validation as a real supervisor's, decreases before increases.
"""

from __future__ import annotations

import math
from typing import Any

from appliance.pilot.service import PilotService

CHARGING_STATES = ("B", "C", "D")


class FixedAllocation:
    """Each charging station gets line limit / number of charging stations."""

    def __init__(self, service: PilotService, modes: dict[int, str]) -> None:
        self.service = service
        self.modes = dict(modes)
        self.reasons: dict[int, str] = {sid: "starting" for sid in modes}
        self.silent_until = -math.inf
        self.rejections: list[str] = []

    def kill(self, now: float, seconds: float) -> None:
        """The supervisor is gone for `seconds`: no commands, no heartbeats."""
        self.silent_until = now + seconds

    def set_mode(self, station: int, mode: str, departure: float | None, energy_kwh: float | None) -> None:
        self.modes[station] = mode

    def set_priority(self, station: int, priority: int) -> None:
        """Priorities need the supervisor's load sharing; a fixed share ignores them."""

    def update(self, now: float) -> None:
        if now < self.silent_until:
            self.reasons = {sid: "supervisor not running" for sid in self.reasons}
            return
        snap = self._call({"cmd": "get_all"})
        limit = snap["line_limit_a"]
        stations: dict[str, Any] = snap["stations"]
        active = [
            int(sid) for sid, st in stations.items()
            if st["state"] in CHARGING_STATES and self.modes.get(int(sid), "on") != "off"
        ]
        share = math.floor(limit / len(active) * 10) / 10 if active else 0.0
        share = share if share >= 6 else 0.0
        targets = {int(sid): (self._cap(share, st) if int(sid) in active else 0.0) for sid, st in stations.items()}
        # decreases first, so the pilot's line check holds at every step
        order = sorted(targets, key=lambda sid: targets[sid] - stations[str(sid)]["requested_a"])
        for sid in order:
            st = stations[str(sid)]
            allowed = targets[sid] > 0
            if st["requested_a"] != targets[sid] or st["allowed"] != allowed:
                self._call({"cmd": "set", "station": sid, "current_a": targets[sid], "allowed": allowed})
            self.reasons[sid] = self._reason(sid, st, targets[sid], len(active))
        self._call({"cmd": "heartbeat"})

    @staticmethod
    def _cap(share: float, st: dict[str, Any]) -> float:
        """A share never above what the station and its cable can carry."""
        limits = [share, st["max_current_a"]] + ([st["cable_a"]] if st["cable_a"] is not None else [])
        return min(limits)

    def _reason(self, sid: int, st: dict[str, Any], target: float, n_active: int) -> str:
        mode = self.modes.get(sid, "on")
        if st["faults"]:
            return f"fault: {st['faults'][0]['code']}"
        if mode == "off":
            return "off"
        if st["state"] == "A":
            return "no car"
        if target <= 0:
            return "paused: less than 6 A available"
        if st["state"] == "B":
            return "waiting for the car"
        share = f"{target:g} A, line shared by {n_active}" if n_active > 1 else f"{target:g} A"
        return f"charging ({share})"

    def _call(self, command: dict[str, Any]) -> dict[str, Any]:
        answer = self.service.handle(command)
        if not answer["ok"]:
            self.rejections.append(answer["error"]["message"])
        return answer
