"""The supervisor's storage: SQLite through sqlite-utils, in WAL mode, one versioned schema.

Telemetry (1 Hz raw, minute rollups), sessions, events, faults, pilot logs, prices, settings,
the audit log and auth records. All times are epoch seconds (float); ISO text appears only in
exports. Bad input raises ValueError naming the field; an unknown id raises NotFound.
"""

from appliance.errors import NotFound
from appliance.supervisor.allocation.prices import PriceSlot
from appliance.supervisor.storage.auth import ApiToken, BrowserSession
from appliance.supervisor.storage.facade import PurgeReport, Storage
from appliance.supervisor.storage.history import RESOLUTIONS, DayEnergy, TelemetryBucket, TelemetrySeries
from appliance.supervisor.storage.journal import AuditEntry, Event, Fault
from appliance.supervisor.storage.migrations import SchemaError
from appliance.supervisor.storage.paging import Page
from appliance.supervisor.storage.pilot_logs import PilotLogEntry
from appliance.supervisor.storage.sessions import SessionRecord
from appliance.supervisor.storage.settings import (
                                                   AUDIT_MAX_ROWS,
                                                   AUDIT_RETENTION_DAYS,
                                                   EVENT_MAX_ROWS,
                                                   EVENT_RETENTION_DAYS,
                                                   RAW_RETENTION_DAYS,
                                                   Setting,
)
from appliance.supervisor.storage.telemetry import TelemetrySample

__all__ = [
    "AUDIT_MAX_ROWS", "AUDIT_RETENTION_DAYS", "EVENT_MAX_ROWS", "EVENT_RETENTION_DAYS", "RAW_RETENTION_DAYS",
    "RESOLUTIONS", "ApiToken", "AuditEntry", "BrowserSession", "DayEnergy", "Event", "Fault",
    "NotFound", "Page", "PilotLogEntry", "PriceSlot", "PurgeReport", "SchemaError", "SessionRecord", "Setting",
    "Storage", "TelemetryBucket", "TelemetrySample", "TelemetrySeries",
]
