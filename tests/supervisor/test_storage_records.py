"""Storage: events, faults, audit log, pilot logs, prices and settings."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from appliance.supervisor.storage import PriceSlot, Setting, Storage

T0 = 1_700_000_040.0


@pytest.fixture
def storage() -> Iterator[Storage]:
    with Storage(":memory:") as s:
        yield s


def test_events_with_data_filters_and_paging(storage: Storage) -> None:
    storage.events.add(T0, "state", "station 1: A -> B", station=1, data={"from": "A", "to": "B"})
    storage.events.add(T0 + 1, "decision", "paused: station 1 has priority", station=2)
    storage.events.add(T0 + 2, "state", "station 1: B -> C", station=1, data={"from": "B", "to": "C"})
    page = storage.events.list(kind="state")
    assert page.total == 2 and [e.data["to"] for e in page.items] == ["C", "B"]
    assert [e.message for e in storage.events.list(station=2).items] == ["paused: station 1 has priority"]
    assert [e.t for e in storage.events.list(start=T0 + 1, end=T0 + 2).items] == [T0 + 1]
    assert storage.events.list(limit=1, offset=2).items[0].t == T0
    with pytest.raises(ValueError, match="data must be JSON-serialisable"):
        storage.events.add(T0, "state", "x", data={"when": object()})
    with pytest.raises(ValueError, match="message must not be empty"):
        storage.events.add(T0, "state", "")
    assert storage.events.list().total == 3


def test_faults_history_and_active_set(storage: Storage) -> None:
    storage.faults.record(T0, 1, "RCD_DC", True, "6 mA DC residual current")
    storage.faults.record(T0 + 5, 2, "OverTemperature", True, "75 C: paused")
    storage.faults.record(T0 + 9, 1, "RCD_DC", False, "cleared by unplug")
    storage.faults.record(T0 + 20, 1, "RCD_DC", True, "tripped again")
    active = storage.faults.active()
    assert [(f.station, f.code, f.message) for f in active] == [
        (1, "RCD_DC", "tripped again"), (2, "OverTemperature", "75 C: paused")]
    assert all(f.active for f in active)
    history = storage.faults.list(station=1)
    assert history.total == 3 and [f.active for f in history.items] == [True, False, True]
    with pytest.raises(ValueError, match="active must be true or false"):
        storage.faults.record(T0, 1, "RCD_DC", 1, "x")


def test_audit_log(storage: Storage) -> None:
    storage.audit.add(T0, "admin", "set_mode", "station/1", {"mode": "solar"})
    storage.audit.add(T0 + 1, "token:garage-display", "clear_fault", "station/2")
    entries = storage.audit.list()
    assert [(a.actor, a.action, a.details) for a in entries.items] == [
        ("token:garage-display", "clear_fault", None), ("admin", "set_mode", {"mode": "solar"})]
    assert storage.audit.list(actor="admin").total == 1


def _entry(seq: int, t: float, message: str = "", station: int | None = None) -> dict:
    return {"seq": seq, "t": t, "level": "info", "station": station, "message": message or f"line {seq}"}


def test_pilot_log_cursor_and_restart_detection(storage: Storage) -> None:
    assert storage.pilot_logs.cursor() == 0
    assert storage.pilot_logs.store([_entry(1, 0.1), _entry(2, 0.2), _entry(3, 5.0)], last_seq=3) == 3
    # a reconnect to the same pilot: fetching from 0 again stores nothing twice
    assert storage.pilot_logs.store([_entry(1, 0.1), _entry(2, 0.2), _entry(3, 5.0), _entry(4, 6.0)], last_seq=4) == 4
    assert storage.pilot_logs.list().total == 4
    # the pilot restarted: its last_seq went back below ours, so fetch again from 0
    assert storage.pilot_logs.store([], last_seq=2) == 0
    assert storage.pilot_logs.cursor() == 0
    assert storage.pilot_logs.store([_entry(1, 0.1, "pilot started"), _entry(2, 0.3)], last_seq=2) == 2
    newest = storage.pilot_logs.list().items
    assert [(e.boot, e.seq) for e in newest] == [(2, 2), (2, 1), (1, 4), (1, 3), (1, 2), (1, 1)]
    assert newest[1].message == "pilot started"


def test_pilot_restart_seen_from_the_entries_themselves(storage: Storage) -> None:
    """A restarted pilot that logged more than we hold: same seqs, different lines."""
    storage.pilot_logs.store([_entry(1, 0.1), _entry(2, 0.2)], last_seq=2)
    assert storage.pilot_logs.store([_entry(1, 0.4, "pilot started"), _entry(2, 0.5), _entry(3, 0.6)], last_seq=3) == 3
    assert [(e.boot, e.seq) for e in storage.pilot_logs.list().items][:3] == [(2, 3), (2, 2), (2, 1)]


def test_pilot_boot_key(storage: Storage) -> None:
    storage.pilot_logs.store([_entry(1, 0.1)], boot="run-a")
    storage.pilot_logs.store([_entry(2, 0.2)], boot="run-a")
    assert storage.pilot_logs.store([_entry(5, 0.2)], boot="run-b") == 5
    assert [(e.boot, e.seq) for e in storage.pilot_logs.list().items] == [(2, 5), (1, 2), (1, 1)]


def test_bad_pilot_log_entries_store_nothing(storage: Storage) -> None:
    with pytest.raises(ValueError, match="needs 'message'"):
        storage.pilot_logs.store([_entry(1, 0.1), {"seq": 2, "t": 0.2, "level": "info"}])
    with pytest.raises(ValueError, match="seq must be >= 1"):
        storage.pilot_logs.store([_entry(0, 0.1)])
    with pytest.raises(ValueError, match="must be an object"):
        storage.pilot_logs.store(["line"])
    assert storage.pilot_logs.list().total == 0


def test_prices_replace_a_range_and_trim_its_edges(storage: Storage) -> None:
    hour = 3600.0
    storage.prices.replace(T0, T0 + 4 * hour, [(T0 + k * hour, T0 + (k + 1) * hour, 0.30) for k in range(4)])
    # 15-minute slots for the middle 90 minutes: the hours on either side are trimmed, not lost
    quarter = [PriceSlot(T0 + 1.5 * hour + k * 900, T0 + 1.5 * hour + (k + 1) * 900, 0.10 - k / 100) for k in range(6)]
    assert storage.prices.replace(T0 + 1.5 * hour, T0 + 3 * hour, quarter) == 6
    slots = storage.prices.slots(T0, T0 + 4 * hour)
    assert [(s.start - T0, s.end - T0, s.price) for s in slots] == [
        (0, hour, 0.30), (hour, 1.5 * hour, 0.30),
        *[(1.5 * hour + k * 900, 1.5 * hour + (k + 1) * 900, pytest.approx(0.10 - k / 100)) for k in range(6)],
        (3 * hour, 4 * hour, 0.30)]
    storage.prices.replace(T0 + 0.5 * hour, T0 + 0.75 * hour, [])  # a hole inside one slot splits it
    split = storage.prices.slots(T0, T0 + hour)
    assert [(s.start - T0, s.end - T0) for s in split] == [(0, 0.5 * hour), (0.75 * hour, hour)]


def test_bad_price_slots_change_nothing(storage: Storage) -> None:
    storage.prices.replace(T0, T0 + 3600, [(T0, T0 + 3600, 0.25)])
    with pytest.raises(ValueError, match="overlap"):
        storage.prices.replace(T0, T0 + 3600, [(T0, T0 + 1800, 0.1), (T0 + 900, T0 + 3600, 0.2)])
    with pytest.raises(ValueError, match="within"):
        storage.prices.replace(T0, T0 + 3600, [(T0, T0 + 7200, 0.1)])
    with pytest.raises(ValueError, match="price must be finite"):
        storage.prices.replace(T0, T0 + 3600, [(T0, T0 + 3600, float("inf"))])
    assert [s.price for s in storage.prices.slots(T0, T0 + 3600)] == [0.25]


def test_settings_defaults_types_and_raw_values(storage: Storage) -> None:
    threshold = Setting("prices.threshold", float, 0.2)
    public_read = Setting("auth.public_read", bool, False)
    assert storage.settings.get(threshold) == 0.2 and storage.settings.get(public_read) is False
    storage.settings.set(threshold, 1, T0)  # an int is a fine float
    assert storage.settings.get(threshold) == 1.0 and isinstance(storage.settings.get(threshold), float)
    with pytest.raises(ValueError, match="setting auth.public_read must be bool, not str"):
        storage.settings.set(public_read, "yes", T0)  # type: ignore[misc]
    with pytest.raises(ValueError, match="must be int, not bool"):
        storage.settings.set(Setting("x.count", int, 0), True, T0)
    storage.settings.set_value("site", {"line_limit_a": 32, "stations": [1, 2]}, T0)
    assert storage.settings.get_value("site") == {"line_limit_a": 32, "stations": [1, 2]}
    assert storage.settings.get_value("missing", "fallback") == "fallback"
    storage.settings.delete("prices.threshold")
    assert storage.settings.get(threshold) == 0.2
    with pytest.raises(ValueError, match="value must be JSON-serialisable"):
        storage.settings.set_value("site", float("nan"), T0)
    with pytest.raises(ValueError, match="key must be lower-case"):
        storage.settings.get_value("Site Name")
