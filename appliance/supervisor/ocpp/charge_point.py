"""The OCPP 1.6J conversation: every message the central system may send, answered by the
`Station` behind it, and the calls the charge point makes. Schema checks both ways are the
library's; what it gets wrong about error codes is put right here, and no frame, however bad,
ends the conversation."""

from __future__ import annotations

import json
import logging
from typing import Any, Protocol

from ocpp.exceptions import (
    FormationViolationError,
    FormatViolationError,
    NotImplementedError,
    NotSupportedError,
    OCPPError,
)
from ocpp.messages import Call, MessageType, unpack
from ocpp.routing import after, on
from ocpp.v16 import ChargePoint, call_result
from ocpp.v16.enums import Action

from appliance.supervisor.ocpp.violations import schema_violation

log = logging.getLogger(__name__)


class Station(Protocol):
    """The appliance as the central system sees it (OcppService)."""

    registration: str | None

    def remote_start(self, id_tag: str, connector_id: int | None, charging_profile: dict[str, Any] | None) -> str: ...

    def remote_stop(self, transaction_id: int) -> str: ...

    def change_availability(self, connector_id: int, kind: str) -> str: ...

    def reset(self, kind: str) -> str: ...

    def after_reset(self, kind: str) -> None: ...

    def get_configuration(self, keys: list[str] | None) -> tuple[list[dict[str, Any]], list[str]]: ...

    def change_configuration(self, key: str, value: str) -> str: ...

    def set_profile(self, connector_id: int, profile: dict[str, Any]) -> str: ...

    def clear_profiles(self, profile_id: int | None, connector_id: int | None, purpose: str | None,
                       stack_level: int | None) -> str: ...

    def composite(self, connector_id: int, duration: int, unit: str | None) -> dict[str, Any]: ...

    def trigger(self, message: str, connector_id: int | None) -> str: ...

    def after_trigger(self, message: str, connector_id: int | None) -> None: ...

    def update_firmware(self, location: str, retrieve_date: str, retries: int | None) -> None: ...

    def get_diagnostics(self, location: str) -> str | None: ...


def _unique_id(raw: str | bytes) -> str:
    """The id of a frame too broken to unpack, if one can be read from it."""
    try:
        frame = json.loads(raw)
    except (ValueError, TypeError):
        return "-1"
    return frame[1] if isinstance(frame, list) and len(frame) > 1 and isinstance(frame[1], str) else "-1"


def _plain(error: OCPPError) -> OCPPError:
    """The error with details that serialize, and OCPP 1.6's FormationViolation for the
    library's FormatViolation (a 2.0 code)."""
    cause = error.details.get("cause") if isinstance(error.details, dict) else None
    details = {"cause": str(cause)} if cause is not None else {}
    if isinstance(error, FormatViolationError):
        return FormationViolationError(description=error.description, details=details)
    plain = type(error)(description=error.description, details=details)
    return plain


