"""evcc's OCPP driver as the central system: its sequence from connect to RemoteStop, against
the real supervisor on the simulated HAT, with the numbers it relies on."""

from __future__ import annotations

from pathlib import Path

import pytest
from ocpp.v16 import call

from tests.ocpp.conftest import appliance, charging_car
from tests.ocpp.csms import CentralSystem, Received, until
from tests.ocpp.profiles_helpers import absolute_profile

pytestmark = pytest.mark.realtime
CP = "evse-1"
STANDARD_KEYS = {"SupportedFeatureProfiles", "NumberOfConnectors", "MeterValuesSampledData", "MeterValuesAlignedData",
                 "MeterValueSampleInterval", "ClockAlignedDataInterval", "HeartbeatInterval",
                 "ChargeProfileMaxStackLevel", "ChargingScheduleAllowedChargingRateUnit", "ChargingScheduleMaxPeriods",
                 "MaxChargingProfilesInstalled", "ConnectorPhaseRotation", "StopTransactionOnEVSideDisconnect"}
MEASURANDS = ["Power.Active.Import", "Energy.Active.Import.Register", "Current.Import", "Voltage", "Current.Offered"]


def tx_default(limit: float, profile_id: int = 1) -> call.SetChargingProfile:
    return call.SetChargingProfile(connector_id=1, cs_charging_profiles=absolute_profile(
        profile_id, "TxDefaultProfile", limit, start_offset_s=-60))


def status_of(message: Received) -> tuple[int, str]:
    return message.payload["connector_id"], message.payload["status"]


def test_evcc_sequence(csms: CentralSystem, tmp_path: Path) -> None:
    with appliance(tmp_path, charging_car(1, at=3.0), csms.url(CP)) as app:
        boot = csms.wait_for("BootNotification", CP, timeout=20)
        assert boot.payload["charge_point_vendor"] == "EVSE appliance"
        until(lambda: csms.connected(CP), 5, "connected")
        assert csms.authorization[CP] is None  # evcc's server wants no password
        assert csms.call(CP, call.ChangeAvailability(connector_id=0, type="Operative")).status == "Accepted"

        config = csms.call(CP, call.GetConfiguration())
        keys = {k["key"]: k for k in config.configuration_key}
        assert set(keys) >= STANDARD_KEYS
        assert keys["NumberOfConnectors"]["value"] == "2" and keys["NumberOfConnectors"]["readonly"] is True
        assert "SmartCharging" in keys["SupportedFeatureProfiles"]["value"]

        triggered_at = boot.t
        assert csms.call(CP, call.TriggerMessage(requested_message="BootNotification")).status == "Accepted"
        csms.wait_for("BootNotification", CP, after=triggered_at, timeout=10)

        for measurand in MEASURANDS:
            answer = csms.call(CP, call.ChangeConfiguration(key="MeterValuesSampledData", value=measurand))
            assert answer.status == "Accepted", measurand
        assert csms.call(CP, call.ChangeConfiguration(key="MeterValuesSampledData",
                                                      value=",".join(MEASURANDS))).status == "Accepted"
        assert csms.call(CP, call.ChangeConfiguration(key="MeterValueSampleInterval", value="5")).status == "Accepted"
        assert csms.call(CP, call.ChangeConfiguration(key="NumberOfConnectors", value="3")).status == "Rejected"

        start = csms.wait_for("StartTransaction", CP, timeout=30)
        assert start.payload["connector_id"] == 1 and start.payload["id_tag"] == "evse-local"
        csms.wait_for("StatusNotification", CP, where=lambda m: status_of(m) == (1, "Charging"), timeout=20)
        until(lambda: app.ctx.core.live[1].charging, 15, "the car charges")

        asked = csms.messages()[-1].t
        assert csms.call(CP, call.TriggerMessage(requested_message="MeterValues", connector_id=1)).status == "Accepted"
        values = csms.wait_for("MeterValues", CP, after=asked, timeout=10, where=lambda m: m.payload[
            "meter_value"][0]["sampled_value"][0]["context"] == "Trigger")
        sampled = values.payload["meter_value"][0]["sampled_value"]
        assert {s["measurand"] for s in sampled} == set(MEASURANDS)
        currents = [s for s in sampled if s["measurand"] == "Current.Import"]
        assert sorted(s["phase"] for s in currents) == ["L1", "L2", "L3"]
        assert all(float(s["value"]) > 6 for s in currents)  # the car draws on all three phases

        assert csms.call(CP, tx_default(10.0)).status == "Accepted"
        took = until(lambda: app.offered(1) <= 10.0, 10, "offered current down to 10 A")
        assert took < 10 and 6.0 <= app.offered(1) <= 10.0
        assert "limited by the central system to 10 A" in app.reason(1)

        assert csms.call(CP, tx_default(0.0, profile_id=2)).status == "Accepted"  # same stack level: replaces
        until(lambda: app.offered(1) == 0.0, 10, "paused at 0 A")
        assert app.reason(1) == "paused by the central system"
        csms.wait_for("StatusNotification", CP, where=lambda m: status_of(m) == (1, "SuspendedEVSE"), timeout=10)

        periodic = csms.wait_for("MeterValues", CP, timeout=15, where=lambda m: m.payload["meter_value"][0][
            "sampled_value"][0]["context"] == "Sample.Periodic")
        tx_id = periodic.payload["transaction_id"]
        assert values.payload["transaction_id"] == tx_id  # the triggered reading named the transaction too

        stopped_at = csms.messages()[-1].t
        assert csms.call(CP, call.RemoteStopTransaction(transaction_id=tx_id)).status == "Accepted"
        stop = csms.wait_for("StopTransaction", CP, after=stopped_at, timeout=10)
        assert stop.payload["transaction_id"] == tx_id and stop.payload["reason"] == "Remote"
        assert stop.payload["meter_stop"] > start.payload["meter_start"]  # it charged at 16+ A for seconds
        assert csms.call(CP, call.RemoteStopTransaction(transaction_id=tx_id)).status == "Rejected"
        assert app.client.get("/api/v1/status").status_code in (200, 401)  # the supervisor still answers
