"""Board temperature derating: half the current from `derate_c`, none from `pause_c`."""

from __future__ import annotations

from appliance.j1772.faults import FaultCode
from appliance.pilot.faultset import FaultSet

HYSTERESIS_C = 5.0


class TemperatureDerating:
    def __init__(self, faults: FaultSet) -> None:
        self.faults = faults
        self.factor = 1.0  # 0.5 derated, 0 paused

    def update(self, now: float, temperature_c: float, derate_c: float, pause_c: float) -> float:
        """The factor on the offered current at this temperature."""
        code = FaultCode.OVER_TEMPERATURE
        if temperature_c >= pause_c:
            self.factor = 0.0
            self.faults.raise_(now, code, f"board at {temperature_c:.0f} °C: charging paused", renew=True)
        elif temperature_c >= derate_c:
            self.factor = 0.5
            self.faults.raise_(now, code, f"board at {temperature_c:.0f} °C: current halved", renew=True)
        elif code in self.faults and temperature_c < derate_c - HYSTERESIS_C:
            self.factor = 1.0
            self.faults.clear(now, code)
        return self.factor
