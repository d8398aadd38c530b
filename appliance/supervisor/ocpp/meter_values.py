"""MeterValues from a station's live readings: the measurands the configuration asks for,
per phase where OCPP has phases (Current.Import and Voltage on L1, L2, L3)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from appliance.supervisor.live import LiveStation

PHASES = ("L1", "L2", "L3")


def timestamp(t: float) -> str:
    """OCPP dateTime: UTC with milliseconds and a Z."""
    return datetime.fromtimestamp(t, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _value(value: float, measurand: str, unit: str, context: str, phase: str | None = None) -> dict[str, Any]:
    sample = {"value": f"{value:.1f}" if unit != "Wh" else f"{value:.0f}", "context": context,
              "format": "Raw", "measurand": measurand, "location": "Outlet", "unit": unit}
    if phase is not None:
        sample["phase"] = phase
    return sample


def sampled_values(live: LiveStation, measurands: list[str], context: str) -> list[dict[str, Any]]:
    """One MeterValue's sampledValue list (camelCase, as on the wire)."""
    values: list[dict[str, Any]] = []
    for measurand in measurands:
        if measurand == "Current.Import":
            values += [_value(a, measurand, "A", context, ph)
                       for a, ph in zip(live.current_a, PHASES, strict=False)]
        elif measurand == "Voltage":
            values += [_value(v, measurand, "V", context, f"{ph}-N")
                       for v, ph in zip(live.voltage_v, PHASES, strict=False)]
        elif measurand == "Power.Active.Import":
            values.append(_value(live.power_total_w, measurand, "W", context))
        elif measurand == "Energy.Active.Import.Register":
            values.append(_value(live.energy_wh, measurand, "Wh", context))
        elif measurand == "Current.Offered":
            values.append(_value(live.offered_a, measurand, "A", context))
    return values


def meter_value(live: LiveStation, measurands: list[str], context: str, t: float) -> dict[str, Any]:
    return {"timestamp": timestamp(t), "sampledValue": sampled_values(live, measurands, context)}


def due(now: float, last: float | None, interval_s: int, aligned: bool) -> bool:
    """Whether a reading is due: every `interval_s` since the last, or on the clock's multiples of it."""
    if interval_s <= 0:
        return False
    if aligned:
        return last is not None and int(now // interval_s) != int(last // interval_s)
    return last is None or now - last >= interval_s
