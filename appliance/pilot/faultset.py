"""A station's active faults: the one place that raises, latches and clears them.

Every change is an event and a log line. What a fault does while active (pilot mode,
blocking) and what clears it come from the fault's policy in `appliance.j1772.faults`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from appliance.j1772.faults import POLICY, Clears, FaultCode
from appliance.j1772.states import PilotMode
from appliance.pilot.events import Event, FaultChanged
from appliance.pilot.logring import LogRing


@dataclass
class ActiveFault:
    since: float
    message: str


class FaultSet:
    def __init__(self, station: int, emit: Callable[[Event], None], log: LogRing) -> None:
        self.station = station
        self._emit = emit
        self._log = log
        self.active: dict[FaultCode, ActiveFault] = {}

    def __contains__(self, code: object) -> bool:
        return code in self.active

    def __iter__(self) -> Iterator[FaultCode]:
        return iter(list(self.active))

    def raise_(self, now: float, code: FaultCode, message: str, *, renew: bool = False) -> bool:
        """Raise `code`; an active fault is reported again only with `renew` and a new message."""
        current = self.active.get(code)
        if current is not None and not (renew and current.message != message):
            return False
        self.active[code] = ActiveFault(current.since if current else now, message)
        self._emit(FaultChanged(now, self.station, code, True, message))
        level = "error" if POLICY[code].blocks_charging else "warning"
        self._log.log(now, level, f"{code.value}: {message}", self.station)
        return True

    def clear(self, now: float, code: FaultCode, why: str = "condition cleared") -> bool:
        if self.active.pop(code, None) is None:
            return False
        self._emit(FaultChanged(now, self.station, code, False, why))
        self._log.log(now, "info", f"{code.value} cleared: {why}", self.station)
        return True

    def condition(self, now: float, code: FaultCode, problem: str | None) -> None:
        """A fault that is active exactly while `problem` is (not None)."""
        if problem is None:
            self.clear(now, code)
        else:
            self.raise_(now, code, problem)

    def clear_latched(
        self, now: float, why: str, *, service: bool = False, only: FaultCode | None = None
    ) -> list[FaultCode]:
        """Clear the latched faults (those cleared by unplug, and with `service` the service-only ones)."""
        cleared = []
        for code in self:
            clears = POLICY[code].clears
            if (only is None or code is only) and (clears is Clears.UNPLUG or (clears is Clears.SERVICE and service)):
                self.clear(now, code, why)
                cleared.append(code)
        return cleared

    def blocking(self) -> FaultCode | None:
        """The first active fault that forbids closing the contactor, if any."""
        return next((c for c in self.active if POLICY[c].blocks_charging), None)

    def pilot_mode(self, now: float, f_hold_s: float) -> PilotMode | None:
        """The pilot the active faults force: F wins; a latched F turns X1 after `f_hold_s` to watch for the unplug."""
        modes = set()
        for code, fault in self.active.items():
            mode = POLICY[code].pilot
            if mode is PilotMode.F and POLICY[code].clears is Clears.UNPLUG and now - fault.since >= f_hold_s:
                mode = PilotMode.X1
            if mode is not None:
                modes.add(mode)
        if PilotMode.F in modes:
            return PilotMode.F
        return PilotMode.X1 if modes else None
