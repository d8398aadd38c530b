"""One station's IEC 61851-1 machine: the offer, the pilot and the contactor sequence.

Pure logic on readings and time, no hardware. What the car shows (`VehicleSense`), the
residual-current module (`RcdMonitor`), the contacts and the meter (`ContactorMonitor`) and
the board temperature (`TemperatureDerating`) each have their own part; all of them raise
and clear faults through the station's `FaultSet`. This machine decides what the HAT drives:
the supervisor only proposes a current, capped here by everything the station knows, and the
contactor closes only through the full sequence: car ready, diode seen, no blocking fault,
the minimum off-time since it last opened, and a passed RCD self-test.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from appliance.drivers.interfaces import MeterReading
from appliance.j1772.duty import MIN_CURRENT_A, duty_from_current
from appliance.j1772.faults import FaultCode
from appliance.j1772.states import PilotMode, VehicleState
from appliance.pilot.config import StationConfig, Timing
from appliance.pilot.contactor_monitor import ContactorMonitor
from appliance.pilot.derating import TemperatureDerating
from appliance.pilot.events import Event, OutputChanged
from appliance.pilot.faultset import FaultSet
from appliance.pilot.logring import LogRing
from appliance.pilot.phase_use import PhaseUse
from appliance.pilot.rcd_monitor import RcdMonitor
from appliance.pilot.vehicle import VehicleSense

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
    contactor_aux: bool | None = None  # the auxiliary contact says the main contacts are closed; None: not read
    sensing_error: str | None = None  # one of this station's ADC channels is stuck or implausible
    output_error: str | None = None  # last tick's outputs failed (pilot PWM, GPIO): put in the safe state


@dataclass
class SharedConditions:
    """Board-wide facts the engine hands every station."""

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


class StationMachine:
    def __init__(self, cfg: StationConfig, timing: Timing, emit: Callable[[Event], None], log: LogRing,
                 weld_voltage_v: float = 50.0) -> None:
        self.cfg = cfg
        self.timing = timing
        self.emit = emit
        self.log = log
        self.faults = FaultSet(cfg.id, emit, log)
        self.vehicle = VehicleSense(cfg, timing, self.faults, emit, log)
        self.rcd = RcdMonitor(cfg.id, timing, self.faults, log)
        self.contacts = ContactorMonitor(timing, self.faults, weld_voltage_v)
        self.derating = TemperatureDerating(self.faults)
        self.phases = PhaseUse(cfg.phase_rotation)
        # the supervisor's proposal, and whether it has made one for the car now plugged in
        self.request_a = 0.0
        self.request_allowed = False
        self.allocated_since_plug = False
        # what the station drives
        self.pilot = PilotMode.X1
        self.duty_pct: float | None = None
        self.offered_a = 0.0
        self.contactor = False
        self._pilot_since = -math.inf
        self._offer_changed_at = -math.inf
        self._contactor_since = -math.inf  # last close or open
        self._wakeup_done = False
        self._wakeup_until = -math.inf
        self._b_offered_since: float | None = None
        self._pwm_off_since: float | None = None
        self._last_outputs: tuple[PilotMode, float | None, float, bool] | None = None

    @property
    def id(self) -> int:
        return self.cfg.id

    @property
    def state(self) -> VehicleState:
        return self.vehicle.state

    @property
    def plugged(self) -> bool:
        return self.vehicle.plugged

    @property
    def cable_a(self) -> float | None:
        return self.vehicle.cable_a

    @property
    def last_meter(self) -> MeterReading | None:
        return self.contacts.last_meter

    @property
    def last_self_test(self) -> tuple[float, bool, str] | None:
        return self.rcd.last_self_test

    # ------------------------------------------------------------------ step
    def learn_phases(self, now: float, meter: MeterReading | None) -> None:
        """Before the engine shares the line: the line phases the car loads, from this tick's reading."""
        if self.phases.update(meter, trusted=F.METER_FAULT not in self.faults):
            phases = ", ".join(f"L{p}" for p in self.phases.line_phases)
            self.log.log(now, "warning", f"car counted on line phases {phases} from now on", self.id)

    def step(self, now: float, inp: StationInputs, shared: SharedConditions, grant_a: float) -> StationOutputs:
        """One tick: `grant_a` is what the engine's line accounting lets this station offer."""
        if inp.output_error is not None:
            self.hardware_dropped(now, f"outputs failed: {inp.output_error}")
        sensing_error = shared.sensing_error or inp.sensing_error
        generator_error = shared.rail_error or (
            f"pilot output failed: {inp.output_error}" if inp.output_error else None
        )
        if self.vehicle.update(now, inp.cp_high_v, inp.cp_low_v, inp.pp_ohm, self.pilot, now - self._pilot_since,
                               sensing_error, generator_error):
            self._on_unplug(now)
        self.faults.condition(
            now,
            F.SUPERVISOR_LOST,
            "supervisor silent; offering the failsafe current" if shared.supervisor_lost else None,
        )
        self.derating.update(now, shared.temperature_c, shared.derate_c, shared.pause_c)
        self.rcd.update(now, inp.rcd_dc, inp.rcd_ac)
        dropped = self.contacts.update(now, self.contactor, self._contactor_since, inp.contactor_aux,
                                       inp.meter, inp.meter_error, self.offered_a)
        if dropped is not None:
            self._open(now, dropped)
        self._update_offer(now, grant_a)
        self._update_pilot(now)
        self._update_contactor(now)
        self._report_outputs(now)
        return StationOutputs(
            pilot=self.pilot,
            duty_pct=self.duty_pct,
            contactor=self.contactor,
            rcd_test=self.rcd.test_line,
            led=self.contactor or (self.faults.blocking() is not None and int(now * 2) % 2 == 0),
        )

    def _on_unplug(self, now: float) -> None:
        """The car has really gone: latches release, the plug-in's counters start again."""
        self.faults.clear_latched(now, "car unplugged")
        self.rcd.on_unplug()
        self.contacts.on_unplug()
        self.phases.forget()
        self._wakeup_done = False
        self.allocated_since_plug = False

    def hardware_dropped(self, now: float, why: str) -> None:
        """The contacts fell without this machine's command (watchdog, forced safe state)."""
        if self.contactor:
            self.contacts.dropped_by_hardware(now, why)
            self._open(now, why)

    def clear_fault(self, now: float, code: FaultCode | None, service: bool) -> list[FaultCode]:
        """Clear latched faults on request. Condition faults clear themselves; welds need service."""
        cleared = self.faults.clear_latched(now, "cleared on request", service=service, only=code)
        self.rcd.clear_requested(cleared)
        return cleared

    # ------------------------------------------------------------------ offer
    def cap_a(self) -> float:
        """The most this station could offer now: rating, cable and temperature."""
        amps = self.cfg.max_current_a if self.cable_a is None else min(self.cfg.max_current_a, self.cable_a)
        return amps * self.derating.factor

    def target_current(self, grant_a: float) -> float:
        """The current this station may offer now, before the rate limit."""
        amps = min(grant_a, self.cap_a())
        return amps if amps >= MIN_CURRENT_A else 0.0

    def _update_offer(self, now: float, grant_a: float) -> None:
        target = self.target_current(grant_a)
        if target < self.offered_a or (
            target > self.offered_a and now - self._offer_changed_at >= self.timing.duty_increase_interval_s
        ):
            if target < self.offered_a:
                self.contacts.offer_lowered()
            self.offered_a = target
            self._offer_changed_at = now

    # ------------------------------------------------------------------ pilot
    def _update_pilot(self, now: float) -> None:
        mode = self._pilot_mode(now)
        duty = duty_from_current(self.offered_a) if mode is PilotMode.X2 else None
        if mode is not self.pilot:
            self._pilot_since = now
            self.vehicle.pilot_changed()
        self.pilot, self.duty_pct = mode, duty

    def _pilot_mode(self, now: float) -> PilotMode:
        fault_mode = self.faults.pilot_mode(now, self.timing.fault_f_hold_s)
        if fault_mode is not None:
            return fault_mode
        if now < self._wakeup_until:
            return PilotMode.F
        if not self.plugged or self.offered_a < MIN_CURRENT_A:
            self._b_offered_since = None
            return PilotMode.X1
        # one wake-up per plug-in: B for 30 s with charging offered and no C
        if self.state is S.B and self.pilot is PilotMode.X2 and not self._wakeup_done:
            if self._b_offered_since is None:
                self._b_offered_since = now
            elif now - self._b_offered_since >= self.timing.wakeup_after_s:
                self._wakeup_done = True
                self._wakeup_until = now + self.timing.wakeup_f_s
                self.log.log(now, "info", "car idle in B for 30 s: wake-up pulse (F for 4 s)", self.id)
                return PilotMode.F
        elif self.state is not S.B:
            self._b_offered_since = None
        return PilotMode.X2

    # ------------------------------------------------------------------ contactor
    def _update_contactor(self, now: float) -> None:
        car_ready = self.state is S.C or (self.state is S.D and self.cfg.ventilation)
        blocked = self.faults.blocking()
        if self.contactor:
            if not car_ready or blocked is not None:
                self._open(now, f"fault {blocked.value}" if blocked is not None else "car stopped")
            elif self.pilot is not PilotMode.X2:
                self._pwm_off_since = self._pwm_off_since if self._pwm_off_since is not None else now
                if now - self._pwm_off_since >= self.timing.pwm_off_open_s:
                    self._open(now, "charging no longer offered and the car stays in C")
            else:
                self._pwm_off_since = None
            return
        ready = (
            car_ready and blocked is None and self.pilot is PilotMode.X2 and self.vehicle.diode_checked
            and now - self._pilot_since >= self.timing.loop_period_s
            and now - self._contactor_since >= self.timing.min_off_s
        )
        if not ready:
            self.rcd.drop_test()  # a fresh test runs before the next close
            return
        if self.rcd.manual:
            return  # let the requested test finish first
        if self.rcd.test is None:
            self.rcd.start_test(now, manual=False)
        elif self.rcd.passed:
            self.rcd.used()
            self.contactor = True
            self._contactor_since = now
            self._pwm_off_since = None
            self.log.log(now, "info", f"contactor closed at {self.offered_a:.1f} A offered", self.id)

    def _open(self, now: float, why: str) -> None:
        self.contactor = False
        self._contactor_since = now
        self._pwm_off_since = None
        self.rcd.drop_test()
        self.log.log(now, "info", f"contactor opened: {why}", self.id)

    def start_self_test(self, now: float) -> bool:
        """Run the RCD self-test on request; refused while charging."""
        if self.contactor or self.rcd.testing:
            return False
        self.rcd.start_test(now, manual=True)
        return True

    def _report_outputs(self, now: float) -> None:
        outputs = (self.pilot, self.duty_pct, self.offered_a, self.contactor)
        if outputs != self._last_outputs:
            self._last_outputs = outputs
            self.emit(OutputChanged(now, self.id, self.pilot, self.duty_pct, self.offered_a, self.contactor))
