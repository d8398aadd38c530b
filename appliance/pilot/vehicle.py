"""What the car shows: its debounced CP state, the diode check, the cable's rating, and its leaving.

Rises (the car stops or leaves) are seen on one reading, so the contactor can open at once.
Nothing that releases a latch or re-arms charging rides on one reading: an unplug counts
only when state A has held for `unplug_confirm_s` of healthy readings and, where PP is
sensed, the cable is gone too.
"""

from __future__ import annotations

from collections.abc import Callable

from appliance.j1772.faults import FaultCode
from appliance.j1772.proximity import PPInvalid, cable_rating
from appliance.j1772.states import PilotMode, VehicleState, classify, diode_ok
from appliance.pilot.config import StationConfig, Timing
from appliance.pilot.debounce import StateDebouncer
from appliance.pilot.events import Event, StateChanged
from appliance.pilot.faultset import FaultSet
from appliance.pilot.logring import LogRing
from appliance.pilot.persistence import Consecutive

S = VehicleState
F = FaultCode


class VehicleSense:
    def __init__(self, cfg: StationConfig, timing: Timing, faults: FaultSet,
                 emit: Callable[[Event], None], log: LogRing) -> None:
        self.cfg = cfg
        self.timing = timing
        self.faults = faults
        self._emit = emit
        self._log = log
        self.debounce = StateDebouncer(timing.debounce_readings)
        self.cable_a: float | None = None
        self._diode_good = Consecutive()
        self._diode_bad = Consecutive()
        self._pp_bad = Consecutive()
        self._cable_gone = True
        self._a_since: float | None = None
        self._reading: VehicleState | None = None  # this tick's band
        self.away = True  # no car since the last confirmed unplug

    @property
    def state(self) -> VehicleState:
        return self.debounce.state

    @property
    def plugged(self) -> bool:
        return self.state in (S.B, S.C, S.D)

    @property
    def diode_checked(self) -> bool:
        """The diode has been seen on enough consecutive readings of this PWM period."""
        return self._diode_good.count >= self.timing.debounce_readings

    def pilot_changed(self) -> None:
        """A new pilot mode: the diode check starts again."""
        self._diode_good.update(False)
        self._diode_bad.update(False)

    def update(self, now: float, cp_high_v: float, cp_low_v: float, pp_ohm: float, pilot: PilotMode,
               pilot_age_s: float, sensing_error: str | None, generator_error: str | None) -> bool:
        """Take one reading; True exactly when it confirms that the car has left."""
        self.faults.condition(now, F.ADC_FAULT, sensing_error)
        readable = sensing_error is None and pilot is not PilotMode.F  # -12 V on the line: nothing to read
        if readable:
            self._classify(now, cp_high_v)
            if pilot is PilotMode.X2 and pilot_age_s >= self.timing.loop_period_s / 2 and self.plugged:
                self._check_diode(now, cp_low_v)
            self.cable_a = self._cable(now, pp_ohm)
        self._check_pilot(now, sensing_error, generator_error)
        if self.state is S.D and not self.cfg.ventilation:
            self.faults.raise_(
                now, F.VENTILATION_NOT_AVAILABLE, "car asks for ventilation (state D); this station has none"
            )
        return self._confirm_unplug(now, readable)

    def _classify(self, now: float, cp_high_v: float) -> None:
        old = self.state
        self._reading = classify(cp_high_v)
        new = self.debounce.update(self._reading, now)
        if new is not old:
            self._emit(StateChanged(now, self.cfg.id, old, new))
            self._log.log(now, "info", f"vehicle state {old.value} -> {new.value}", self.cfg.id)
            if old is S.A:
                self.away = False

    def _check_diode(self, now: float, cp_low_v: float) -> None:
        good = diode_ok(cp_low_v)
        self._diode_good.update(good)
        if self._diode_bad.update(not good) >= self.timing.debounce_readings:
            self.faults.raise_(
                now, F.DIODE_FAULT, f"negative plateau at {cp_low_v:.1f} V, expected -12 V: no diode in the car"
            )

    def _cable(self, now: float, pp_ohm: float) -> float | None:
        if self.cfg.tethered:
            self._cable_gone = False
            self.faults.clear(now, F.PP_INVALID)
            return self.cfg.max_current_a
        try:
            rating = cable_rating(pp_ohm)
            problem = (
                None if rating is not None or not self.plugged else "no cable detected on PP while a car is connected"
            )
        except PPInvalid as exc:
            rating, problem = None, str(exc)
        self._cable_gone = rating is None and problem is None
        if problem is None:
            self._pp_bad.update(False)
            self.faults.clear(now, F.PP_INVALID)
            return rating
        if self._pp_bad.update(True) >= self.timing.debounce_readings:
            self.faults.raise_(now, F.PP_INVALID, problem)
        return self.cable_a

    def _check_pilot(self, now: float, sensing_error: str | None, generator_error: str | None) -> None:
        """PilotFault: the pilot cannot be generated (rail, output) or reads out of every band."""
        problem = generator_error
        if problem is None and sensing_error is None:
            out_since = self.debounce.out_of_band_since
            if self.state is S.E:
                problem = "CP shorted to PE (state E)"
            elif out_since is not None and now - out_since >= self.timing.out_of_band_fault_s:
                problem = f"CP reading between bands for {now - out_since:.1f} s"
        self.faults.condition(now, F.PILOT_FAULT, problem)

    def _confirm_unplug(self, now: float, readable: bool) -> bool:
        """Every reading in band A for `unplug_confirm_s`, cable gone where PP is sensed."""
        if not readable or self._reading is not S.A or not (self.cfg.tethered or self._cable_gone):
            self._a_since = None
            return False
        if self._a_since is None:
            self._a_since = now
        if self.away or now - self._a_since < self.timing.unplug_confirm_s:
            return False
        self.away = True
        self._diode_good.update(False)
        self._diode_bad.update(False)
        self._log.log(now, "info", f"car gone: state A for {now - self._a_since:.1f} s", self.cfg.id)
        return True
