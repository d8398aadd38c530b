"""A connector's IEC 61851 state and faults as an OCPP ChargePointStatus and ChargePointErrorCode."""

from __future__ import annotations

from dataclasses import dataclass

from ocpp.v16.enums import ChargePointErrorCode, ChargePointStatus

from appliance.supervisor.live import LiveStation

ERROR_CODES: dict[str, ChargePointErrorCode] = {
    "RCD_DC": ChargePointErrorCode.ground_failure,
    "RCD_AC": ChargePointErrorCode.ground_failure,
    "RCDSelfTestFailed": ChargePointErrorCode.ground_failure,
    "ContactorWelded": ChargePointErrorCode.power_switch_failure,
    "ContactorFault": ChargePointErrorCode.power_switch_failure,
    "OverCurrent": ChargePointErrorCode.over_current_failure,
    "OverTemperature": ChargePointErrorCode.high_temperature,
    "MeterFault": ChargePointErrorCode.power_meter_failure,
    "PilotFault": ChargePointErrorCode.ev_communication_error,
    "DiodeFault": ChargePointErrorCode.ev_communication_error,
}
MIN_OFFER_A = 6.0


@dataclass(frozen=True)
class ConnectorStatus:
    status: ChargePointStatus
    error_code: ChargePointErrorCode = ChargePointErrorCode.no_error
    info: str | None = None


def error_code(fault_code: str) -> ChargePointErrorCode:
    return ERROR_CODES.get(fault_code, ChargePointErrorCode.other_error)


def connector_status(live: LiveStation, available: bool, in_transaction: bool, finished: bool) -> ConnectorStatus:
    """`finished`: a transaction ended during this plug-in and the car is still there."""
    faults = live.faults
    if live.blocking_faults:
        fault = live.blocking_faults[0]
        return ConnectorStatus(ChargePointStatus.faulted, error_code(fault.code), fault.code[:50])
    code = error_code(faults[0].code) if faults else ChargePointErrorCode.no_error
    info = faults[0].code[:50] if faults else None
    if live.state in ("E", "F"):
        return ConnectorStatus(ChargePointStatus.faulted, ChargePointErrorCode.ev_communication_error,
                               f"state {live.state}")
    if not available and not in_transaction:
        return ConnectorStatus(ChargePointStatus.unavailable, code, info)
    if not live.plugged:
        return ConnectorStatus(ChargePointStatus.available, code, info)
    if not in_transaction:
        return ConnectorStatus(ChargePointStatus.finishing if finished else ChargePointStatus.preparing, code, info)
    if live.charging:
        return ConnectorStatus(ChargePointStatus.charging, code, info)
    offering = live.allowed and live.offered_a >= MIN_OFFER_A
    return ConnectorStatus(ChargePointStatus.suspended_ev if offering else ChargePointStatus.suspended_evse, code, info)


def charge_point_status(pilot_connected: bool, available: bool) -> ConnectorStatus:
    """Connector 0: the charge point as a whole."""
    if not pilot_connected:
        return ConnectorStatus(ChargePointStatus.faulted, ChargePointErrorCode.internal_error, "pilot process lost")
    return ConnectorStatus(ChargePointStatus.available if available else ChargePointStatus.unavailable)
