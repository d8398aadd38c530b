"""The charge point's configuration keys (OCPP 1.6 §9): what GetConfiguration lists and
ChangeConfiguration may change. Read-only keys are answered Rejected, unknown keys NotSupported;
the writable ones are checked and kept across restarts."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ocpp.v16.enums import ConfigurationStatus

MEASURANDS = ("Current.Import", "Voltage", "Power.Active.Import", "Energy.Active.Import.Register",
              "Current.Offered")
DEFAULT_SAMPLED = "Energy.Active.Import.Register,Power.Active.Import,Current.Import,Voltage,Current.Offered"
MAX_STACK_LEVEL = 10
MAX_PERIODS = 24
MAX_PROFILES = 20
MAX_KEYS = 50


def _integer(low: int, high: int) -> Callable[[str], str]:
    def check(value: str) -> str:
        number = int(value.strip())
        if not low <= number <= high:
            raise ValueError(f"{number} is not within {low}..{high}")
        return str(number)
    return check


def _measurands(value: str) -> str:
    items = [item.strip() for item in value.split(",") if item.strip()]
    unknown = [item for item in items if item not in MEASURANDS]
    if unknown or len(items) > len(MEASURANDS):
        raise ValueError(f"unsupported measurands {unknown}")
    return ",".join(items)


@dataclass(frozen=True)
class Key:
    default: str
    check: Callable[[str], str] | None = None  # None: read-only

    @property
    def readonly(self) -> bool:
        return self.check is None


KEYS: dict[str, Key] = {
    "SupportedFeatureProfiles": Key("Core,SmartCharging,RemoteTrigger,FirmwareManagement"),
    "NumberOfConnectors": Key("2"),
    "MeterValuesSampledData": Key(DEFAULT_SAMPLED, _measurands),
    "MeterValuesSampledDataMaxLength": Key(str(len(MEASURANDS))),
    "MeterValuesAlignedData": Key("Energy.Active.Import.Register", _measurands),
    "MeterValuesAlignedDataMaxLength": Key(str(len(MEASURANDS))),
    "MeterValueSampleInterval": Key("60", _integer(0, 86400)),
    "ClockAlignedDataInterval": Key("900", _integer(0, 86400)),
    "StopTxnSampledData": Key("Energy.Active.Import.Register", _measurands),
    "StopTxnAlignedData": Key(""),
    "HeartbeatInterval": Key("300", _integer(0, 86400)),
    "WebSocketPingInterval": Key("30", _integer(0, 3600)),
    "ConnectionTimeOut": Key("60", _integer(1, 3600)),
    "ChargeProfileMaxStackLevel": Key(str(MAX_STACK_LEVEL)),
    "ChargingScheduleAllowedChargingRateUnit": Key("Current,Power"),
    "ChargingScheduleMaxPeriods": Key(str(MAX_PERIODS)),
    "MaxChargingProfilesInstalled": Key(str(MAX_PROFILES)),
    "ConnectorPhaseRotation": Key("0.RST,1.RST,2.RST"),
    "StopTransactionOnEVSideDisconnect": Key("true"),
    "StopTransactionOnInvalidId": Key("true"),
    "UnlockConnectorOnEVSideDisconnect": Key("true"),
    "AuthorizeRemoteTxRequests": Key("false"),
    "LocalAuthorizeOffline": Key("true"),  # free vending: nothing to authorize, online or not
    "LocalPreAuthorize": Key("false"),
    "TransactionMessageAttempts": Key("3", _integer(1, 100)),
    "TransactionMessageRetryInterval": Key("60", _integer(1, 3600)),
    "ResetRetries": Key("0"),  # a reset only restarts the link: nothing to retry
    "GetConfigurationMaxKeys": Key(str(MAX_KEYS)),
}


class Configuration:
    """The keys' values: the defaults with what the central system changed (`changed`, to store)."""

    def __init__(self, saved: Mapping[str, Any] | None = None, phase_rotation: str | None = None) -> None:
        self.values = {name: key.default for name, key in KEYS.items()}
        if phase_rotation is not None:
            self.values["ConnectorPhaseRotation"] = phase_rotation
        self.changed: dict[str, str] = {}
        for name, value in (saved or {}).items():
            if name in KEYS and not KEYS[name].readonly and isinstance(value, str):
                self.values[name] = self.changed[name] = value

    def get(self, names: list[str] | None) -> tuple[list[dict[str, Any]], list[str]]:
        """GetConfiguration: (known keys with their values, unknown names)."""
        wanted = names or list(KEYS)
        known = [{"key": n, "readonly": KEYS[n].readonly, "value": self.values[n]} for n in wanted if n in KEYS]
        return known, [n for n in wanted if n not in KEYS]

    def change(self, name: str, value: str) -> ConfigurationStatus:
        key = KEYS.get(name)
        if key is None:
            return ConfigurationStatus.not_supported
        if key.check is None:
            return ConfigurationStatus.rejected
        try:
            checked = key.check(value)
        except ValueError:
            return ConfigurationStatus.rejected
        self.values[name] = self.changed[name] = checked
        return ConfigurationStatus.accepted

    def integer(self, name: str) -> int:
        return int(self.values[name])

    def measurands(self, name: str) -> list[str]:
        return [m for m in self.values[name].split(",") if m]


def phase_rotation_value(rotations: Mapping[int, tuple[int, int, int]]) -> str:
    """ConnectorPhaseRotation: e.g. "0.RST,1.RST,2.STR" from each station's line phases."""
    names: dict[tuple[int, ...], str] = {(1, 2, 3): "RST", (2, 3, 1): "STR", (3, 1, 2): "TRS", (1, 3, 2): "RTS",
                                         (2, 1, 3): "SRT", (3, 2, 1): "TSR"}
    return ",".join(["0.RST"] + [f"{sid}.{names.get(tuple(rot), 'Unknown')}" for sid, rot in sorted(rotations.items())])
