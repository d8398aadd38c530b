"""Fault codes, named in the style of EVerest's error list, and what each one does."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from appliance.j1772.states import PilotMode


class FaultCode(str, Enum):
    DIODE_FAULT = "DiodeFault"
    VENTILATION_NOT_AVAILABLE = "VentilationNotAvailable"
    RCD_DC = "RCD_DC"
    RCD_AC = "RCD_AC"
    RCD_SELF_TEST_FAILED = "RCDSelfTestFailed"
    CONTACTOR_WELDED = "ContactorWelded"
    CONTACTOR_FAULT = "ContactorFault"
    OVER_CURRENT = "OverCurrent"
    OVER_TEMPERATURE = "OverTemperature"
    PP_INVALID = "PPInvalid"
    PILOT_FAULT = "PilotFault"
    ADC_FAULT = "ADCFault"
    METER_FAULT = "MeterFault"
    SUPERVISOR_LOST = "SupervisorLost"


class Clears(str, Enum):
    """When an active fault goes away."""

    CONDITION = "condition"  # as soon as its cause is gone
    UNPLUG = "unplug"  # when the car has really left (confirmed A, cable gone), or clear_fault
    SERVICE = "service"  # only a service reset (clear_fault with service=true)


@dataclass(frozen=True)
class FaultPolicy:
    pilot: PilotMode | None  # pilot mode forced while active; None = leave pilot alone
    blocks_charging: bool
    clears: Clears


POLICY: dict[FaultCode, FaultPolicy] = {
    FaultCode.DIODE_FAULT: FaultPolicy(PilotMode.F, True, Clears.UNPLUG),
    FaultCode.VENTILATION_NOT_AVAILABLE: FaultPolicy(PilotMode.X1, True, Clears.UNPLUG),
    FaultCode.RCD_DC: FaultPolicy(PilotMode.F, True, Clears.UNPLUG),
    FaultCode.RCD_AC: FaultPolicy(PilotMode.F, True, Clears.UNPLUG),
    FaultCode.RCD_SELF_TEST_FAILED: FaultPolicy(PilotMode.F, True, Clears.UNPLUG),
    FaultCode.CONTACTOR_WELDED: FaultPolicy(PilotMode.F, True, Clears.SERVICE),
    FaultCode.CONTACTOR_FAULT: FaultPolicy(PilotMode.X1, True, Clears.UNPLUG),
    FaultCode.OVER_CURRENT: FaultPolicy(PilotMode.X1, True, Clears.UNPLUG),
    FaultCode.OVER_TEMPERATURE: FaultPolicy(None, False, Clears.CONDITION),
    FaultCode.PP_INVALID: FaultPolicy(PilotMode.X1, True, Clears.CONDITION),
    FaultCode.PILOT_FAULT: FaultPolicy(PilotMode.X1, True, Clears.CONDITION),
    FaultCode.ADC_FAULT: FaultPolicy(PilotMode.F, True, Clears.CONDITION),
    FaultCode.METER_FAULT: FaultPolicy(PilotMode.X1, True, Clears.CONDITION),
    FaultCode.SUPERVISOR_LOST: FaultPolicy(None, False, Clears.CONDITION),
}
