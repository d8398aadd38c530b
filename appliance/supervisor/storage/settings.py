"""Settings: key -> JSON value. A `Setting` names a key with its type and default, so readers
get a typed value whether or not anyone ever stored one, and writers cannot store a wrong type."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import appliance.supervisor.storage.validate as validate
from appliance.errors import InvalidInput
from appliance.supervisor.storage.database import Guarded

T = TypeVar("T")


@dataclass(frozen=True)
class Setting(Generic[T]):
    key: str
    type: type[T]
    default: T

    def check(self, value: Any) -> T:
        """`value` as this setting's type (an int is a fine float; a bool is not an int)."""
        if self.type is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, self.type) or (isinstance(value, bool) and self.type is not bool):
            raise InvalidInput(f"setting {self.key} must be {self.type.__name__}, not {type(value).__name__}")
        return value


RAW_RETENTION_DAYS = Setting("telemetry.raw_retention_days", int, 30)
# The event and audit logs are pruned by age and by row count, whichever bites first: a year of a
# busy appliance is ~30,000 events, so the row caps only matter for a runaway writer.
EVENT_RETENTION_DAYS = Setting("events.retention_days", int, 365)
EVENT_MAX_ROWS = Setting("events.max_rows", int, 100_000)
AUDIT_RETENTION_DAYS = Setting("audit.retention_days", int, 730)
AUDIT_MAX_ROWS = Setting("audit.max_rows", int, 100_000)


class Settings:
    def __init__(self, guarded: Guarded) -> None:
        self._g = guarded

    def get(self, setting: Setting[T]) -> T:
        """The stored value, or the default when none is stored."""
        value = self.get_value(setting.key, setting.default)
        return setting.check(value)

    def set(self, setting: Setting[T], value: T, t: Any) -> None:
        self.set_value(setting.key, setting.check(value), t)

    def get_value(self, key: Any, default: Any = None) -> Any:
        """Untyped read, for settings only their owner knows the shape of (e.g. a JSON object)."""
        key = validate.identifier("key", key)
        with self._g.read() as db:
            row = db.execute("SELECT value FROM settings WHERE key = ?", [key]).fetchone()
        return default if row is None else json.loads(row[0])

    def set_value(self, key: Any, value: Any, t: Any) -> None:
        row = {"key": validate.identifier("key", key), "value": validate.json_text("value", value),
               "updated_t": validate.timestamp("t", t)}
        with self._g.write() as db:
            db.table("settings").upsert(row, pk="key")

    def delete(self, key: Any) -> None:
        """Back to the default."""
        key = validate.identifier("key", key)
        with self._g.write() as db:
            db.execute("DELETE FROM settings WHERE key = ?", [key])
