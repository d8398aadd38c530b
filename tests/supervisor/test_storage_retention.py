"""Retention of the event and audit logs (issue 11: they grew without limit) and which writes
are durable at once (SPEC §5)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from appliance.supervisor.storage import (
    AUDIT_MAX_ROWS,
    AUDIT_RETENTION_DAYS,
    EVENT_MAX_ROWS,
    EVENT_RETENTION_DAYS,
    Storage,
)

T0 = 1_700_000_040.0
DAY = 86400


@pytest.fixture
def storage(tmp_path: Path) -> Iterator[Storage]:
    with Storage(tmp_path / "evse.db") as s:
        yield s


def test_defaults_bound_the_logs() -> None:
    assert (EVENT_RETENTION_DAYS.default, EVENT_MAX_ROWS.default) == (365, 100_000)
    assert (AUDIT_RETENTION_DAYS.default, AUDIT_MAX_ROWS.default) == (730, 100_000)


def test_purge_drops_events_and_audit_entries_past_their_age(storage: Storage) -> None:
    for day in range(0, 800, 100):
        storage.events.add(T0 + day * DAY, "decision", f"day {day}")
        storage.audit.add(T0 + day * DAY, "owner", f"day {day}")
    report = storage.purge(T0 + 800 * DAY)
    assert (report.events, report.audit) == (5, 1)  # days 0-400 are over 365 days old; day 0 over 730
    assert [e.message for e in storage.events.list().items][-1] == "day 500"
    assert [a.action for a in storage.audit.list().items][-1] == "day 100"


def test_purge_keeps_the_newest_rows_within_the_count(storage: Storage) -> None:
    storage.settings.set(EVENT_MAX_ROWS, 5, T0)
    storage.settings.set(AUDIT_MAX_ROWS, 3, T0)
    for i in range(12):
        storage.events.add(T0 + i, "decision", f"event {i}")
        storage.audit.add(T0 + i, "owner", f"action {i}")
    report = storage.purge(T0 + 20)
    assert (report.events, report.audit) == (7, 9)
    assert [e.message for e in storage.events.list().items] == [f"event {i}" for i in range(11, 6, -1)]
    assert [a.action for a in storage.audit.list().items] == ["action 11", "action 10", "action 9"]
    assert storage.purge(T0 + 20).events == 0


def test_bad_retention_input_is_refused(storage: Storage) -> None:
    with pytest.raises(ValueError, match="max_rows must be >= 0"):
        storage.events.prune(T0, -1)
    with pytest.raises(ValueError, match="must be a number"):
        storage.audit.prune("yesterday", 10)


def _statements(storage: Storage, action: Callable[[], object]) -> list[str]:
    seen: list[str] = []
    conn = storage._g._db.conn
    conn.set_trace_callback(seen.append)
    try:
        action()
    finally:
        conn.set_trace_callback(None)
    return seen


@pytest.mark.parametrize("record", ["event", "fault", "audit", "session_open", "session_close"])
def test_records_commit_with_an_fsync_at_once(storage: Storage, record: str) -> None:
    sid = storage.sessions.open(1, T0, "on")
    actions: dict[str, Callable[[], object]] = {
        "event": lambda: storage.events.add(T0, "decision", "waiting"),
        "fault": lambda: storage.faults.record(T0, 1, "rcd", True, "residual current"),
        "audit": lambda: storage.audit.add(T0, "owner", "set mode"),
        "session_open": lambda: storage.sessions.open(2, T0, "on"),
        "session_close": lambda: storage.sessions.close(sid, T0 + 60),
    }
    seen = _statements(storage, actions[record])
    full = seen.index("PRAGMA synchronous=FULL")
    assert seen.index("COMMIT") > full and "PRAGMA synchronous=NORMAL" in seen[seen.index("COMMIT"):]


def test_session_totals_are_an_ordinary_commit(storage: Storage) -> None:
    sid = storage.sessions.open(1, T0, "on")
    assert "PRAGMA synchronous=FULL" not in _statements(storage, lambda: storage.sessions.update(sid, 1.0, 7000.0))
