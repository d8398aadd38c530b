"""The residual-current module's self-test, run before every contactor close (SPEC §3)."""

from __future__ import annotations

from enum import Enum


class Phase(str, Enum):
    TRIP = "trip"  # test input driven; the module must report a fault
    RELEASE = "release"  # test input released; the fault lines must clear
    PASSED = "passed"
    FAILED = "failed"


class RcdSelfTest:
    def __init__(self, now: float, timeout_s: float) -> None:
        self.phase = Phase.TRIP
        self.timeout_s = timeout_s
        self._since = now
        self.reason = ""

    @property
    def test_line(self) -> bool:
        return self.phase is Phase.TRIP

    @property
    def done(self) -> bool:
        return self.phase in (Phase.PASSED, Phase.FAILED)

    def update(self, now: float, fault_dc: bool, fault_ac: bool) -> Phase:
        if self.phase is Phase.TRIP:
            if fault_dc:
                self.phase, self._since = Phase.RELEASE, now
            elif now - self._since > self.timeout_s:
                self._fail(f"no trip within {self.timeout_s * 1000:.0f} ms of the test signal")
        elif self.phase is Phase.RELEASE and not (fault_dc or fault_ac):
            self.phase = Phase.PASSED
        return self.phase

    @property
    def released_at(self) -> float:
        """When the module answered and the test signal was taken away (RELEASE onwards)."""
        return self._since

    def _fail(self, reason: str) -> None:
        self.phase, self.reason = Phase.FAILED, reason
