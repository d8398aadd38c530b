"""A simulated electric car: what it shows on the pilot and what it draws.

Behaves like the cars the appliance meets: closes S2 only when it sees PWM, follows duty
changes after its response delay, ramps, tapers near full, falls asleep and needs a
wake-up, may ask for ventilation, may lack its diode.
"""

from __future__ import annotations

import math

from pydantic import BaseModel, ConfigDict, Field, field_validator

from appliance.j1772.duty import current_from_duty
from appliance.simulator.pilot_line import R_STATE_B, R_STATE_C, R_STATE_D, CarLoad

# Cable coding resistors by rating (IEC 62196-2)
PP_OHMS = {13: 1500.0, 20: 680.0, 32: 220.0, 63: 100.0}


class CarSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    max_current_a: float = Field(default=32.0, gt=0, le=80, description="on-board charger limit per phase")
    phases: int = Field(default=3, description="1 or 3")
    battery_kwh: float = Field(default=60.0, gt=0)
    soc: float = Field(default=0.2, ge=0, le=1)
    diode: bool = True
    response_s: float = Field(default=2.0, ge=0, le=5, description="delay before following a duty change")
    cable_a: int = Field(default=32, description="cable coding: 13, 20, 32 or 63 A")
    ramp_a_per_s: float = Field(default=10.0, gt=0)
    stays_in_c: bool = Field(default=False, description="keeps S2 closed when the PWM disappears")
    overdraw_a: float = Field(default=0.0, ge=0, le=40, description="a faulty car: draws this much above the offer")

    @field_validator("phases")
    @classmethod
    def _phases(cls, v: int) -> int:
        if v not in (1, 3):
            raise ValueError("phases must be 1 or 3")
        return v

    @field_validator("cable_a")
    @classmethod
    def _cable(cls, v: int) -> int:
        if v not in PP_OHMS:
            raise ValueError(f"cable_a must be one of {sorted(PP_OHMS)}")
        return v


class SimCar:
    def __init__(self, spec: CarSpec, now: float) -> None:
        self.spec = spec
        self.soc = spec.soc
        self.s2_closed = False
        self.wants_power = False
        self.asleep = False
        self.vent = False
        self.pp_open = False  # the cable's PP contact is broken: PP reads open while plugged
        self.draw_limit_a = math.inf
        self.phases = spec.phases  # the car may switch, e.g. to 3 phases once its battery is warm
        self.current_a = 0.0
        self.energy_wh = 0.0
        self._seen_offer = 0.0  # what the car has taken notice of, after its response delay
        self._offer_since = (now, 0.0)  # (time, value) of the last pilot offer change
        self._f_since: float | None = None
        self._pwm_lost_since: float | None = None

    # -- what the EVSE measures ----------------------------------------------------------
    def load(self) -> CarLoad:
        if not self.s2_closed:
            ohms = R_STATE_B
        else:
            ohms = R_STATE_D if self.vent else R_STATE_C
        return CarLoad(ohms, self.spec.diode)

    def pp_ohms(self) -> float:
        return math.inf if self.pp_open else PP_OHMS[self.spec.cable_a]

    def phase_currents(self) -> tuple[float, float, float]:
        i = self.current_a
        return (i, i, i) if self.phases == 3 else (i, 0.0, 0.0)

    # -- what the car does -----------------------------------------------------------------
    def update(
        self, t: float, dt: float, pilot_mode: str, duty_pct: float | None, powered: bool, voltage_v: float
    ) -> bool:
        """Advance by `dt` ending at `t`. Returns True when the load on the CP line changed."""
        before = self.load()
        offer = current_from_duty(duty_pct) if pilot_mode == "X2" and duty_pct is not None else 0.0
        if offer != self._offer_since[1]:
            self._offer_since = (t, offer)
        if t - self._offer_since[0] >= self.spec.response_s:
            self._seen_offer = self._offer_since[1]
        self._watch_wakeup(t, pilot_mode)
        if not self.asleep:
            self._drive_s2(t, pilot_mode)
        self._draw(dt, powered, voltage_v)
        return self.load() != before

    def _watch_wakeup(self, t: float, pilot_mode: str) -> None:
        if pilot_mode == "F":
            self._f_since = self._f_since if self._f_since is not None else t
            if self.asleep and t - self._f_since >= 3.0:
                self.asleep = False
        else:
            self._f_since = None

    def _drive_s2(self, t: float, pilot_mode: str) -> None:
        if self.soc >= 1.0:
            self.wants_power = False
        if not self.wants_power:
            self.s2_closed = False
            return
        if pilot_mode == "X2":
            self._pwm_lost_since = None
            self.s2_closed = True
            return
        if self.s2_closed and not self.spec.stays_in_c:
            # PWM gone: stop drawing within the response time, then open S2
            self._pwm_lost_since = self._pwm_lost_since if self._pwm_lost_since is not None else t
            if t - self._pwm_lost_since >= self.spec.response_s and self.current_a <= 0.0:
                self.s2_closed = False

    def _target(self) -> float:
        if not (self.s2_closed and self.wants_power):
            return 0.0
        taper = 1.0 if self.soc < 0.8 else max(0.1, (1.0 - self.soc) / 0.2)
        if self._seen_offer <= 0:
            return 0.0
        return min(self._seen_offer + self.spec.overdraw_a, self.spec.max_current_a * taper, self.draw_limit_a)

    def _draw(self, dt: float, powered: bool, voltage_v: float) -> None:
        target = self._target() if powered else 0.0
        if not powered:
            self.current_a = 0.0  # no voltage, no current
        elif self.current_a > target:
            self.current_a = max(target, self.current_a - 5 * self.spec.ramp_a_per_s * dt)
        else:
            self.current_a = min(target, self.current_a + self.spec.ramp_a_per_s * dt)
        watts = sum(self.phase_currents()) * voltage_v
        self.energy_wh += watts * dt / 3600
        self.soc = min(1.0, self.soc + watts * dt / 3600 / (self.spec.battery_kwh * 1000))
