"""One simulated station: pilot generator, CP line and peak detectors, contactor, RCD module, car.

Everything the HAT's chips measure for a station comes from here; everything the drivers
drive for a station lands here. Times are simulated seconds.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from appliance.board.description import BoardDescription
from appliance.simulator.car import CarSpec, SimCar
from appliance.simulator.peak_detector import PeakDetector, Waveform
from appliance.simulator.pilot_line import CarLoad, cp_plateau


@dataclass(frozen=True)
class HardwareEvent:
    """Something the hardware did: a pilot (duty) change or the contacts moving."""

    t: float
    station: int
    kind: str  # "duty" | "contactor"
    duty_pct: float | None = None  # None: constant (X1 = 100 %, F = 0 %) reported as the duty
    closed: bool | None = None


class SimStation:
    def __init__(self, station: int, board: BoardDescription, emit: Callable[[HardwareEvent], None]) -> None:
        self.id = station
        self.board = board
        self.emit = emit
        tau = board.pilot.peak_detector.tau_s
        self.cp_high = PeakDetector(tau, positive=True)
        self.cp_low = PeakDetector(tau, positive=False)
        self.car: SimCar | None = None
        self.shorted = False  # CP shorted to PE (state E)
        self.duty = 1.0  # generator: fraction of the period at +rail
        self._pwm_origin = 0.0
        self.coil_drive = False  # the contactor GPIO
        self.rcd_test = False
        self.rcd_test_works = True  # a module whose test input is dead fails the self-test
        self.pp_override_ohm: float | None = None  # a damaged cable coding
        self.load_override: CarLoad | None = None  # a car (or a fault) showing an odd resistance on CP
        self.rcd_dc = False
        self.rcd_ac = False
        self._rcd_test_since: float | None = None
        self._rcd_trip_until = -math.inf
        self.contacts = False
        self._coil = False
        self._pending: tuple[float, bool] | None = None  # contacts move at (time, closed)
        self._supply_lost = (math.inf, math.inf)  # the coil supply is gone over [from, until)
        self._updated = -math.inf  # time of the last contacts update
        self.weld_armed = False
        self.welded = False
        self.line_voltage_v = 230.0
        self._update_line(0.0)

    # -- pilot line ---------------------------------------------------------------------
    def pilot_mode(self) -> str:
        if self.duty >= 1.0:
            return "X1"
        return "F" if self.duty <= 0.0 else "X2"

    def duty_pct(self) -> float | None:
        return self.duty * 100 if self.pilot_mode() == "X2" else None

    def set_duty(self, t: float, duty: float) -> None:
        if duty == self.duty:
            return
        self.duty = duty
        self._pwm_origin = t
        self.emit(HardwareEvent(t, self.id, "duty", duty_pct=round(duty * 100, 3)))
        self._update_line(t)

    def load(self) -> CarLoad:
        if self.shorted:
            return CarLoad(0.0)
        if self.load_override is not None:
            return self.load_override
        return self.car.load() if self.car is not None else CarLoad()

    def _update_line(self, t: float) -> None:
        rail = self.board.pilot.rail_v
        load = self.load()
        hi, lo = cp_plateau(rail, load, self.board.pilot), cp_plateau(-rail, load, self.board.pilot)
        period = 1.0 / self.board.pilot.pwm_frequency_hz
        wave = Waveform(hi, lo, self.duty, period, self._pwm_origin)
        self.cp_high.set_input(t, wave)
        self.cp_low.set_input(t, wave)

    def short(self, t: float, on: bool) -> None:
        """CP shorted to PE (state E), e.g. a crushed cable."""
        self.shorted = on
        self._update_line(t)

    def override_load(self, t: float, load: CarLoad | None) -> None:
        self.load_override = load
        self._update_line(t)

    def pp_ohms(self) -> float:
        if self.pp_override_ohm is not None:
            return self.pp_override_ohm
        return self.car.pp_ohms() if self.car is not None else math.inf

    # -- car actions ----------------------------------------------------------------------
    def plug(self, t: float, spec: CarSpec) -> None:
        self.car = SimCar(spec, t)
        self._update_line(t)

    def unplug(self, t: float) -> None:
        self.car = None
        self._update_line(t)

    def with_car(self, t: float, action: Callable[[SimCar], None]) -> None:
        if self.car is None:
            raise ValueError(f"no car is plugged into station {self.id}")
        action(self.car)
        self._update_line(t)

    # -- contactor, RCD -------------------------------------------------------------------
    def set_coil_drive(self, t: float, on: bool) -> None:
        self.coil_drive = on

    def set_rcd_test(self, t: float, on: bool) -> None:
        self.rcd_test = on
        self._rcd_test_since = t if on else None

    def rcd_trip(self, t: float, kind: str) -> None:
        if kind == "dc":
            self.rcd_dc = True
        else:
            self.rcd_ac = True
        self._rcd_trip_until = t + 1.0  # the module clears its output once the residual current is gone

    def _rcd_update(self, t: float) -> None:
        test_trip = (
            self.rcd_test_works
            and self._rcd_test_since is not None
            and t - self._rcd_test_since >= self.board.rcd.test_pulse_ms / 2000
        )
        if t >= self._rcd_trip_until:
            self.rcd_ac = False
            self.rcd_dc = test_trip
        elif test_trip:
            self.rcd_dc = True

    def rcd_ok(self) -> bool:
        return not (self.rcd_dc or self.rcd_ac)

    def drop_coil_supply(self, t: float, seconds: float) -> None:
        """The contactor's coil supply fails for `seconds` (a loose wire, a tripped breaker).

        The contactor opens with no command; when the supply is back, a coil still driven
        pulls the contacts in again by itself.
        """
        self._supply_lost = (t, t + seconds)

    def _supply_ok(self, t: float) -> bool:
        lost, back = self._supply_lost
        return not lost <= t < back

    def update_contacts(self, t: float, watchdog_alive: bool) -> None:
        """The hardware AND: coil = GPIO drive and RCD OK and watchdog alive and coil supply."""
        back = self._supply_lost[1]
        if self._updated < back < t:  # the supply came back between two updates: switch on time
            self._update_coil(back, watchdog_alive)
        self._update_coil(t, watchdog_alive)
        self._updated = max(self._updated, t)

    def _update_coil(self, t: float, watchdog_alive: bool) -> None:
        self._rcd_update(t)
        coil = self.coil_drive and self.rcd_ok() and watchdog_alive and self._supply_ok(t)
        if coil != self._coil:
            self._move_contacts(t)  # a move already due happens before the coil changes again
            self._coil = coil
            delay = (self.board.contactor.operate_ms if coil else self.board.contactor.release_ms) / 1000
            self._pending = (t + delay, coil)
        self._move_contacts(t)

    def _move_contacts(self, t: float) -> None:
        if self._pending is None or t < self._pending[0]:
            return
        when, closed = self._pending
        self._pending = None
        if not closed and self.weld_armed:
            self.weld_armed, self.welded = False, True
        if not closed and self.welded:
            return  # the contacts stay stuck together
        if closed != self.contacts:
            self.contacts = closed
            self.emit(HardwareEvent(when, self.id, "contactor", closed=closed))

    # -- what the car does and the meter sees ------------------------------------------------
    def update_car(self, t: float, dt: float) -> None:
        if self.car is None:
            return
        if self.car.update(t, dt, self.pilot_mode(), self.duty_pct(), self.contacts, self.line_voltage_v):
            self._update_line(t)

    def phase_currents(self) -> tuple[float, float, float]:
        if self.car is None or not self.contacts:
            return (0.0, 0.0, 0.0)
        return self.car.phase_currents()

    def phase_voltages(self) -> tuple[float, float, float]:
        v = self.line_voltage_v if self.contacts else 0.0
        return (v, v, v)
