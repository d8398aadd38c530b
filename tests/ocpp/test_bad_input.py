"""Bad input from the central system gets the right CallError (or Rejected) and the supervisor
keeps running: broken frames, unknown actions, payloads against the schema, absurd profiles."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from ocpp.v16 import call

from tests.ocpp.conftest import appliance, charging_car
from tests.ocpp.csms import CentralSystem, until
from tests.ocpp.profiles_helpers import absolute_profile

pytestmark = pytest.mark.realtime
CP = "evse-bad"

FRAMES: list[tuple[str, str, str]] = [  # (frame, unique id of the answer, error code)
    ("this is not json", "-1", "FormationViolation"),
    ('{"an": "object"}', "-1", "ProtocolError"),
    ('[2, "m1"]', "m1", "ProtocolError"),
    ('[2, "m2", "FlyToTheMoon", {}]', "m2", "NotImplemented"),
    ('[2, "m3", "ReserveNow", {"connectorId": 1, "expiryDate": "2030-01-01T00:00:00Z", "idTag": "x", '
     '"reservationId": 1}]', "m3", "NotSupported"),
    ('[2, "m4", "ChangeAvailability", {"connectorId": "one", "type": "Operative"}]', "m4", "TypeConstraintViolation"),
    ('[2, "m5", "ChangeAvailability", {"connectorId": 1, "type": "Operative", "extra": 1}]', "m5",
     "FormationViolation"),
    ('[2, "m6", "ChangeAvailability", {"type": "Operative"}]', "m6", "ProtocolError"),
    ('[2, "m8", "ChangeAvailability", {"connectorId": 1, "type": "Sideways"}]', "m8", "PropertyConstraintViolation"),
    ('[2, "m9", "GetCompositeSchedule", {"connectorId": 1, "duration": 60, "chargingRateUnit": "V"}]', "m9",
     "PropertyConstraintViolation"),
    ('[2, "m11", "SetChargingProfile", {"connectorId": 1, "csChargingProfiles": {"chargingProfileId": 1, '
     '"stackLevel": 0, "chargingProfilePurpose": "TxDefaultProfile", "chargingProfileKind": "Absolute", '
     '"chargingSchedule": {"chargingRateUnit": "A", "chargingSchedulePeriod": [{"startPeriod": 0, '
     '"limit": 6.05}]}}}]', "m11", "PropertyConstraintViolation"),
    ('[2, "m7", "ChangeConfiguration", {"key": "HeartbeatInterval", "value": "' + "9" * 600 + '"}]', "m7",
     "TypeConstraintViolation"),
]


def profile(**changes: Any) -> dict[str, Any]:
    base = absolute_profile(7, "TxDefaultProfile", 16.0)
    schedule = {**base["charging_schedule"], **changes.pop("schedule", {})}
    return {**base, **changes, "charging_schedule": schedule}


ABSURD: list[tuple[int, dict[str, Any]]] = [
    (1, profile(schedule={"charging_schedule_period": [{"start_period": 0, "limit": 5000.0}]})),
    (1, profile(schedule={"charging_schedule_period": [{"start_period": 0, "limit": -6.0}]})),
    (1, profile(schedule={"charging_schedule_period": [{"start_period": 60, "limit": 6.0}]})),
    (1, profile(schedule={"charging_schedule_period": [{"start_period": 0, "limit": 6.0},
                                                       {"start_period": 0, "limit": 8.0}]})),
    (1, profile(schedule={"charging_schedule_period": [{"start_period": i * 60, "limit": 6.0}
                                                       for i in range(100)]})),
    (1, profile(stack_level=99)),
    (1, profile(valid_from="2030-01-02T00:00:00Z", valid_to="2030-01-01T00:00:00Z")),
    (1, profile(charging_profile_kind="Recurring")),
    (1, profile(charging_profile_purpose="ChargePointMaxProfile")),
    (0, profile(charging_profile_purpose="TxProfile")),
    (1, profile(charging_profile_purpose="TxProfile")),  # no transaction runs on connector 1
    (7, profile()),
    (1, profile(schedule={"start_schedule": "2030-01-01T00:00:00"})),  # no time zone
]


def test_bad_frames_and_payloads(csms: CentralSystem, tmp_path: Path) -> None:
    with appliance(tmp_path, charging_car(2, at=30.0), csms.url(CP), password="s3cret-s3cret") as app:
        csms.wait_for("BootNotification", CP, timeout=20)
        until(lambda: csms.connected(CP), 5, "connected")
        assert csms.authorization[CP] == "Basic " + base64.b64encode(f"{CP}:s3cret-s3cret".encode()).decode()
        for frame, unique_id, code in FRAMES:
            answer = csms.raw(CP, frame, unique_id)
            assert answer[:3] == [4, unique_id, code], frame

        for connector, absurd in ABSURD:
            result = csms.call(CP, call.SetChargingProfile(connector_id=connector, cs_charging_profiles=absurd))
            assert result.status == "Rejected", json.dumps(absurd)
        assert app.ctx.core.station_caps == {} and app.ctx.core.external_limit is None

        assert csms.call(CP, call.DataTransfer(vendor_id="com.example")).status == "UnknownVendorId"
        assert csms.call(CP, call.UnlockConnector(connector_id=1)).status == "NotSupported"
        assert csms.call(CP, call.ChangeAvailability(connector_id=5, type="Inoperative")).status == "Rejected"
        assert csms.call(CP, call.ChangeConfiguration(key="NoSuchKey", value="1")).status == "NotSupported"
        assert csms.call(CP, call.ChangeConfiguration(key="HeartbeatInterval", value="soon")).status == "Rejected"
        assert csms.call(CP, call.ChangeConfiguration(key="MeterValuesSampledData",
                                                      value="Temperature")).status == "Rejected"
        assert csms.call(CP, call.GetCompositeSchedule(connector_id=9, duration=60)).status == "Rejected"
        assert csms.call(CP, call.RemoteStopTransaction(transaction_id=424242)).status == "Rejected"
        assert csms.call(CP, call.TriggerMessage(requested_message="MeterValues", connector_id=9)).status == "Rejected"
        unknown = csms.call(CP, call.GetConfiguration(key=["NoSuchKey", "HeartbeatInterval"]))
        assert unknown.unknown_key == ["NoSuchKey"] and unknown.configuration_key[0]["value"] == "300"

        sent = csms.messages()[-1].t
        assert csms.call(CP, call.TriggerMessage(requested_message="Heartbeat")).status == "Accepted"
        csms.wait_for("Heartbeat", CP, after=sent, timeout=10)  # the same connection still works
        assert app.ocpp.link is not None and app.ocpp.link.state.reconnects == 0
        assert app.client.get("/api/v1/auth/me").status_code in (200, 401)
