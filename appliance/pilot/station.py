"""One station's IEC 61851-1 state machine: pure logic on readings and time, no hardware.

Each `step` takes what the HAT measured and returns what the HAT must drive. The station
decides about its contactor alone: the supervisor only proposes a current, and every
proposal is capped by what this station knows (cable, rating, line, temperature).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Callable

from appliance.drivers.interfaces import MeterReading
from appliance.j1772.duty import MIN_CURRENT_A, duty_from_current
from appliance.j1772.faults import POLICY, Clears, FaultCode
from appliance.j1772.proximity import PPInvalid, cable_rating
from appliance.j1772.states import PilotMode, VehicleState, classify, diode_ok
from appliance.pilot.config import StationConfig, Timing
from appliance.pilot.debounce import StateDebouncer
from appliance.pilot.events import Event, FaultChanged, OutputChanged, StateChanged
from appliance.pilot.logring import LogRing
from appliance.pilot.rcd_test import Phase, RcdSelfTest

S = VehicleState
F = FaultCode


@dataclass
class StationInputs:
    """One control-loop reading of a station."""

    cp_high_v: float
    cp_low_v: float
    pp_ohm: float
    rcd_dc: bool = False
    rcd_ac: bool = False
    meter: MeterReading | None = None  # None: not read this tick
    meter_error: str | None = None


@dataclass
class SharedConditions:
    """Board-wide facts the engine hands every station."""

    line_limit_a: float
    failsafe_a: float
    supervisor_lost: bool = False
    sensing_error: str | None = None  # ADC unusable: nothing on the pilot can be trusted
    rail_error: str | None = None
    temperature_c: float = 25.0
    derate_c: float = 65.0
    pause_c: float = 75.0


@dataclass
class StationOutputs:
    pilot: PilotMode
    duty_pct: float | None
    contactor: bool
    rcd_test: bool
    led: bool


@dataclass
class ActiveFault:
    since: float
    message: str


@dataclass
class _Plug:
    """What lasts for one plug-in and is forgotten at unplug."""

    rcd_trips: int = 0
    wakeup_done: bool = False


@dataclass
class StationMachine:
    cfg: StationConfig
    timing: Timing
    emit: Callable[[Event], None]
    log: LogRing
    weld_voltage_v: float = 50.0  # car-side voltage that proves closed contacts
    # supervisor's proposal
    request_a: float = 0.0
    request_allowed: bool = False
    # what the station drives
    pilot: PilotMode = PilotMode.X1
    duty_pct: float | None = None
    offered_a: float = 0.0
    contactor: bool = False
    # what it knows
    cable_a: float | None = None
    faults: dict[FaultCode, ActiveFault] = field(default_factory=dict)
    last_meter: MeterReading | None = None

    def __post_init__(self) -> None:
        self.debounce = StateDebouncer(self.timing.debounce_readings)
        self._plug = _Plug()
        self._pilot_since = -math.inf
        self._offer_changed_at = -math.inf
        self._diode_good = 0
        self._diode_bad = 0
        self._pp_bad = 0
        self._meter_errors = 0
        self._self_test: RcdSelfTest | None = None
        self._manual_test = False
        self.last_self_test: tuple[float, bool, str] | None = None  # (time, passed, reason)
        self._rcd_retry_at: float | None = None
        self._b_offered_since: float | None = None
        self._wakeup_until = -math.inf
        self._pwm_off_since: float | None = None
        self._opened_at = -math.inf
        self._weld_since: float | None = None
        self._over_current_since: float | None = None
        self._last_outputs: tuple[PilotMode, float | None, float, bool] | None = None
        self._temperature_factor = 1.0  # 0.5 derated, 0 paused

    @property
    def id(self) -> int:
        return self.cfg.id

    @property
    def state(self) -> VehicleState:
        return self.debounce.state

    @property
    def plugged(self) -> bool:
        return self.state in (S.B, S.C, S.D)

    # ------------------------------------------------------------------ step
    def step(self, now: float, inp: StationInputs, shared: SharedConditions) -> StationOutputs:
        self._sense(now, inp, shared)
        self._check_faults(now, inp, shared)
        self._update_offer(now, shared)
        self._update_pilot(now)
        self._update_contactor(now)
        self._report_outputs(now)
        return StationOutputs(
            pilot=self.pilot,
            duty_pct=self.duty_pct,
            contactor=self.contactor,
            rcd_test=self._self_test is not None and self._self_test.test_line,
            led=self.contactor or (self._blocking_fault() is not None and int(now * 2) % 2 == 0),
        )

    # ------------------------------------------------------------------ sensing
    def _sense(self, now: float, inp: StationInputs, shared: SharedConditions) -> None:
        if shared.sensing_error is not None or self.pilot is PilotMode.F:
            return  # nothing on the positive plateau to read while we drive -12 V
        old = self.state
        new = self.debounce.update(classify(inp.cp_high_v), now)
        if new is not old:
            self.emit(StateChanged(now, self.id, old, new))
            self.log.log(now, "info", f"vehicle state {old.value} -> {new.value}", self.id)
            if new is S.A:
                self._on_unplug(now)
        if self.pilot is PilotMode.X2 and now - self._pilot_since >= self.timing.loop_period_s / 2 and self.plugged:
            if diode_ok(inp.cp_low_v):
                self._diode_good += 1
                self._diode_bad = 0
            else:
                self._diode_bad += 1
                self._diode_good = 0
                if self._diode_bad >= self.timing.debounce_readings:
                    self._raise(now, F.DIODE_FAULT, f"negative plateau at {inp.cp_low_v:.1f} V, expected -12 V: no diode in the car")
        self.cable_a = self._cable(now, inp.pp_ohm)

    def _cable(self, now: float, pp_ohm: float) -> float | None:
        if self.cfg.tethered:
            self._clear(now, F.PP_INVALID)
            return self.cfg.max_current_a
        try:
            rating = cable_rating(pp_ohm)
            problem = None if rating is not None or not self.plugged else "no cable detected on PP while a car is connected"
        except PPInvalid as exc:
            rating, problem = None, str(exc)
        if problem is None:
            self._pp_bad = 0
            self._clear(now, F.PP_INVALID)
            return rating
        self._pp_bad += 1
        if self._pp_bad >= self.timing.debounce_readings:
            self._raise(now, F.PP_INVALID, problem)
        return self.cable_a

    def _on_unplug(self, now: float) -> None:
        for code, fault in list(self.faults.items()):
            if POLICY[code].clears is Clears.UNPLUG:
                self._clear(now, code, "car unplugged")
        self._plug = _Plug()
        self._rcd_retry_at = None
        self._diode_good = self._diode_bad = 0

    # ------------------------------------------------------------------ faults
    def _check_faults(self, now: float, inp: StationInputs, shared: SharedConditions) -> None:
        self._condition(now, F.ADC_FAULT, shared.sensing_error)
        pilot_problem = shared.rail_error
        if pilot_problem is None and shared.sensing_error is None:
            if self.state is S.E:
                pilot_problem = "CP shorted to PE (state E)"
            elif self.debounce.out_of_band_since is not None and now - self.debounce.out_of_band_since >= self.timing.out_of_band_fault_s:
                pilot_problem = f"CP reading between bands for {now - self.debounce.out_of_band_since:.1f} s"
        self._condition(now, F.PILOT_FAULT, pilot_problem)
        self._condition(
            now, F.VENTILATION_NOT_AVAILABLE,
            "car asks for ventilation (state D); this station has none" if self.state is S.D and not self.cfg.ventilation else None,
        )
        self._condition(now, F.SUPERVISOR_LOST, "supervisor silent; offering the failsafe current" if shared.supervisor_lost else None)
        self._check_temperature(now, shared)
        self._check_rcd(now, inp)
        self._check_meter(now, inp)

    def _check_temperature(self, now: float, shared: SharedConditions) -> None:
        t = shared.temperature_c
        active = F.OVER_TEMPERATURE in self.faults
        hysteresis = 5.0
        if t >= shared.pause_c:
            self._temperature_factor = 0.0
            self._raise(now, F.OVER_TEMPERATURE, f"board at {t:.0f} °C: charging paused", replace=True)
        elif t >= shared.derate_c:
            self._temperature_factor = 0.5
            self._raise(now, F.OVER_TEMPERATURE, f"board at {t:.0f} °C: current halved", replace=True)
        elif active and t < shared.derate_c - hysteresis:
            self._temperature_factor = 1.0
            self._clear(now, F.OVER_TEMPERATURE)

    def _check_rcd(self, now: float, inp: StationInputs) -> None:
        if self._self_test is not None and not self._self_test.done:
            test = self._self_test
            phase = test.update(now, inp.rcd_dc, inp.rcd_ac)
            if phase is Phase.FAILED:
                self._raise(now, F.RCD_SELF_TEST_FAILED, test.reason)
            elif phase is Phase.PASSED:
                self.log.log(now, "info", "RCD self-test passed", self.id)
            if test.done:
                self.last_self_test = (now, phase is Phase.PASSED, test.reason)
                if self._manual_test or phase is Phase.FAILED:
                    self._self_test, self._manual_test = None, False
            return
        if inp.rcd_dc or inp.rcd_ac:
            code = F.RCD_DC if inp.rcd_dc else F.RCD_AC
            if code not in self.faults:
                self._plug.rcd_trips += 1
                self._self_test = None
                retries_left = self.timing.rcd_max_retries - self._plug.rcd_trips + 1
                if retries_left > 0:
                    self._rcd_retry_at = now + self.timing.rcd_retry_s
                    note = f"retry in {self.timing.rcd_retry_s / 60:.0f} min ({retries_left} left)"
                else:
                    self._rcd_retry_at = None
                    note = "latched until the car is unplugged"
                self._raise(now, code, f"residual current trip ({'6 mA DC' if code is F.RCD_DC else '30 mA AC'}): {note}")
            return
        if self._rcd_retry_at is not None and now >= self._rcd_retry_at:
            self._rcd_retry_at = None
            for code in (F.RCD_DC, F.RCD_AC):
                self._clear(now, code, "automatic retry")

    def _check_meter(self, now: float, inp: StationInputs) -> None:
        if inp.meter_error is not None:
            self._meter_errors += 1
            if self._meter_errors >= self.timing.bus_error_ticks:
                self._raise(now, F.METER_FAULT, inp.meter_error)
            return
        if inp.meter is None:
            return
        self._meter_errors = 0
        self._clear(now, F.METER_FAULT)
        self.last_meter = m = inp.meter
        # weld: coil off long enough, yet voltage on the car side
        if not self.contactor and now - self._opened_at >= self.timing.meter_period_s and max(m.voltage_v) > self.weld_voltage_v:
            self._weld_since = self._weld_since if self._weld_since is not None else now
            if now - self._weld_since >= self.timing.weld_detect_s:
                self._raise(now, F.CONTACTOR_WELDED, f"{max(m.voltage_v):.0f} V on the car side with the contactor commanded open")
        else:
            self._weld_since = None
        # over-current: measured > offered + 10 % + 0.5 A for 7 s
        limit = self.offered_a * 1.1 + 0.5
        if self.contactor and max(m.current_a) > limit:
            self._over_current_since = self._over_current_since if self._over_current_since is not None else now
            if now - self._over_current_since >= self.timing.over_current_s:
                self._raise(now, F.OVER_CURRENT, f"drawing {max(m.current_a):.1f} A, offered {self.offered_a:.1f} A")
        else:
            self._over_current_since = None

    # ------------------------------------------------------------------ fault bookkeeping
    def _raise(self, now: float, code: FaultCode, message: str, replace: bool = False) -> None:
        current = self.faults.get(code)
        if current is not None and not (replace and current.message != message):
            return
        self.faults[code] = ActiveFault(current.since if current else now, message)
        self.emit(FaultChanged(now, self.id, code, True, message))
        self.log.log(now, "error" if POLICY[code].blocks_charging else "warning", f"{code.value}: {message}", self.id)

    def _clear(self, now: float, code: FaultCode, why: str = "condition cleared") -> None:
        if self.faults.pop(code, None) is not None:
            self.emit(FaultChanged(now, self.id, code, False, why))
            self.log.log(now, "info", f"{code.value} cleared: {why}", self.id)

    def _condition(self, now: float, code: FaultCode, problem: str | None) -> None:
        if problem is None:
            self._clear(now, code)
        else:
            self._raise(now, code, problem)

    def _blocking_fault(self) -> FaultCode | None:
        return next((c for c in self.faults if POLICY[c].blocks_charging), None)

    def clear_fault(self, now: float, code: FaultCode | None, service: bool) -> list[FaultCode]:
        """Clear latched faults on request. Condition faults clear themselves; welds need service."""
        cleared = []
        for c in list(self.faults):
            if code is not None and c is not code:
                continue
            clears = POLICY[c].clears
            if clears is Clears.UNPLUG or (clears is Clears.SERVICE and service):
                self._clear(now, c, "cleared on request")
                cleared.append(c)
        if any(c in (F.RCD_DC, F.RCD_AC) for c in cleared):
            self._rcd_retry_at = None
        return cleared

    # ------------------------------------------------------------------ offer
    def target_current(self, shared: SharedConditions) -> float:
        """The current this station may offer now, before the rate limit."""
        amps = self.request_a if self.request_allowed else 0.0
        if shared.supervisor_lost:
            amps = min(amps, shared.failsafe_a)
        amps = min(amps, self.cfg.max_current_a, shared.line_limit_a)
        if self.cable_a is not None:
            amps = min(amps, self.cable_a)
        amps *= self._temperature_factor
        return amps if amps >= MIN_CURRENT_A else 0.0

    def _update_offer(self, now: float, shared: SharedConditions) -> None:
        target = self.target_current(shared)
        if target < self.offered_a or (
            target > self.offered_a and now - self._offer_changed_at >= self.timing.duty_increase_interval_s
        ):
            if target < self.offered_a:
                self._over_current_since = None  # the car gets its 5 s to follow a decrease
            self.offered_a = target
            self._offer_changed_at = now

    # ------------------------------------------------------------------ pilot
    def _update_pilot(self, now: float) -> None:
        mode = self._pilot_mode(now)
        duty = duty_from_current(self.offered_a) if mode is PilotMode.X2 else None
        if mode is not self.pilot:
            self._pilot_since = now
            self._diode_good = self._diode_bad = 0
        self.pilot, self.duty_pct = mode, duty

    def _pilot_mode(self, now: float) -> PilotMode:
        fault_mode = self._fault_pilot(now)
        if fault_mode is not None:
            return fault_mode
        if now < self._wakeup_until:
            return PilotMode.F
        if not self.plugged or self.offered_a < MIN_CURRENT_A:
            self._b_offered_since = None
            return PilotMode.X1
        # one wake-up per plug-in: B for 30 s with charging offered and no C
        if self.state is S.B and self.pilot is PilotMode.X2 and not self._plug.wakeup_done:
            if self._b_offered_since is None:
                self._b_offered_since = now
            elif now - self._b_offered_since >= self.timing.wakeup_after_s:
                self._plug.wakeup_done = True
                self._wakeup_until = now + self.timing.wakeup_f_s
                self.log.log(now, "info", "car idle in B for 30 s: wake-up pulse (F for 4 s)", self.id)
                return PilotMode.F
        elif self.state is not S.B:
            self._b_offered_since = None
        return PilotMode.X2

    def _fault_pilot(self, now: float) -> PilotMode | None:
        modes = []
        for code, fault in self.faults.items():
            mode = POLICY[code].pilot
            if mode is PilotMode.F and POLICY[code].clears is Clears.UNPLUG and now - fault.since >= self.timing.fault_f_hold_s:
                mode = PilotMode.X1  # after the F pulse, watch for the unplug
            if mode is not None:
                modes.append(mode)
        if PilotMode.F in modes:
            return PilotMode.F
        return PilotMode.X1 if modes else None

    # ------------------------------------------------------------------ contactor
    def _update_contactor(self, now: float) -> None:
        car_ready = self.state is S.C or (self.state is S.D and self.cfg.ventilation)
        blocked = self._blocking_fault() is not None
        if self.contactor:
            if not car_ready or blocked:
                fault = self._blocking_fault()
                self._open(now, f"fault {fault.value}" if fault is not None else "car stopped")
            elif self.pilot is not PilotMode.X2:
                self._pwm_off_since = self._pwm_off_since if self._pwm_off_since is not None else now
                if now - self._pwm_off_since >= self.timing.pwm_off_open_s:
                    self._open(now, "charging no longer offered and the car stays in C")
            else:
                self._pwm_off_since = None
            return
        ready = (
            car_ready and not blocked and self.pilot is PilotMode.X2
            and self._diode_good >= self.timing.debounce_readings
            and now - self._pilot_since >= self.timing.loop_period_s
        )
        if not ready:
            if self._self_test is not None and not self._manual_test:
                self._self_test = None  # a fresh test runs before the next close
            return
        if self._manual_test:
            return  # let the requested test finish first
        if self._self_test is None:
            self._self_test = RcdSelfTest(now, self.timing.rcd_test_timeout_s)
            self.log.log(now, "info", "car ready: RCD self-test before closing", self.id)
        elif self._self_test.phase is Phase.PASSED:
            self.contactor = True
            self._self_test = None
            self._pwm_off_since = None
            self.log.log(now, "info", f"contactor closed at {self.offered_a:.1f} A offered", self.id)

    def _open(self, now: float, why: str) -> None:
        self.contactor = False
        self._opened_at = now
        self._pwm_off_since = None
        self._self_test = None
        self.log.log(now, "info", f"contactor opened: {why}", self.id)

    def start_self_test(self, now: float) -> bool:
        """Run the RCD self-test on request; refused while charging."""
        if self.contactor or (self._self_test is not None and not self._self_test.done):
            return False
        self._self_test = RcdSelfTest(now, self.timing.rcd_test_timeout_s)
        self._manual_test = True
        self.log.log(now, "info", "RCD self-test requested", self.id)
        return True

    def _report_outputs(self, now: float) -> None:
        outputs = (self.pilot, self.duty_pct, self.offered_a, self.contactor)
        if outputs != self._last_outputs:
            self._last_outputs = outputs
            self.emit(OutputChanged(now, self.id, self.pilot, self.duty_pct, self.offered_a, self.contactor))
