"""IEC states and faults as OCPP statuses and error codes; the configuration keys."""

from __future__ import annotations

from typing import Any

import pytest

from appliance.protocol import FaultInfo
from appliance.supervisor.live import LiveStation
from appliance.supervisor.ocpp.config import KEYS, Configuration, phase_rotation_value
from appliance.supervisor.ocpp.status import charge_point_status, connector_status


def live(state: str = "A", faults: tuple[str, ...] = (), blocking: bool = True, **fields: Any) -> LiveStation:
    return LiveStation(station=1, state=state, faults=[FaultInfo(code=c, message=c, since=0.0, blocking=blocking)
                                                       for c in faults], **fields)


@pytest.mark.parametrize("fault, code", [
    ("RCD_DC", "GroundFailure"), ("RCD_AC", "GroundFailure"), ("ContactorWelded", "PowerSwitchFailure"),
    ("OverCurrent", "OverCurrentFailure"), ("OverTemperature", "HighTemperature"),
    ("MeterFault", "PowerMeterFailure"), ("PilotFault", "EVCommunicationError"),
    ("DiodeFault", "EVCommunicationError"), ("ADCFault", "OtherError"),
])
def test_faults_map_to_error_codes(fault: str, code: str) -> None:
    status = connector_status(live("C", (fault,)), True, True, False)
    assert (status.status, status.error_code, status.info) == ("Faulted", code, fault)


def test_a_fault_that_does_not_block_is_reported_without_faulted() -> None:
    status = connector_status(live("A", ("MeterFault",), blocking=False), True, False, False)
    assert (status.status, status.error_code) == ("Available", "PowerMeterFailure")


@pytest.mark.parametrize("station, available, in_tx, finished, expected", [
    (live("A"), True, False, False, "Available"),
    (live("A"), False, False, False, "Unavailable"),
    (live("B"), True, False, False, "Preparing"),
    (live("B"), True, False, True, "Finishing"),
    (live("C", contactor=True, current_a=[16.0, 16.0, 16.0], allowed=True, offered_a=16.0), True, True, False,
     "Charging"),
    (live("B", allowed=True, offered_a=16.0), True, True, False, "SuspendedEV"),
    (live("C", allowed=False, offered_a=0.0), True, True, False, "SuspendedEVSE"),
    (live("C", allowed=False, offered_a=0.0), False, True, False, "SuspendedEVSE"),  # unavailable waits for the tx
    (live("F"), True, False, False, "Faulted"),
])
def test_states_map_to_statuses(station: LiveStation, available: bool, in_tx: bool, finished: bool,
                                expected: str) -> None:
    assert connector_status(station, available, in_tx, finished).status == expected


def test_connector_zero() -> None:
    assert charge_point_status(True, True).status == "Available"
    assert charge_point_status(True, False).status == "Unavailable"
    lost = charge_point_status(False, True)
    assert (lost.status, lost.error_code) == ("Faulted", "InternalError")


def test_configuration_keys() -> None:
    config = Configuration()
    known, unknown = config.get(None)
    assert {k["key"] for k in known} == set(KEYS) and unknown == []
    assert config.change("NumberOfConnectors", "3") == "Rejected"  # read-only
    assert config.change("Nonsense", "1") == "NotSupported"
    assert config.change("MeterValueSampleInterval", "-5") == "Rejected"
    assert config.change("MeterValueSampleInterval", " 15 ") == "Accepted"
    assert config.integer("MeterValueSampleInterval") == 15
    assert config.change("MeterValuesSampledData", "Voltage,Bogus") == "Rejected"
    assert config.change("MeterValuesSampledData", "Voltage, Current.Import") == "Accepted"
    assert config.measurands("MeterValuesSampledData") == ["Voltage", "Current.Import"]
    again = Configuration(config.changed)
    assert again.values["MeterValueSampleInterval"] == "15"
    assert Configuration({"NumberOfConnectors": "9"}).values["NumberOfConnectors"] == "2"  # never from storage


def test_phase_rotation_names_each_connector() -> None:
    assert phase_rotation_value({1: (1, 2, 3), 2: (2, 3, 1)}) == "0.RST,1.RST,2.STR"
