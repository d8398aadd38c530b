"""Residual-current supervision: the self-test before every close, and every trip latched and counted.

A trip is a rising edge on a fault line. Every trip is an event and restarts the wait before
the automatic retry, also while the fault is still latched; after `rcd_max_retries` trips in
one plug-in the fault stays until the car leaves. During the self-test the module's DC
response to the test signal is expected; anything else (an AC trip, or a fault line still
active once the test signal is gone) is a real trip, latched under its own name.
"""

from __future__ import annotations

from appliance.j1772.faults import FaultCode
from appliance.pilot.config import Timing
from appliance.pilot.faultset import FaultSet
from appliance.pilot.logring import LogRing
from appliance.pilot.rcd_test import Phase, RcdSelfTest
from appliance.pilot.retry import RetryBudget

F = FaultCode
TRIP_NAMES = {F.RCD_DC: "6 mA DC", F.RCD_AC: "30 mA AC"}


class RcdMonitor:
    def __init__(self, station: int, timing: Timing, faults: FaultSet, log: LogRing) -> None:
        self.station = station
        self.timing = timing
        self.faults = faults
        self._log = log
        self.retry = RetryBudget(timing.rcd_retry_s, timing.rcd_max_retries)
        self.test: RcdSelfTest | None = None
        self.manual = False  # the running test was requested, not part of a close
        self.last_self_test: tuple[float, bool, str] | None = None  # (time, passed, reason)
        self._level = {F.RCD_DC: False, F.RCD_AC: False}

    @property
    def test_line(self) -> bool:
        return self.test is not None and self.test.test_line

    @property
    def testing(self) -> bool:
        return self.test is not None and not self.test.done

    @property
    def passed(self) -> bool:
        return self.test is not None and self.test.phase is Phase.PASSED

    def start_test(self, now: float, manual: bool) -> None:
        self.test = RcdSelfTest(now, self.timing.rcd_test_timeout_s)
        self.manual = manual
        self._log.log(
            now,
            "info",
            "RCD self-test requested" if manual else "car ready: RCD self-test before closing",
            self.station,
        )

    def drop_test(self) -> None:
        """Forget a test (passed or running) that is not for a manual request: the next close tests afresh."""
        if not self.manual:
            self.test = None

    def used(self) -> None:
        """The passed test has been used for one close."""
        self.test, self.manual = None, False

    def update(self, now: float, dc: bool, ac: bool) -> None:
        levels = {F.RCD_DC: dc, F.RCD_AC: ac}
        rising = [code for code, on in levels.items() if on and not self._level[code]]
        self._level = levels
        if self.testing:
            rising = self._update_test(now, levels, rising)
        for code in rising:
            self._trip(now, code)
        if self.retry.due(now) and not (dc or ac):
            self.retry.retried()
            for code in TRIP_NAMES:
                self.faults.clear(now, code, "automatic retry")

    def _update_test(self, now: float, levels: dict[FaultCode, bool], rising: list[FaultCode]) -> list[FaultCode]:
        """Run the test; return the edges that are real trips rather than its expected response."""
        test = self.test
        assert test is not None
        if test.phase is Phase.TRIP:
            real: list[FaultCode] = [c for c in rising if c is F.RCD_AC]  # the test signal trips the DC detector only
            if real:
                self._abort_test(now, "residual-current trip during the test")
                return real
            if test.update(now, levels[F.RCD_DC], False) is Phase.FAILED:
                self._test_done(now)
                self.faults.raise_(now, F.RCD_SELF_TEST_FAILED, test.reason)
            return []
        # RELEASE: the module's output follows its test input; a line still active now is a trip
        active = [c for c, on in levels.items() if on]
        if active and now - test.released_at >= self.timing.rcd_release_s:
            self._abort_test(now, "fault line still active after the test signal ended")
            return active
        test.update(now, levels[F.RCD_DC], levels[F.RCD_AC])
        if test.phase is Phase.PASSED:
            self._log.log(now, "info", "RCD self-test passed", self.station)
            self._test_done(now)
        return []

    def _test_done(self, now: float) -> None:
        test = self.test
        assert test is not None
        self.last_self_test = (now, test.phase is Phase.PASSED, test.reason)
        if self.manual or test.phase is Phase.FAILED:
            self.test, self.manual = None, False

    def _abort_test(self, now: float, why: str) -> None:
        self.last_self_test = (now, False, why)
        self.test, self.manual = None, False

    def _trip(self, now: float, code: FaultCode) -> None:
        note = self.retry.trip(now)
        self.faults.raise_(now, code, f"residual current trip ({TRIP_NAMES[code]}): {note}", renew=True)

    def clear_requested(self, cleared: list[FaultCode]) -> None:
        """A manual clear ends the wait for the retry."""
        if any(c in TRIP_NAMES for c in cleared):
            self.retry.retried()

    def on_unplug(self) -> None:
        self.retry.reset()
