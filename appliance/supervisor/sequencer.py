"""Allocations -> pilot `set` commands, decreases before increases.

Lower first; raise another station only once the lowered one's current has fallen or its car
had its 5 s to follow, and only in steps the pilot's line check will accept: on every line
phase the pilot counts a station on, the allowed allocations of the stations counted there
never above the line limit.
"""

from __future__ import annotations

from appliance.j1772.duty import MIN_CURRENT_A
from appliance.protocol import SetCurrent
from appliance.supervisor.live import LiveStation

SETTLE_S = 5.0
FALLEN_MARGIN_A = 1.0


class CommandSequencer:
    def __init__(self, settle_s: float = SETTLE_S) -> None:
        self.settle_s = settle_s
        self._lowered: dict[int, tuple[float, float]] = {}  # station -> (when, new target)

    def commands(self, now: float, targets: dict[int, float], live: dict[int, LiveStation],
                 line_limit_a: float) -> list[SetCurrent]:
        out: list[SetCurrent] = []
        requested = {sid: (st.requested_a if st.allowed else 0.0) for sid, st in live.items()}
        for sid, target in targets.items():
            if target < requested[sid] - 1e-9:
                out.append(_set(sid, target))
                requested[sid] = target
                self._lowered[sid] = (now, target)
        self._lowered = {
            sid: (when, target) for sid, (when, target) in self._lowered.items()
            if now - when < self.settle_s and max(live[sid].current_a) > target + FALLEN_MARGIN_A
        }
        if self._lowered:
            return out  # wait for the lowered station before raising anyone
        for sid, target in sorted(targets.items(), key=lambda kv: kv[1]):
            if target > requested[sid] + 1e-9:
                phases = live[sid].counted_line_phases
                others = max(sum(a for s, a in requested.items() if s != sid and p in live[s].counted_line_phases)
                             for p in phases)
                step = min(target, line_limit_a - others)
                if step >= MIN_CURRENT_A and step > requested[sid] + 1e-9:
                    out.append(_set(sid, step))
                    requested[sid] = step
        return out


def _set(station: int, amps: float) -> SetCurrent:
    amps = round(amps, 1)
    return SetCurrent(station=station, current_a=amps if amps >= MIN_CURRENT_A else 0.0, allowed=amps >= MIN_CURRENT_A)
