"""Charging profiles as a central system sends them (snake_case, as the `ocpp` library takes them)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any


def iso(t: datetime) -> str:
    return t.isoformat().replace("+00:00", "Z")


def absolute_profile(profile_id: int, purpose: str, limit: float, start_offset_s: float = 0.0, unit: str = "A",
                     stack_level: int = 0, base: datetime | None = None) -> dict[str, Any]:
    start = (base or datetime.now(UTC)) + timedelta(seconds=start_offset_s)
    return {"charging_profile_id": profile_id, "stack_level": stack_level, "charging_profile_purpose": purpose,
            "charging_profile_kind": "Absolute",
            "charging_schedule": {"charging_rate_unit": unit, "start_schedule": iso(start),
                                  "charging_schedule_period": [{"start_period": 0, "limit": limit}]}}
