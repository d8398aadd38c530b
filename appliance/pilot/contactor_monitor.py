"""The contactor and the meter behind it: do the contacts do what they were told, and the car?

Two witnesses say whether the main contacts are closed: the auxiliary contact and the
car-side voltage from the meter. Commanded open yet closed for `weld_detect_s` is a weld;
commanded closed yet open (hardware watchdog, coil supply, driver) is a `ContactorFault`,
retried like an RCD trip. The meter also shows a car drawing more than it is offered.
"""

from __future__ import annotations

import math

from appliance.drivers.interfaces import MeterReading
from appliance.j1772.faults import FaultCode
from appliance.pilot.config import Timing
from appliance.pilot.faultset import FaultSet
from appliance.pilot.persistence import Consecutive, Since
from appliance.pilot.retry import RetryBudget

F = FaultCode


class ContactorMonitor:
    def __init__(self, timing: Timing, faults: FaultSet, weld_voltage_v: float) -> None:
        self.timing = timing
        self.faults = faults
        self.weld_voltage_v = weld_voltage_v
        self.retry = RetryBudget(timing.contactor_retry_s, timing.contactor_max_retries)
        self.last_meter: MeterReading | None = None
        self._voltage: tuple[float, bool] = (-math.inf, False)  # (when, above the weld threshold)
        self._aux_open = Consecutive()
        self._meter_errors = Consecutive()
        self._weld = Since()
        self._dead = Since()
        self._over = Since()

    def update(self, now: float, commanded: bool, commanded_at: float, aux_closed: bool | None,
               meter: MeterReading | None, meter_error: str | None, offered_a: float) -> str | None:
        """Check one tick; returns why the contacts are open although commanded closed, if they are."""
        self._check_meter(now, meter, meter_error)
        if meter is not None:
            self.last_meter = meter
            self._voltage = (now, max(meter.voltage_v) > self.weld_voltage_v)
        fresh = meter is not None
        # the car-side voltage as last measured since this command, None before that
        live = self._voltage[1] if self._voltage[0] >= commanded_at else None
        age = now - commanded_at
        if commanded:
            self._weld.held(now, False)
            if age >= self.timing.contactor_settle_s:
                if self._aux_open.update(aux_closed is False) >= 2:
                    return self._dropped(now, "auxiliary contact open although the contactor is commanded closed")
                if fresh and self._dead.held(now, live is False) >= self.timing.contactor_voltage_s:
                    return self._dropped(now, "no voltage on the car side although the contactor is commanded closed")
            self._check_over_current(now, meter, offered_a)
            return None
        self._aux_open.update(False)
        self._dead.held(now, False)
        self._over.held(now, False)
        if (
            age >= self.timing.meter_period_s
            and (live is not None or aux_closed is not None)
            and self._weld.held(now, bool(aux_closed) or bool(live)) >= self.timing.weld_detect_s
        ):
            what = "auxiliary contact closed" if aux_closed else "voltage on the car side"
            self.faults.raise_(
                now, F.CONTACTOR_WELDED, f"{what} for {self.timing.weld_detect_s:g} s with the contactor commanded open"
            )
        if self.retry.due(now) and not aux_closed and F.CONTACTOR_FAULT in self.faults:
            self.retry.retried()
            self.faults.clear(now, F.CONTACTOR_FAULT, "automatic retry")
        return None

    def _check_meter(self, now: float, meter: MeterReading | None, error: str | None) -> None:
        """A single failed read is ridden through; `bus_error_ticks` in a row are a MeterFault."""
        if error is not None:
            if self._meter_errors.update(True) >= self.timing.bus_error_ticks:
                self.faults.raise_(now, F.METER_FAULT, error)
        elif meter is not None:
            self._meter_errors.update(False)
            self.faults.clear(now, F.METER_FAULT)

    def dropped_by_hardware(self, now: float, why: str) -> None:
        """The engine knows the contacts fell without a command (e.g. the watchdog after a stall)."""
        self._dropped(now, why)

    def _dropped(self, now: float, why: str) -> str:
        note = self.retry.trip(now)
        self.faults.raise_(now, F.CONTACTOR_FAULT, f"{why}: {note}", renew=True)
        self._aux_open.update(False)
        self._dead.held(now, False)
        return why

    def _check_over_current(self, now: float, meter: MeterReading | None, offered_a: float) -> None:
        """Measured > offered + 10 % + 0.5 A for `over_current_s` (the car had its 5 s after a decrease)."""
        if meter is None:
            return
        limit = offered_a * 1.1 + 0.5
        drawn = max(meter.current_a)
        if self._over.held(now, drawn > limit) >= self.timing.over_current_s:
            self.faults.raise_(now, F.OVER_CURRENT, f"drawing {drawn:.1f} A, offered {offered_a:.1f} A")

    def offer_lowered(self) -> None:
        """The car gets its full response window to follow a lower offer."""
        self._over.held(0.0, False)

    def on_unplug(self) -> None:
        self.retry.reset()