class ApplianceChargePoint(ChargePoint):
    def __init__(self, cp_id: str, connection: Any, station: Station, response_timeout: float = 30) -> None:
        super().__init__(cp_id, connection, response_timeout=response_timeout, logger=log)
        self.station = station

    async def route_message(self, raw_msg: str | bytes) -> None:
        try:
            msg = unpack(raw_msg)
        except OCPPError as error:
            await self._send(json.dumps([MessageType.CallError, _unique_id(raw_msg), _plain(error).code,
                                         error.description, {}]))
            return
        if msg.message_type_id == MessageType.Call:
            if self.station.registration == "Rejected":
                return  # a rejected charge point answers nothing until it is accepted
            if msg.action not in self.route_map:
                known = msg.action in Action.__members__.values()
                refusal = NotSupportedError() if known else NotImplementedError(
                    description="Requested Action is not known by receiver")
                await self._send(msg.create_call_error(refusal).to_json())
                return
        await super().route_message(raw_msg)

    async def _handle_call(self, msg: Call) -> Any:
        try:
            return await super()._handle_call(msg)
        except FormatViolationError as error:
            raise schema_violation(msg.action, msg.payload, error.description) from None
        except OCPPError as error:
            raise _plain(error) from None

    # ------------------------------------------------------------------ Core
    @on(Action.remote_start_transaction)
    def on_remote_start(self, id_tag: str, connector_id: int | None = None,
                        charging_profile: dict[str, Any] | None = None) -> call_result.RemoteStartTransaction:
        return call_result.RemoteStartTransaction(self.station.remote_start(id_tag, connector_id, charging_profile))

    @on(Action.remote_stop_transaction)
    def on_remote_stop(self, transaction_id: int) -> call_result.RemoteStopTransaction:
        return call_result.RemoteStopTransaction(self.station.remote_stop(transaction_id))

    @on(Action.change_availability)
    def on_change_availability(self, connector_id: int, type: str) -> call_result.ChangeAvailability:
        return call_result.ChangeAvailability(self.station.change_availability(connector_id, type))

    @on(Action.reset)
    def on_reset(self, type: str) -> call_result.Reset:
        return call_result.Reset(self.station.reset(type))

    @after(Action.reset)
    def after_reset(self, type: str) -> None:
        self.station.after_reset(type)

    @on(Action.unlock_connector)
    def on_unlock(self, connector_id: int) -> call_result.UnlockConnector:
        return call_result.UnlockConnector("NotSupported")  # fixed cables, no lock

    @on(Action.get_configuration)
    def on_get_configuration(self, key: list[str] | None = None) -> call_result.GetConfiguration:
        known, unknown = self.station.get_configuration(key)
        return call_result.GetConfiguration(configuration_key=known, unknown_key=unknown or None)

    @on(Action.change_configuration)
    def on_change_configuration(self, key: str, value: str) -> call_result.ChangeConfiguration:
        return call_result.ChangeConfiguration(self.station.change_configuration(key, value))

    @on(Action.data_transfer)
    def on_data_transfer(self, vendor_id: str, **_: Any) -> call_result.DataTransfer:
        return call_result.DataTransfer("UnknownVendorId")

    # ------------------------------------------------------------------ SmartCharging
    @on(Action.set_charging_profile)
    def on_set_profile(self, connector_id: int, cs_charging_profiles: dict[str, Any]) -> call_result.SetChargingProfile:
        return call_result.SetChargingProfile(self.station.set_profile(connector_id, cs_charging_profiles))

    @on(Action.clear_charging_profile)
    def on_clear_profile(self, id: int | None = None, connector_id: int | None = None,
                         charging_profile_purpose: str | None = None,
                         stack_level: int | None = None) -> call_result.ClearChargingProfile:
        return call_result.ClearChargingProfile(
            self.station.clear_profiles(id, connector_id, charging_profile_purpose, stack_level))

    @on(Action.get_composite_schedule)
    def on_composite(self, connector_id: int, duration: int,
                     charging_rate_unit: str | None = None) -> call_result.GetCompositeSchedule:
        return call_result.GetCompositeSchedule(**self.station.composite(connector_id, duration, charging_rate_unit))

    # ------------------------------------------------------------------ RemoteTrigger
    @on(Action.trigger_message)
    def on_trigger(self, requested_message: str, connector_id: int | None = None) -> call_result.TriggerMessage:
        return call_result.TriggerMessage(self.station.trigger(requested_message, connector_id))

    @after(Action.trigger_message)
    def after_trigger(self, requested_message: str, connector_id: int | None = None) -> None:
        self.station.after_trigger(requested_message, connector_id)

    # ------------------------------------------------------------------ FirmwareManagement
    @on(Action.update_firmware)
    def on_update_firmware(self, location: str, retrieve_date: str, retries: int | None = None,
                           retry_interval: int | None = None) -> call_result.UpdateFirmware:
        self.station.update_firmware(location, retrieve_date, retries)
        return call_result.UpdateFirmware()

    @on(Action.get_diagnostics)
    def on_get_diagnostics(self, location: str, retries: int | None = None, retry_interval: int | None = None,
                           start_time: str | None = None, stop_time: str | None = None) -> call_result.GetDiagnostics:
        return call_result.GetDiagnostics(file_name=self.station.get_diagnostics(location))
